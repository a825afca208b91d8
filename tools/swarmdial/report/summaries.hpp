#pragma once
// The end-of-run summary JSON of every command (--summary FILE), and the one
// way they are written.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/peer_book.hpp"
#include "engine/peerwire/metainfo.hpp"
#include "engine/redial_planner.hpp"
#include "engine/run_stats.hpp"
#include "tools/swarmdial/seed_run.hpp"
#include "uring/tracker/tracker_announcer.hpp"
#include "uring/tracker/tracker_load_driver.hpp"
#include "uring/tracker/tracker_load_options.hpp"

namespace swarmdial {

struct SummaryContext {
  std::string command = "dial";
  std::string backend;
  double duration_s = 0;
  bool interrupted = false;
  bool forced = false;    // a later signal cut the settling short
  bool adaptive = false;  // --half-open auto
  bool with_bt = false;
  bool with_wire = false;  // the backend handles packets itself (dpdk)
  BtCounts bt;
  bool with_hold = false;
  uint64_t held = 0;           // flows kept open under --hold
  uint64_t hold_overflow = 0;  // flows closed because no fd was left to hold them
  // What `merge` checks before it adds runs up: the same seed, the same
  // targets, the same partition count, each part once.
  bool with_run = false;
  uint64_t seed = 0;
  std::string targets;  // --range text, or the --targets file and its size
  uint64_t target_count = 0;
  Partition partition;
  // The --output file: rows that reached it, rows lost to a write error.
  bool with_rows = false;
  uint64_t rows_written = 0;
  uint64_t rows_lost = 0;
  std::string output_error;
};

// dial, and the dialing part of seed and demo.
nlohmann::json build_summary(const RunView& view, const SummaryContext& ctx);

// seed --state-dir: what fast resume did this run.
struct ResumeReport {
  std::string state_file;
  bool loaded = false;
  std::string ignored;             // why a state file that exists was not used
  uint32_t pieces_from_state = 0;  // taken as verified without hashing
  uint32_t pieces_hashed = 0;
  std::string save_error;  // the last save's failure, empty when it was written
};

struct SeedTorrentReport {
  const Metainfo* meta = nullptr;
  std::string torrent_file, data_path;
  uint32_t pieces_verified = 0;
  std::vector<uint32_t> corrupt_pieces;
  const ResumeReport* resume = nullptr;
  TorrentTotals totals;
  std::vector<TrackerState> trackers;
  uint64_t tracker_peers_new = 0;
  PeerBookCounts peer_book;  // its peers to dial, at the end
  // Seconds since the start: added while the run went (--torrents-dir),
  // removed before it ended.
  std::optional<double> added_at_s, removed_at_s;
};

// `seed`'s summary: the run's totals, and each torrent's own. With one
// torrent its fields are also where they were before there could be many
// (seed.torrent, seed.info_hash, seed.resume, ...).
struct SeedReport {
  SummaryContext ctx;
  std::vector<SeedTorrentReport> torrents;
  EncryptionPolicy encryption = EncryptionPolicy::kPrefer;
  DialOrder dial_order = DialOrder::kFair;
  const SeedResult* result = nullptr;
  bool with_trackers = false;
  AnnounceServiceStats announces;  // with trackers: the node's announce queue at the end
  bool watching = false;           // --torrents-dir was watched
  uint64_t torrents_added = 0, torrents_removed = 0;
};
nlohmann::json seed_summary(const SeedReport& r);

struct TrackerLoadReport {
  const TrackerLoadOptions* load = nullptr;
  const LoadCounters* counters = nullptr;
  LoadResult result;
  bool interrupted = false, forced = false;
};
nlohmann::json tracker_load_summary(const TrackerLoadReport& r);

// Peer sessions ended, by reason (reasons with a count only).
std::vector<std::pair<std::string, uint64_t>> disconnect_list(const PoolTotals& t);
// Re-dials and peers given up, by cause.
nlohmann::json redial_json(const RedialCounts& r);
// count, p50, p90, p99, p99.9 and max of a latency histogram, in µs.
nlohmann::json latency_json(const LatencyHistogram::Snapshot& s);
// The histogram itself, so runs merge exactly: sum_us, max_us and the
// non-empty buckets as [largest value in the bucket, count].
nlohmann::json histogram_json(const LatencyHistogram::Snapshot& s);
// Throws std::invalid_argument on a malformed histogram.
LatencyHistogram::Snapshot histogram_from_json(const nlohmann::json& j);

// Writes the JSON to path; on failure returns "FLAG PATH: write failed".
std::string write_summary_file(const std::string& path, const nlohmann::json& summary,
                               const std::string& flag = "--summary");

}  // namespace swarmdial
