#include "seed_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "engine/mono_clock.hpp"
#include "input_files.hpp"
#include "report/status_lines.hpp"
#include "report/summaries.hpp"
#include "resume_files.hpp"
#include "seed_run.hpp"
#include "seed_torrents.hpp"
#include "seed_trackers.hpp"
#include "service_notify.hpp"
#include "signal_watcher.hpp"
#include "torrents_dir_watch.hpp"
#include "uring/fd_limit.hpp"
#include "uring/peers/piece_store.hpp"

namespace swarmdial {

namespace {

// Loads the torrents; a bad --torrent or --data is exit 2, a bad file in
// --torrents-dir is skipped with a note.
void load_torrents(SeedNode& in) {
  std::set<InfoHash> seen;
  auto add = [&](TorrentSource src, bool from_dir) {
    std::string why;
    std::string file = src.torrent_file;
    auto t = load_torrent(in.cfg, std::move(src), from_dir, why);
    if (!t) {
      if (!from_dir) throw UsageError(why);
      std::fprintf(stderr, "swarmdial seed: skipping %s\n", why.c_str());
      return;
    }
    if (!seen.insert(t->meta.info_hash).second) {
      std::string dup =
          file + ": the same torrent (" + info_hash_hex(t->meta.info_hash) + ") is already seeded";
      if (!from_dir) throw UsageError("--torrent " + dup);
      std::fprintf(stderr, "swarmdial seed: skipping %s\n", dup.c_str());
      return;
    }
    in.torrents.push_back(std::move(t));
  };
  for (const auto& src : in.cfg.torrents) add(src, false);
  if (!in.cfg.torrents_dir.empty())
    for (auto& f : list_torrents_dir(in.cfg.torrents_dir)) add({f, ""}, true);
  // A watched directory may start empty: torrents come as they are put there.
  if (in.torrents.empty() && in.cfg.torrents_dir.empty())
    throw UsageError("--torrents-dir " + in.cfg.torrents_dir + ": no torrent with its data");
  uint32_t loaded = static_cast<uint32_t>(in.torrents.size());
  if (in.cfg.max_torrents == 0)
    in.cfg.max_torrents =
        in.cfg.torrents_dir.empty() ? loaded : std::max<uint32_t>(1024, 2 * loaded);
  else if (in.cfg.max_torrents < loaded)
    throw UsageError("--max-torrents " + std::to_string(in.cfg.max_torrents) + ": " +
                     std::to_string(loaded) + " torrents are to be seeded from the start");
}

// Returns 0 (--help printed), 2 (a bad flag or file, one line printed) or -1 to go on.
int parse(const std::vector<std::string>& args, SeedNode& in) {
  std::string help;
  try {
    auto parsed = parse_seed_args(args, help);
    if (!parsed) {
      std::cout << help;
      return 0;
    }
    in.cfg = *parsed;
    load_torrents(in);
    if (!in.cfg.state_dir.empty()) prepare_state_dir(in.cfg.state_dir);
    in.peers = in.cfg.peers;
    if (!in.cfg.peers_file.empty()) {
      for (ListedPeer& p : load_peer_list_file(in.cfg.peers_file, "peers-file")) {
        if (p.torrent)
          in.listed.push_back(p);
        else
          in.peers.push_back(p.peer);
      }
    }
  } catch (const UsageError& e) {
    std::cerr << "swarmdial seed: " << e.what() << "\n";
    return 2;
  }
  return -1;
}

// Opens and verifies every torrent's data. With one torrent named by flags,
// a torrent with nothing to seed ends the run (its exit code); otherwise it
// is left out and the others seed (a watched directory may seed none yet).
int open_stores(SeedNode& in, bool show_status) {
  bool alone = in.torrents.size() == 1 && in.cfg.torrents_dir.empty();
  std::vector<std::unique_ptr<LoadedTorrent>> kept;
  for (auto& t : in.torrents) {
    int rc = open_and_verify(in.cfg, *t, show_status);
    if (rc >= 0 && alone) return rc;
    if (rc >= 0) {
      std::fprintf(stderr, "swarmdial seed: not seeding %s\n", t->source.torrent_file.c_str());
      continue;
    }
    kept.push_back(std::move(t));
  }
  in.torrents = std::move(kept);
  if (in.torrents.empty() && in.cfg.torrents_dir.empty()) {
    std::cerr << "swarmdial seed: no torrent has a piece to seed\n";
    return 1;
  }
  return -1;
}

// " trackers 3/4 ok, 40 peers" over every torrent's trackers.
std::string trackers_suffix(SeedNode& in) {
  size_t working = 0, all = 0;
  uint64_t peers = 0;
  bool any = false;
  std::lock_guard lock(in.mu);
  for (const auto& t : in.torrents) {
    if (!t->trackers->any()) continue;
    any = true;
    for (const auto& st : t->trackers->states()) {
      working += st.working;
      ++all;
    }
    peers += t->trackers->peers_new();
  }
  if (!any) return {};
  return " trackers " + std::to_string(working) + "/" + std::to_string(all) + " ok, " +
         std::to_string(peers) + " peers";
}

std::string what_is_seeded(SeedNode& in) {
  std::lock_guard lock(in.mu);
  if (in.torrents.size() == 1 && in.cfg.torrents_dir.empty()) {
    const Metainfo& m = in.torrents[0]->meta;
    return m.name + " (" + info_hash_hex(m.info_hash) + ", " + std::to_string(m.num_pieces) +
           " pieces)";
  }
  uint64_t pieces = 0;
  for (const auto& t : in.torrents) pieces += t->meta.num_pieces;
  std::string what =
      std::to_string(in.torrents.size()) + " torrents (" + std::to_string(pieces) + " pieces)";
  if (!in.cfg.torrents_dir.empty()) what += ", watching " + in.cfg.torrents_dir;
  return what;
}

SeedHooks console_hooks(SeedNode& in, bool show_status) {
  SeedHooks hooks;
  if (show_status)
    hooks.every_second = [&in](const SeedTick& t) {
      std::fprintf(stderr, "%s%s\n", seed_status_line(t).c_str(), trackers_suffix(in).c_str());
    };
  hooks.on_listening = [&in](uint16_t port) {
    in.listen_port = port;
    if (!in.cfg.quiet)
      std::fprintf(stderr, "seeding %s on %s port %u\n", what_is_seeded(in).c_str(),
                   format_ip(in.cfg.listen->ip).c_str(), port);
  };
  return hooks;
}

// The dials the run starts with: each torrent's peers (flags, the file), in
// its slot, and the file's lines for torrents not seeded here counted.
void first_dials(const SeedNode& in, std::vector<DialTarget>& dials,
                 std::vector<PeerSource>& sources) {
  std::set<InfoHash> seeded;
  for (uint32_t i = 0; i < in.torrents.size(); ++i) {
    size_t from = dials.size();
    in.dials_for(in.torrents[i]->meta, dials, sources);
    for (size_t k = from; k < dials.size(); ++k) dials[k].tag = i;
    seeded.insert(in.torrents[i]->meta.info_hash);
  }
  uint64_t not_seeded = 0;
  for (const ListedPeer& p : in.listed) not_seeded += p.torrent && !seeded.count(*p.torrent);
  if (not_seeded)
    std::fprintf(stderr,
                 "swarmdial seed: --peers-file: %lu peers of torrents not seeded here, left out\n",
                 static_cast<unsigned long>(not_seeded));
}

SeedTorrentReport torrent_report(const LoadedTorrent& t, const SeedResult& result) {
  SeedTorrentReport tr;
  tr.meta = &t.meta;
  tr.torrent_file = t.source.torrent_file;
  tr.data_path = t.source.data_path;
  tr.pieces_verified = t.store ? t.store->have_count() : t.pieces_at_removal;
  tr.corrupt_pieces = t.bad;
  tr.resume = t.resume ? &*t.resume : nullptr;
  if (t.final) {
    tr.totals = t.final->totals;
    tr.peer_book = t.final->peer_book;
  } else {
    if (t.slot < result.torrents.size()) tr.totals = result.torrents[t.slot];
    if (t.slot < result.peer_book.size()) tr.peer_book = result.peer_book[t.slot];
  }
  tr.trackers = t.trackers->states();
  tr.tracker_peers_new = t.trackers->peers_new();
  tr.added_at_s = t.added_at_s;
  tr.removed_at_s = t.removed_at_s;
  return tr;
}

int write_summary(SeedNode& in, const SeedResult& result, const SignalWatcher& signals) {
  const SeedConfig& cfg = in.cfg;
  SeedReport report;
  report.ctx.command = "seed";
  report.ctx.backend = backend_name(cfg.backend);
  report.ctx.with_wire = cfg.backend == Backend::kDpdk;
  report.ctx.duration_s = result.duration_s;
  report.ctx.interrupted = signals.fired();
  report.ctx.forced = signals.forced();
  report.ctx.adaptive = cfg.half_open_auto;
  report.encryption = cfg.encryption;
  report.dial_order = cfg.dial_order;
  report.result = &result;
  report.announces = in.announces->stats();
  report.watching = !cfg.torrents_dir.empty();
  report.torrents_added = in.added.load();
  report.torrents_removed = in.removed_count.load();
  // Those seeded to the end, then those removed on the way, in the order they went.
  for (const auto* list : {&in.torrents, &in.removed})
    for (const auto& t : *list) {
      report.with_trackers |= t->trackers->any();
      report.torrents.push_back(torrent_report(*t, result));
    }
  if (std::string err = write_summary_file(cfg.summary_file, seed_summary(report)); !err.empty()) {
    std::cerr << "swarmdial seed: " << err << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int run_seed_command(const std::vector<std::string>& args) {
  SeedNode in;
  if (int rc = parse(args, in); rc >= 0) return rc;
  const SeedConfig& cfg = in.cfg;
  bool show_status = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));
  // From here on a signal is a request to stop and write the summary, even
  // while the pieces are verified (the run then ends as soon as it starts).
  // SIGHUP rereads --torrents-dir.
  SignalWatcher::block_signals(true);
  std::atomic<bool> stop{false}, abort{false}, reload{false};
  SignalWatcher signals(stop, abort, &reload);

  // Every data file is opened now and kept open: a torrent of thousands of
  // files under a soft limit of 1024 (a common default) would otherwise
  // find the files past it "missing". The backend checks the whole need
  // (peers, files, dial slots) against the hard limit later.
  try {
    uint64_t files = 0;
    for (const auto& t : in.torrents) files += PieceStore::descriptors_needed(t->meta);
    ensure_fd_limit(files + 64, "keeping " + std::to_string(files) + " data files open");
  } catch (const UsageError& e) {
    std::cerr << "swarmdial seed: " << e.what() << "\n";
    return 2;
  }
  if (int rc = open_stores(in, show_status); rc >= 0) return rc;

  std::random_device rd;
  in.peer_id = make_peer_id((uint64_t{rd()} << 32) ^ rd());
  SeedHooks hooks = console_hooks(in, show_status);
  std::vector<SeedTorrent> run_torrents;
  std::vector<DialTarget> dial_list;
  std::vector<PeerSource> dial_sources;
  first_dials(in, dial_list, dial_sources);
  in.announces = std::make_unique<AnnounceService>(
      AnnounceLimits{.per_tracker = cfg.announce_limit_per_tracker, .total = cfg.announce_limit});
  for (uint32_t i = 0; i < in.torrents.size(); ++i) {
    LoadedTorrent& t = *in.torrents[i];
    t.slot = i;
    t.trackers = std::make_unique<SeedTrackers>(*in.announces, cfg, t.meta, t.store->have_count(),
                                                in.peer_id, in.peers, i);
    run_torrents.push_back({&t.meta, t.store.get()});
  }
  SeedTrackers::install(
      [&in] {
        std::lock_guard lock(in.mu);
        std::vector<SeedTrackers*> all;
        for (auto& t : in.torrents) all.push_back(t->trackers.get());
        return all;
      },
      hooks);
  // Around the trackers' own: a torrent added from now on is not announced,
  // and every one seeded when they look gets its `stopped`.
  hooks.before_stop = [&in, previous = hooks.before_stop](bool forced) {
    {
      std::lock_guard lock(in.mu);
      in.closing = true;
    }
    if (previous) previous(forced);
  };
  hooks.on_started = [&in, previous = hooks.on_started](PeerInbox& inbox) {
    {
      std::lock_guard lock(in.mu);
      in.inbox = &inbox;
    }
    if (previous) previous(inbox);
  };
  hooks.add_metrics = [&in, previous = hooks.add_metrics](SeedCounters& s) {
    if (previous) previous(s);
    AnnounceServiceStats a = in.announces->stats();
    s.with_announces = !s.trackers.empty();
    s.announces_queued = a.queued;
    s.announces_in_flight = a.in_flight;
    s.announces_started = a.started;
    s.announces_late = a.late;
    s.with_torrent_changes = !in.cfg.torrents_dir.empty();
    s.torrents_added = in.added.load();
    s.torrents_removed = in.removed_count.load();
  };
  std::unique_ptr<TorrentsDirWatch> dir_watch;
  if (!cfg.torrents_dir.empty()) {
    in.start_ns = mono_ns();
    dir_watch = std::make_unique<TorrentsDirWatch>(in, reload);
    hooks.dynamic_targets = true;  // torrents to come may bring peers to dial
    hooks.on_files_look = [&dir_watch](TorrentSlots& slots) { dir_watch->look(slots); };
  }
  ServiceNotifier notifier;
  notify_from_hooks(hooks, notifier, "seeding " + what_is_seeded(in),
                    [&in](const SeedTick& t) { return seed_status_line(t) + trackers_suffix(in); });
  SeedResult result;
  if (int rc = run_seeding(cfg, run_torrents, in.peer_id, dial_list, {stop, abort}, hooks, result,
                           &dial_sources);
      rc != 0)
    return rc;
  // Files rehashed or withheld while seeding are in the state for the next start.
  for (auto& t : in.torrents) save_state(*t);

  if (!cfg.summary_file.empty())
    if (int rc = write_summary(in, result, signals); rc != 0) return rc;
  if (show_status)
    std::fprintf(stderr, "served %s in %lu pieces to %lu peers\n",
                 human_bytes(static_cast<double>(result.pool.bytes_up)).c_str(),
                 static_cast<unsigned long>(result.pool.pieces_served),
                 static_cast<unsigned long>(result.pool.peers_served));
  return 0;
}

}  // namespace swarmdial
