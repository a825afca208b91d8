#include "torrents_dir_watch.hpp"

#include <limits.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "engine/mono_clock.hpp"
#include "uring/fd_limit.hpp"

namespace swarmdial {

namespace {
constexpr int64_t kStoppedGraceNs = 3'000'000'000;

bool is_torrent_name(const char* name) {
  size_t n = std::strlen(name);
  return n > 8 && std::strcmp(name + n - 8, ".torrent") == 0;
}
}  // namespace

TorrentsDirWatch::TorrentsDirWatch(SeedNode& node, std::atomic<bool>& reload)
    : node_(node), reload_(reload) {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ >= 0 && ::inotify_add_watch(inotify_fd_, node_.cfg.torrents_dir.c_str(),
                                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                                                  IN_DELETE | IN_ATTRIB) < 0) {
    ::close(inotify_fd_);
    inotify_fd_ = -1;
  }
  if (inotify_fd_ < 0)
    std::fprintf(stderr,
                 "swarmdial seed: --torrents-dir %s: no inotify (%s); looking every second\n",
                 node_.cfg.torrents_dir.c_str(), std::strerror(errno));
  // What is there now and was skipped at start is not named again until it changes.
  std::set<std::string> seeded;
  for (const auto& t : node_.torrents)
    if (t->from_dir) seeded.insert(t->source.torrent_file);
  try {
    for (const std::string& f : list_torrents_dir(node_.cfg.torrents_dir))
      if (!seeded.count(f))
        if (auto st = stamp_of(f)) skipped_[f] = *st;
  } catch (const UsageError&) {
  }
}

TorrentsDirWatch::~TorrentsDirWatch() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

double TorrentsDirWatch::now_s() const {
  return static_cast<double>(mono_ns() - node_.start_ns) / 1e9;
}

