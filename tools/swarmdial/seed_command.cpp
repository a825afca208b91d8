#include "seed_command.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <random>
#include <thread>

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

struct SeedInput {
  SeedConfig cfg;
  Metainfo meta;
  std::vector<Endpoint> dial_list;
};

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
    in.meta = load_torrent_file(in.cfg.torrent_file);
    if (::access(in.cfg.data_path.c_str(), R_OK) != 0)
      throw UsageError("--data " + in.cfg.data_path + ": cannot read");
    if (!in.cfg.state_dir.empty()) prepare_state_dir(in.cfg.state_dir);
    in.dial_list = in.cfg.peers;
    if (!in.cfg.peers_file.empty()) {
      auto more = load_targets_file(in.cfg.peers_file, "peers-file");
      in.dial_list.insert(in.dial_list.end(), more.begin(), more.end());
    }
  } catch (const UsageError& e) {
    std::cerr << "swarmdial seed: " << e.what() << "\n";
    return 2;
  }
  return -1;
}

// With --state-dir: the saved state, if one exists for this torrent and
// fits it (a state that does not is named, and every piece is hashed).
std::optional<ResumeData> load_state(const SeedInput& in, ResumeReport& report) {
  report.state_file = resume_path(in.cfg.state_dir, in.meta);
  LoadedResume l = load_resume(report.state_file, in.meta);
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
// files that changed). Returns the corrupt ones (never served), or an exit
// code when there is nothing to seed.
int verify(const SeedInput& in, PieceStore& store, bool show_status, std::vector<uint32_t>& bad,
           ResumeReport* resume) {
  if (store.missing_files() == in.meta.files.size()) {
    std::cerr << "swarmdial seed: --data " << in.cfg.data_path << ": none of the torrent's "
              << in.meta.files.size() << " files is there\n";
    return 2;
  }
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::optional<ResumeData> saved = resume ? load_state(in, *resume) : std::nullopt;
  bad = store.verify(
      cores,
      [&](uint32_t done, uint32_t total) {
        if (show_status)
          std::fprintf(stderr, "\rverifying %u/%u pieces (%u%%)", done, total,
                       total ? static_cast<unsigned>(uint64_t{done} * 100 / total) : 100);
      },
      saved ? &*saved : nullptr);
  if (show_status) std::fprintf(stderr, "\n");
  if (resume) {
    resume->pieces_hashed = store.hashed_count();
    resume->pieces_from_state = in.meta.num_pieces - store.hashed_count();
    if (saved && !in.cfg.quiet)
      std::fprintf(stderr, "resumed from %s: %u pieces as saved, %u hashed\n",
                   resume->state_file.c_str(), resume->pieces_from_state, resume->pieces_hashed);
    save_state(store, *resume);
  }
  if (!bad.empty()) {
    std::string list;
    for (size_t i = 0; i < bad.size() && i < 50; ++i)
      list += (i ? ", " : "") + std::to_string(bad[i]);
    if (bad.size() > 50) list += ", ...";
    std::cerr << "swarmdial seed: " << bad.size() << " of " << in.meta.num_pieces
              << " pieces failed verification and will not be served: " << list << "\n";
  }
  if (store.have_count() == 0) {
    std::cerr << "swarmdial seed: no piece verified: nothing to seed\n";
    return 1;
  }
  return -1;
}

SeedHooks console_hooks(const SeedInput& in, const SeedTrackers& trackers, bool show_status) {
  SeedHooks hooks;
  if (show_status)
    hooks.every_second = [&trackers](const SeedTick& t) {
      std::fprintf(stderr, "%s%s\n", seed_status_line(t).c_str(), trackers.status_suffix().c_str());
    };
  hooks.on_listening = [&in](uint16_t port) {
    if (!in.cfg.quiet)
      std::fprintf(stderr, "seeding %s (%s, %u pieces) on %s port %u\n", in.meta.name.c_str(),
                   info_hash_hex(in.meta.info_hash).c_str(), in.meta.num_pieces,
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
    uint64_t files = PieceStore::descriptors_needed(in.meta);
    ensure_fd_limit(files + 64, "keeping " + std::to_string(files) + " data files open");
  } catch (const UsageError& e) {
    std::cerr << "swarmdial seed: " << e.what() << "\n";
    return 2;
  }
  PieceStore store(in.meta, cfg.data_path);
  std::vector<uint32_t> bad;
  std::optional<ResumeReport> resume;
  if (!cfg.state_dir.empty()) resume.emplace();
  if (int rc = verify(in, store, show_status, bad, resume ? &*resume : nullptr); rc >= 0) return rc;

  std::random_device rd;
  PeerId peer_id = make_peer_id((uint64_t{rd()} << 32) ^ rd());
  SeedTrackers trackers(cfg, in.meta, store.have_count(), peer_id, in.dial_list);
  SeedHooks hooks = console_hooks(in, trackers, show_status);
  trackers.install(hooks);
  ServiceNotifier notifier;
  notify_from_hooks(
      hooks, notifier, "seeding " + in.meta.name + " (" + info_hash_hex(in.meta.info_hash) + ")",
      [&trackers](const SeedTick& t) { return seed_status_line(t) + trackers.status_suffix(); });
  SeedResult result;
  if (int rc =
          run_seeding(cfg, in.meta, store, peer_id, in.dial_list, {stop, abort}, hooks, result);
      rc != 0)
    return rc;
  // Files rehashed or withheld while seeding are in the state for the next start.
  if (resume) save_state(store, *resume);

  if (!cfg.summary_file.empty()) {
    SeedReport report;
    report.ctx.command = "seed";
    report.ctx.backend = backend_name(cfg.backend);
    report.ctx.with_wire = cfg.backend == Backend::kDpdk;
    report.ctx.duration_s = result.duration_s;
    report.ctx.interrupted = signals.fired();
    report.ctx.forced = signals.forced();
    report.ctx.adaptive = cfg.half_open_auto;
    report.meta = &in.meta;
    report.resume = resume ? &*resume : nullptr;
    report.pieces_verified = store.have_count();
    report.corrupt_pieces = bad;
    report.encryption = cfg.encryption;
    report.result = &result;
    report.with_trackers = trackers.any();
    report.trackers = trackers.states();
    report.tracker_peers_new = trackers.peers_new();
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
