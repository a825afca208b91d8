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

#include "input_files.hpp"
#include "report/status_lines.hpp"
#include "report/summaries.hpp"
#include "resume_files.hpp"
#include "seed_run.hpp"
#include "seed_trackers.hpp"
#include "service_notify.hpp"
#include "signal_watcher.hpp"
#include "uring/fd_limit.hpp"
#include "uring/peers/piece_store.hpp"

namespace swarmdial {

namespace {

// One torrent of the run, from its flags or its directory to its summary.
struct LoadedTorrent {
  TorrentSource source;
  Metainfo meta;
  std::unique_ptr<PieceStore> store;
  std::vector<uint32_t> bad;  // pieces that failed verification, never served
  std::optional<ResumeReport> resume;
  std::unique_ptr<SeedTrackers> trackers;
};

struct SeedInput {
  SeedConfig cfg;
  // Before the torrents: their announcers run on it, and stop before it does.
  std::unique_ptr<AnnounceService> announces;
  // Held by pointer: a store keeps a reference to its torrent's metainfo.
  std::vector<std::unique_ptr<LoadedTorrent>> torrents;
  // --peers, and --peers-file lines without an info-hash: dialled for every torrent.
  std::vector<Endpoint> peers;
  std::vector<ListedPeer> listed;  // --peers-file lines that name their torrent
};

// Every *.torrent in --torrents-dir, by name. One that cannot be read, or
// whose data is not under the data root, is named and skipped: the others
// seed.
std::vector<TorrentSource> scan_torrents_dir(const SeedConfig& cfg) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(cfg.torrents_dir, ec);
  if (ec) throw UsageError("--torrents-dir " + cfg.torrents_dir + ": " + ec.message());
  std::vector<std::string> files;
  for (const auto& e : it)
    if (e.path().extension() == ".torrent" && e.is_regular_file(ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<TorrentSource> out;
  for (const auto& f : files) out.push_back({f, ""});  // data: found once the name is known
  return out;
}

// Loads the torrents; a bad --torrent or --data is exit 2, a bad file in
// --torrents-dir is skipped with a note.
void load_torrents(SeedInput& in) {
  std::set<InfoHash> seen;
  auto add = [&](TorrentSource src, bool from_dir) {
    auto owned = std::make_unique<LoadedTorrent>();
    LoadedTorrent& t = *owned;
    try {
      t.meta = load_torrent_file(src.torrent_file);
    } catch (const UsageError& e) {
      if (!from_dir) throw;
      std::fprintf(stderr, "swarmdial seed: skipping %s\n", e.what());
      return;
    }
    if (from_dir) {
      // The data root is a save path, as clients have one: the torrent's
      // name (its file, or its directory of files) is found in it.
      src.data_path = in.cfg.data_root.empty() ? in.cfg.torrents_dir : in.cfg.data_root;
      std::string named = src.data_path + "/" + t.meta.name;
      if (::access(named.c_str(), R_OK) != 0) {
        std::fprintf(stderr, "swarmdial seed: skipping %s: no data at %s\n",
                     src.torrent_file.c_str(), named.c_str());
        return;
      }
    } else if (::access(src.data_path.c_str(), R_OK) != 0) {
      throw UsageError("--data " + src.data_path + ": cannot read");
    }
    if (!seen.insert(t.meta.info_hash).second) {
      std::string why = src.torrent_file + ": the same torrent (" +
                        info_hash_hex(t.meta.info_hash) + ") is already seeded";
      if (!from_dir) throw UsageError("--torrent " + why);
      std::fprintf(stderr, "swarmdial seed: skipping %s\n", why.c_str());
      return;
    }
    t.source = std::move(src);
    in.torrents.push_back(std::move(owned));
  };
  for (const auto& src : in.cfg.torrents) add(src, false);
  if (!in.cfg.torrents_dir.empty())
    for (auto& src : scan_torrents_dir(in.cfg)) add(std::move(src), true);
  if (in.torrents.empty())
    throw UsageError("--torrents-dir " + in.cfg.torrents_dir + ": no torrent with its data");
}

// Returns 0 (--help printed), 2 (a bad flag or file, one line printed) or -1 to go on.
int parse(const std::vector<std::string>& args, SeedInput& in) {
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

// With --state-dir: the saved state, if one exists for this torrent and
// fits it (a state that does not is named, and every piece is hashed).
std::optional<ResumeData> load_state(const SeedConfig& cfg, const Metainfo& meta,
                                     ResumeReport& report) {
  report.state_file = resume_path(cfg.state_dir, meta);
  LoadedResume l = load_resume(report.state_file, meta);
  report.loaded = l.data.has_value();
  report.ignored = l.problem;
  if (!l.problem.empty())
    std::cerr << "swarmdial seed: ignoring " << report.state_file << ": " << l.problem
              << "; hashing every piece\n";
  return std::move(l.data);
}

void save_state(const PieceStore& store, ResumeReport& report) {
  report.save_error = save_resume(report.state_file, store.resume_data());
  if (!report.save_error.empty())
    std::cerr << "swarmdial seed: cannot save the resume state: " << report.save_error << "\n";
}

// Verifies every piece on all cores (with a saved state, only those of
// files that changed). Returns -1 to seed it, else the exit code that
// nothing to seed in it means (2: no data file there, 1: no piece good).
int verify(const SeedConfig& cfg, LoadedTorrent& t, bool show_status) {
  const Metainfo& meta = t.meta;
  PieceStore& store = *t.store;
  if (store.missing_files() == meta.files.size()) {
    std::cerr << "swarmdial seed: --data " << t.source.data_path << ": none of the torrent's "
              << meta.files.size() << " files is there\n";
    return 2;
  }
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (!cfg.state_dir.empty()) t.resume.emplace();
  std::optional<ResumeData> saved = t.resume ? load_state(cfg, meta, *t.resume) : std::nullopt;
  t.bad = store.verify(
      cores,
      [&](uint32_t done, uint32_t total) {
        if (show_status)
          std::fprintf(stderr, "\rverifying %s: %u/%u pieces (%u%%)", meta.name.c_str(), done,
                       total, total ? static_cast<unsigned>(uint64_t{done} * 100 / total) : 100);
      },
      saved ? &*saved : nullptr);
  if (show_status) std::fprintf(stderr, "\n");
  if (t.resume) {
    t.resume->pieces_hashed = store.hashed_count();
    t.resume->pieces_from_state = meta.num_pieces - store.hashed_count();
    if (saved && !cfg.quiet)
      std::fprintf(stderr, "resumed %s from %s: %u pieces as saved, %u hashed\n", meta.name.c_str(),
                   t.resume->state_file.c_str(), t.resume->pieces_from_state,
                   t.resume->pieces_hashed);
    save_state(store, *t.resume);
  }
  if (!t.bad.empty()) {
    std::string list;
    for (size_t i = 0; i < t.bad.size() && i < 50; ++i)
      list += (i ? ", " : "") + std::to_string(t.bad[i]);
    if (t.bad.size() > 50) list += ", ...";
    std::cerr << "swarmdial seed: " << meta.name << ": " << t.bad.size() << " of "
              << meta.num_pieces << " pieces failed verification and will not be served: " << list
              << "\n";
  }
  if (store.have_count() == 0) {
    std::cerr << "swarmdial seed: " << meta.name << ": no piece verified: nothing to seed\n";
    return 1;
  }
  return -1;
}

// Opens and verifies every torrent's data. With one torrent, a torrent with
// nothing to seed ends the run (its exit code); with several it is left
// out and the others seed.
int open_stores(SeedInput& in, bool show_status) {
  for (auto& t : in.torrents) t->store = std::make_unique<PieceStore>(t->meta, t->source.data_path);
  bool alone = in.torrents.size() == 1;
  std::vector<std::unique_ptr<LoadedTorrent>> kept;
  for (auto& t : in.torrents) {
    int rc = verify(in.cfg, *t, show_status);
    if (rc >= 0 && alone) return rc;
    if (rc >= 0) {
      std::fprintf(stderr, "swarmdial seed: not seeding %s\n", t->source.torrent_file.c_str());
      continue;
    }
    kept.push_back(std::move(t));
  }
  in.torrents = std::move(kept);
  if (in.torrents.empty()) {
    std::cerr << "swarmdial seed: no torrent has a piece to seed\n";
    return 1;
  }
  return -1;
}

// " trackers 3/4 ok, 40 peers" over every torrent's trackers.
std::string trackers_suffix(const SeedInput& in) {
  size_t working = 0, all = 0;
  uint64_t peers = 0;
  bool any = false;
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

std::string what_is_seeded(const SeedInput& in) {
  if (in.torrents.size() == 1) {
    const Metainfo& m = in.torrents[0]->meta;
    return m.name + " (" + info_hash_hex(m.info_hash) + ", " + std::to_string(m.num_pieces) +
           " pieces)";
  }
  uint64_t pieces = 0;
  for (const auto& t : in.torrents) pieces += t->meta.num_pieces;
  return std::to_string(in.torrents.size()) + " torrents (" + std::to_string(pieces) + " pieces)";
}

SeedHooks console_hooks(const SeedInput& in, bool show_status) {
  SeedHooks hooks;
  if (show_status)
    hooks.every_second = [&in](const SeedTick& t) {
      std::fprintf(stderr, "%s%s\n", seed_status_line(t).c_str(), trackers_suffix(in).c_str());
    };
  hooks.on_listening = [&in](uint16_t port) {
    if (!in.cfg.quiet)
      std::fprintf(stderr, "seeding %s on %s port %u\n", what_is_seeded(in).c_str(),
                   format_ip(in.cfg.listen->ip).c_str(), port);
  };
  return hooks;
}

}  // namespace

int run_seed_command(const std::vector<std::string>& args) {
  SeedInput in;
  if (int rc = parse(args, in); rc >= 0) return rc;
  const SeedConfig& cfg = in.cfg;
  bool show_status = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));
  // From here on a signal is a request to stop and write the summary, even
  // while the pieces are verified (the run then ends as soon as it starts).
  SignalWatcher::block_signals();
  std::atomic<bool> stop{false}, abort{false};
  SignalWatcher signals(stop, abort);

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
  PeerId peer_id = make_peer_id((uint64_t{rd()} << 32) ^ rd());
  SeedHooks hooks = console_hooks(in, show_status);
  std::vector<SeedTorrent> run_torrents;
  std::vector<DialTarget> dial_list;
  std::unordered_map<InfoHash, uint32_t, InfoHashHasher> index;
  for (uint32_t i = 0; i < in.torrents.size(); ++i)
    index.emplace(in.torrents[i]->meta.info_hash, i);
  uint64_t not_seeded = 0;
  std::vector<PeerSource> dial_sources;
  for (const ListedPeer& p : in.listed) {
    auto it = index.find(*p.torrent);
    if (it == index.end()) {
      ++not_seeded;
    } else {
      dial_list.push_back({p.peer, it->second});
      dial_sources.push_back(PeerSource::kFile);
    }
  }
  if (not_seeded)
    std::fprintf(stderr,
                 "swarmdial seed: --peers-file: %lu peers of torrents not seeded here, left out\n",
                 static_cast<unsigned long>(not_seeded));
  in.announces = std::make_unique<AnnounceService>(
      AnnounceLimits{.per_tracker = cfg.announce_limit_per_tracker, .total = cfg.announce_limit});
  for (uint32_t i = 0; i < in.torrents.size(); ++i) {
    LoadedTorrent& t = *in.torrents[i];
    t.trackers = std::make_unique<SeedTrackers>(*in.announces, cfg, t.meta, t.store->have_count(),
                                                peer_id, in.peers, i);
    run_torrents.push_back({&t.meta, t.store.get()});
    // in.peers: the --peers flag's, then the file's lines for every torrent.
    for (size_t k = 0; k < in.peers.size(); ++k) {
      dial_list.push_back({in.peers[k], i});
      dial_sources.push_back(k < cfg.peers.size() ? PeerSource::kFlag : PeerSource::kFile);
    }
  }
  std::vector<SeedTrackers*> trackers;
  for (auto& t : in.torrents) trackers.push_back(t->trackers.get());
  SeedTrackers::install(trackers, hooks);
  hooks.add_metrics = [&in, previous = hooks.add_metrics](SeedCounters& s) {
    if (previous) previous(s);
    AnnounceServiceStats a = in.announces->stats();
    s.with_announces = !s.trackers.empty();
    s.announces_queued = a.queued;
    s.announces_in_flight = a.in_flight;
    s.announces_started = a.started;
    s.announces_late = a.late;
  };
  ServiceNotifier notifier;
  notify_from_hooks(hooks, notifier, "seeding " + what_is_seeded(in),
                    [&in](const SeedTick& t) { return seed_status_line(t) + trackers_suffix(in); });
  SeedResult result;
  if (int rc = run_seeding(cfg, run_torrents, peer_id, dial_list, {stop, abort}, hooks, result,
                           &dial_sources);
      rc != 0)
    return rc;
  // Files rehashed or withheld while seeding are in the state for the next start.
  for (auto& t : in.torrents)
    if (t->resume) save_state(*t->store, *t->resume);

  if (!cfg.summary_file.empty()) {
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
    for (uint32_t i = 0; i < in.torrents.size(); ++i) {
      const LoadedTorrent& t = *in.torrents[i];
      SeedTorrentReport tr;
      tr.meta = &t.meta;
      tr.torrent_file = t.source.torrent_file;
      tr.data_path = t.source.data_path;
      tr.pieces_verified = t.store->have_count();
      tr.corrupt_pieces = t.bad;
      tr.resume = t.resume ? &*t.resume : nullptr;
      tr.totals = i < result.torrents.size() ? result.torrents[i] : TorrentTotals{};
      tr.trackers = t.trackers->states();
      tr.tracker_peers_new = t.trackers->peers_new();
      if (i < result.peer_book.size()) tr.peer_book = result.peer_book[i];
      report.with_trackers |= t.trackers->any();
      report.torrents.push_back(std::move(tr));
    }
    if (std::string err = write_summary_file(cfg.summary_file, seed_summary(report));
        !err.empty()) {
      std::cerr << "swarmdial seed: " << err << "\n";
      return 1;
    }
  }
  if (show_status)
    std::fprintf(stderr, "served %s in %lu pieces to %lu peers\n",
                 human_bytes(static_cast<double>(result.pool.bytes_up)).c_str(),
                 static_cast<unsigned long>(result.pool.pieces_served),
                 static_cast<unsigned long>(result.pool.peers_served));
  return 0;
}

}  // namespace swarmdial