bool TorrentsDirWatch::directory_changed() {
  if (inotify_fd_ < 0) return true;
  bool changed = false;
  alignas(inotify_event) char buf[16 * (sizeof(inotify_event) + NAME_MAX + 1)];
  for (;;) {
    ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t at = 0; at < n;) {
      auto* e = reinterpret_cast<inotify_event*>(buf + at);
      if ((e->mask & IN_Q_OVERFLOW) || (e->len > 0 && is_torrent_name(e->name))) changed = true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  return changed;
}

void TorrentsDirWatch::look(TorrentSlots& slots) {
  bool everything = reload_.exchange(false);
  if (everything) std::fprintf(stderr, "swarmdial seed: SIGHUP: reading --torrents-dir again\n");
  if (directory_changed() || everything) rescan(slots, everything);
}

void TorrentsDirWatch::rescan(TorrentSlots& slots, bool everything) {
  std::vector<std::string> files;
  try {
    files = list_torrents_dir(node_.cfg.torrents_dir);
  } catch (const UsageError& e) {
    // Gone or unreadable for a moment: what is seeded stays seeded.
    std::fprintf(stderr, "swarmdial seed: %s\n", e.what());
    return;
  }
  std::set<std::string> present(files.begin(), files.end());
  if (everything) skipped_.clear();
  std::erase_if(skipped_, [&](const auto& kv) { return !present.count(kv.first); });

  // Gone, or rewritten with another torrent.
  std::vector<std::pair<LoadedTorrent*, std::string>> leaving;
  std::set<std::string> seeded;
  {
    std::lock_guard lock(node_.mu);
    for (auto& t : node_.torrents) {
      if (!t->from_dir) continue;
      const std::string& path = t->source.torrent_file;
      if (!present.count(path)) {
        leaving.emplace_back(t.get(), path + " was removed");
        continue;
      }
      auto st = stamp_of(path);
      if (st && *st != t->stamp) {
        try {
          if (load_torrent_file(path).info_hash != t->meta.info_hash) {
            leaving.emplace_back(t.get(), path + " now holds another torrent");
            continue;
          }
          t->stamp = *st;  // the same torrent, saved again
        } catch (const UsageError&) {
          // Half written, most likely: looked at again when it is closed.
        }
      }
      seeded.insert(path);
    }
  }
  for (auto& [t, why] : leaving) remove(slots, *t, why);
  for (const std::string& f : files) {
    if (seeded.count(f)) continue;
    auto st = stamp_of(f);
    if (!st) continue;
    if (auto it = skipped_.find(f); it != skipped_.end() && it->second == *st) continue;
    add(slots, f);
  }
}

void TorrentsDirWatch::skip(const std::string& path, const std::string& why) {
  std::fprintf(stderr, "swarmdial seed: skipping %s\n", why.c_str());
  if (auto st = stamp_of(path)) skipped_[path] = *st;
}

void TorrentsDirWatch::add(TorrentSlots& slots, const std::string& path) {
  const SeedConfig& cfg = node_.cfg;
  std::string why;
  std::unique_ptr<LoadedTorrent> t = load_torrent(cfg, {path, ""}, true, why);
  if (!t) return skip(path, why);
  uint64_t files = 0;
  {
    std::lock_guard lock(node_.mu);
    for (const auto& o : node_.torrents) {
      if (o->meta.info_hash == t->meta.info_hash)
        return skip(path, path + ": the same torrent (" + info_hash_hex(t->meta.info_hash) +
                              ") is already seeded");
      files += PieceStore::descriptors_needed(o->meta);
    }
  }
  // Its files stay open while it is seeded, beside the peers' sockets.
  uint64_t own = PieceStore::descriptors_needed(t->meta);
  try {
    ensure_fd_limit(files + own + cfg.max_peers + 256,
                    "keeping " + std::to_string(files + own) + " data files open");
  } catch (const UsageError& e) {
    return skip(path, path + ": " + e.what());
  }
  auto slot = slots.reserve(mono_ns());
  if (!slot)
    return skip(path, path + ": every one of --max-torrents " + std::to_string(slots.size()) +
                          " is in use (a slot freed is given out again after a while)");
  if (open_and_verify(cfg, *t, false) >= 0) {
    slots.unreserve(*slot);
    return skip(path, path + ": nothing to seed in it");
  }
  std::vector<DialTarget> dials;
  std::vector<PeerSource> sources;
  node_.dials_for(t->meta, dials, sources);
  t->slot = *slot;
  t->added_at_s = now_s();
  t->trackers = std::make_unique<SeedTrackers>(
      *node_.announces, cfg, t->meta, t->store->have_count(), node_.peer_id, node_.peers, *slot);
  LoadedTorrent& added = *t;
  std::lock_guard lock(node_.mu);
  if (node_.closing) {  // the run is ending: not worth starting now
    slots.unreserve(*slot);
    return;
  }
  node_.torrents.push_back(std::move(t));
  node_.added.fetch_add(1);
  // Before its trackers start: the run takes their peers once it seeds it.
  slots.add(*slot, {&added.meta, added.store.get()}, std::move(dials), std::move(sources));
  if (node_.inbox) added.trackers->start_late(*node_.inbox, node_.listen_port);
  std::fprintf(stderr, "swarmdial seed: seeding %s (%s, %u of %u pieces) from %s\n",
               added.meta.name.c_str(), info_hash_hex(added.meta.info_hash).c_str(),
               added.store->have_count(), added.meta.num_pieces, path.c_str());
}

void TorrentsDirWatch::remove(TorrentSlots& slots, LoadedTorrent& t, const std::string& why) {
  std::optional<RemovedTorrent> final = slots.remove(t.slot);
  if (!final) return;  // the run ended first: it is in the run's figures
  t.trackers->stop_now(kStoppedGraceNs);
  save_state(t);
  t.final = final;
  t.removed_at_s = now_s();
  t.pieces_at_removal = t.store->have_count();
  t.store.reset();  // its files are closed
  {
    std::lock_guard lock(node_.mu);
    auto it = std::find_if(node_.torrents.begin(), node_.torrents.end(),
                           [&](const auto& p) { return p.get() == &t; });
    node_.removed.push_back(std::move(*it));
    node_.torrents.erase(it);
  }
  node_.removed_count.fetch_add(1);
  slots.release(t.slot, mono_ns());
  std::fprintf(stderr, "swarmdial seed: stopped seeding %s (%s): %s\n", t.meta.name.c_str(),
               info_hash_hex(t.meta.info_hash).c_str(), why.c_str());
}

}  // namespace swarmdial
