#pragma once
// `swarmdial seed` settings (flags or the same keys in an INI --config).
#include <optional>
#include <string>
#include <vector>

#include "dial_config.hpp"
#include "dpdk_flags.hpp"
#include "engine/dial_scheduler.hpp"
#include "engine/peerwire/mse_handshake.hpp"

namespace swarmdial {

// A torrent to seed and where its data is.
struct TorrentSource {
  std::string torrent_file;
  std::string data_path;
};

struct SeedConfig {
  std::vector<TorrentSource> torrents;  // --torrent T --data D, paired in order
  std::string torrents_dir;             // --torrents-dir: every *.torrent in it
  std::string data_root;                // --data-root: where their data is (default: beside them)
  uint32_t max_torrents = 0;            // --max-torrents: seeded at once; 0 = see --help
  std::optional<Endpoint> listen;
  std::vector<Endpoint> peers;         // --peers A:P,...
  std::string peers_file;              // --peers-file F
  std::vector<std::string> trackers;   // --tracker URL... ("torrent": the torrent's announce-list)
  int64_t tracker_timeout_ms = 15000;  // UDP retransmission base (BEP 15) and HTTP timeout
  uint16_t announce_port = 0;          // 0: the --listen port
  uint32_t announce_limit = 64;        // announces in flight over the node
  uint32_t announce_limit_per_tracker = 8;
  Backend backend = Backend::kUring;
  uint32_t shards = 1;
  uint32_t half_open = 64;  // per shard (with --half-open auto: the most it may grow to)
  bool half_open_auto = false;
  uint32_t half_open_min = 8;
  EngineAddressFlags addresses;  // --source, --dpdk, --gateway
  double rate = 1000;
  int64_t timeout_ms = 3000;
  DialOrder dial_order = DialOrder::kFair;  // --dial-order
  uint32_t redials = 8;                     // consecutive failures re-dialled per peer
  int64_t redial_delay_ms = 1000;           // first re-dial delay; doubles, capped at 60 s
  uint32_t workers = 1;
  uint32_t max_peers = 1000;
  double inbound_rate = 0;
  double upload_limit = 0;
  uint32_t unchoke_slots = 16;
  bool send_zc = false;
  EncryptionPolicy encryption = EncryptionPolicy::kPrefer;  // --encryption
  double duration_s = 0;
  std::optional<Endpoint> metrics;
  std::string summary_file;
  std::string state_dir;  // --state-dir: fast resume, empty = hash everything at start
  bool quiet = false;
  bool status = false;
};

std::optional<SeedConfig> parse_seed_args(const std::vector<std::string>& args,
                                          std::string& help_out);

}  // namespace swarmdial
