#include "seed_config.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli_parse.hpp"
#include "dpdk_flags.hpp"
#include "engine/tracker/tracker_url.hpp"
#include "half_open_flags.hpp"

namespace swarmdial {

namespace po = boost::program_options;

namespace {
[[noreturn]] void fail(const std::string& flag, const std::string& why) {
  throw UsageError("--" + flag + ": " + why);
}

po::options_description seed_options() {
  po::options_description data("Torrent");
  data.add_options()("torrent", po::value<std::vector<std::string>>()->composing(),
                     "a .torrent file to seed (repeatable: one process, one listener and one "
                     "half-open budget for all of them)")(
      "data", po::value<std::vector<std::string>>()->composing(),
      "the data of the --torrent in the same place: the directory its files are in (as a "
      "client's save path: DIR/NAME/... for a torrent of many files), or for a one-file torrent "
      "the file itself")(
      "torrents-dir", po::value<std::string>(),
      "seed every *.torrent file in DIR too; each one's data is DATA_ROOT/NAME, where NAME is "
      "the torrent's name (its file, or its directory of files) and DATA_ROOT is --data-root or "
      "DIR; a torrent that cannot be loaded or has no data there is named and skipped")(
      "data-root", po::value<std::string>(), "where --torrents-dir's data is (default: DIR)")(
      "max-torrents", po::value<int64_t>(),
      "torrents seeded at once at most (default: those given; with --torrents-dir, twice "
      "those found and at least 1024). DIR is watched while the run goes: a *.torrent put "
      "there starts seeding (its data checked first), one removed stops (its peers closed, "
      "`stopped` announced), one rewritten is seeded as what it now holds; SIGHUP reads DIR "
      "again, files skipped before too")(
      "state-dir", po::value<std::string>(),
      "fast resume: keep what was verified here (one file per torrent, with its files' sizes "
      "and mtimes); a restart hashes only the pieces of files that changed");
  po::options_description peers("Peers");
  peers.add_options()("listen", po::value<std::string>(), "accept inbound peers on ADDR:PORT")(
      "peers", po::value<std::vector<std::string>>()->composing(), "dial these peers: A:P,A:P,...")(
      "peers-file", po::value<std::string>(), "dial the addr:port lines of this file")(
      "tracker", po::value<std::vector<std::string>>()->composing(),
      "announce to this tracker, udp:// or http:// (repeatable: each is a tier, BEP 12); "
      "'torrent' = the torrent's announce-list")(
      "tracker-timeout", po::value<int64_t>()->default_value(15000),
      "UDP retransmission base (BEP 15: 15 s) and HTTP timeout, ms")(
      "announce-port", po::value<int64_t>(), "port to announce (default: the --listen port)")(
      "announce-limit", po::value<int64_t>()->default_value(64),
      "announces in flight at once over all torrents and trackers; the rest wait their turn")(
      "announce-limit-per-tracker", po::value<int64_t>()->default_value(8),
      "announces in flight at once to one tracker (host:port)")(
      "redials", po::value<int64_t>()->default_value(8),
      "dial a peer again after it failed to connect or closed before it had everything, "
      "up to N failures in a row (0 = never); a peer that has everything is not re-dialled")(
      "dial-order", po::value<std::string>()->default_value("fair"),
      "with many torrents: fair (dials go round robin over the torrents with a peer waiting, so "
      "one torrent's dead peers cannot hold the shared budget) | fifo (as peers arrive, "
      "whatever their torrent; for comparison)")(
      "redial-delay", po::value<int64_t>()->default_value(1000),
      "first re-dial delay, ms; doubles per failure (+/- 20% jitter), at most 60 s")(
      "encryption", po::value<std::string>()->default_value("prefer"),
      "MSE/PE: prefer (inbound peers may encrypt, RC4 chosen when they offer it; we dial in "
      "plaintext, and with MSE after a peer turned a plaintext handshake away) | require (RC4 "
      "only, both ways; plaintext peers are refused) | off (plaintext "
      "only; encrypted peers are refused)")("max-peers", po::value<int64_t>()->default_value(1000),
                                            "connected peers at most, both directions")(
      "inbound-rate", po::value<double>()->default_value(0),
      "inbound accepts per second, 0 = unlimited");
  po::options_description engine("Engine");
  engine.add_options()("backend", po::value<std::string>()->default_value("uring"),
                       "uring | epoll | dpdk")("shards", po::value<int64_t>()->default_value(1),
                                               "dialing threads")(
      "rate", po::value<double>()->default_value(1000), "SYN/s, 0 = unlimited")(
      "timeout", po::value<int64_t>()->default_value(3000), "connect timeout, ms")(
      "workers", po::value<int64_t>(), "peer-wire worker threads (default: one per core)")(
      "unchoke-slots", po::value<int64_t>()->default_value(16), "peers unchoked at once")(
      "upload-limit", po::value<double>()->default_value(0), "bytes/s, 0 = unlimited")(
      "send-zc", po::bool_switch(), "send piece data with IORING_OP_SEND_ZC (zero-copy)")(
      "duration", po::value<double>()->default_value(0),
      "stop after S seconds, 0 = until a signal");
  add_half_open_options(engine, 64, 1024);
  add_engine_address_options(engine);
  po::options_description output("Output");
  output.add_options()("metrics", po::value<std::string>(),
                       "serve Prometheus /metrics on ADDR:PORT")(
      "summary", po::value<std::string>(), "write the summary JSON here")(
      "quiet", po::bool_switch(), "no status line")(
      "status", po::bool_switch(), "status line even when stderr is not a terminal");
  po::options_description all(
      "swarmdial seed: serve a torrent to real BitTorrent clients, dialing them and accepting "
      "them");
  all.add(data).add(peers).add(engine).add(output);
  all.add_options()("config", po::value<std::string>(), "INI file with the same keys")("help,h",
                                                                                       "this help");
  return all;
}
}  // namespace

std::optional<SeedConfig> parse_seed_args(const std::vector<std::string>& args,
                                          std::string& help_out) {
  po::options_description desc = seed_options();
  po::variables_map vm;
  if (!parse_cli(args, desc,
                 "swarmdial seed --torrent big.torrent --data /srv/seed --listen 0.0.0.0:6881 "
                 "--peers 127.0.0.2:6881 --upload-limit 50000000",
                 vm, help_out))
    return std::nullopt;
  SeedConfig c;
  std::vector<std::string> files, data;
  if (vm.count("torrent")) files = vm["torrent"].as<std::vector<std::string>>();
  if (vm.count("data")) data = vm["data"].as<std::vector<std::string>>();
  if (vm.count("torrents-dir")) {
    c.torrents_dir = vm["torrents-dir"].as<std::string>();
    if (c.torrents_dir.empty()) fail("torrents-dir", "is empty");
  }
  if (vm.count("data-root")) {
    if (c.torrents_dir.empty()) fail("data-root", "needs --torrents-dir");
    c.data_root = vm["data-root"].as<std::string>();
    if (c.data_root.empty()) fail("data-root", "is empty");
  }
  if (vm.count("max-torrents"))
    c.max_torrents = static_cast<uint32_t>(flag_in_range(vm, "max-torrents", 1, 1'000'000));
  if (files.empty() && c.torrents_dir.empty())
    throw UsageError("--torrent FILE (with --data PATH) or --torrents-dir DIR is required");
  if (files.size() != data.size())
    fail(files.size() < data.size() ? "data" : "torrent",
         "each --torrent needs its --data, in the same order (" + std::to_string(files.size()) +
             " --torrent, " + std::to_string(data.size()) + " --data)");
  for (size_t i = 0; i < files.size(); ++i) c.torrents.push_back({files[i], data[i]});
  if (vm.count("tracker")) {
    for (const auto& t : vm["tracker"].as<std::vector<std::string>>()) {
      std::string err;
      if (t != "torrent" && !parse_tracker_url(t, err)) fail("tracker", "'" + t + "': " + err);
      c.trackers.push_back(t);
    }
  }
  c.tracker_timeout_ms = flag_in_range(vm, "tracker-timeout", 100, 3'600'000);
  c.announce_limit = static_cast<uint32_t>(flag_in_range(vm, "announce-limit", 1, 100'000));
  c.announce_limit_per_tracker =
      static_cast<uint32_t>(flag_in_range(vm, "announce-limit-per-tracker", 1, 100'000));
  if (vm.count("announce-port"))
    c.announce_port = static_cast<uint16_t>(flag_in_range(vm, "announce-port", 1, 65535));
  if (vm.count("listen")) {
    auto t = vm["listen"].as<std::string>();
    c.listen = parse_endpoint(t);
    if (!c.listen) {
      // "--listen 127.0.0.1:0" asks for any free port
      auto colon = t.rfind(':');
      auto ip = colon == std::string::npos ? std::nullopt : parse_ip(t.substr(0, colon));
      if (!ip || t.substr(colon + 1) != "0") fail("listen", "'" + t + "' is not ADDR:PORT");
      c.listen = Endpoint{*ip, 0};
    }
  }
  if (vm.count("peers")) {
    for (const auto& group : vm["peers"].as<std::vector<std::string>>()) {
      std::string_view rest = group;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        auto item = rest.substr(0, comma);
        auto ep = parse_endpoint(item);
        if (!ep) fail("peers", "'" + std::string(item) + "' is not addr:port");
        c.peers.push_back(*ep);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
  }
  if (vm.count("peers-file")) c.peers_file = vm["peers-file"].as<std::string>();
  if (!c.listen && c.peers.empty() && c.peers_file.empty() && c.trackers.empty())
    throw UsageError("nothing to do: give --listen, --peers, --peers-file or --tracker");
  c.backend = read_backend_flag(vm);
  c.addresses = read_engine_address_flags(vm, c.backend);
  auto range = [&](const char* flag, int64_t lo, int64_t hi) {
    int64_t v = vm[flag].as<int64_t>();
    if (v < lo || v > hi)
      fail(flag, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return static_cast<uint32_t>(v);
  };
  c.shards = range("shards", 1, 256);
  HalfOpenFlags ho = read_half_open_flags(vm);
  c.half_open = ho.half_open;
  c.half_open_auto = ho.adaptive;
  c.half_open_min = ho.half_open_min;
  c.max_peers = range("max-peers", 1, 1'000'000);
  c.unchoke_slots = range("unchoke-slots", 1, 10'000);
  c.timeout_ms = range("timeout", 1, 600'000);
  c.redials = static_cast<uint32_t>(range("redials", 0, 1'000'000));
  c.redial_delay_ms = range("redial-delay", 1, 3'600'000);
  if (std::string o = vm["dial-order"].as<std::string>(); o == "fair")
    c.dial_order = DialOrder::kFair;
  else if (o == "fifo")
    c.dial_order = DialOrder::kFifo;
  else
    fail("dial-order", "must be fair or fifo");
  int64_t workers = vm.count("workers") ? vm["workers"].as<int64_t>()
                                        : std::max<int64_t>(1, std::thread::hardware_concurrency());
  if (workers < 1 || workers > 256) fail("workers", "must be between 1 and 256");
  c.workers = static_cast<uint32_t>(workers);
  c.rate = vm["rate"].as<double>();
  if (!(c.rate >= 0)) fail("rate", "must be 0 (unlimited) or more");
  c.inbound_rate = vm["inbound-rate"].as<double>();
  if (!(c.inbound_rate >= 0)) fail("inbound-rate", "must be 0 (unlimited) or more");
  c.upload_limit = vm["upload-limit"].as<double>();
  if (!(c.upload_limit >= 0)) fail("upload-limit", "must be 0 (unlimited) or more bytes/s");
  if (c.upload_limit > 0 && c.upload_limit < 16384)
    fail("upload-limit", "must be at least 16384 bytes/s");
  c.duration_s = vm["duration"].as<double>();
  if (!(c.duration_s >= 0)) fail("duration", "must be 0 or more seconds");
  if (vm.count("metrics")) {
    auto t = vm["metrics"].as<std::string>();
    c.metrics = parse_endpoint(t);
    if (!c.metrics) fail("metrics", "'" + t + "' is not ADDR:PORT");
  }
  if (vm.count("summary")) c.summary_file = vm["summary"].as<std::string>();
  if (vm.count("state-dir")) {
    c.state_dir = vm["state-dir"].as<std::string>();
    if (c.state_dir.empty()) fail("state-dir", "is empty");
  }
  auto enc = parse_encryption_policy(vm["encryption"].as<std::string>());
  if (!enc) fail("encryption", "must be prefer, require or off");
  c.encryption = *enc;
  if (c.encryption != EncryptionPolicy::kOff && !rc4_available())
    fail("encryption",
         "needs RC4 from OpenSSL's legacy provider, which is not installed "
         "(or use --encryption off)");
  c.send_zc = vm["send-zc"].as<bool>();
  c.quiet = vm["quiet"].as<bool>();
  c.status = vm["status"].as<bool>();
  return c;
}

}  // namespace swarmdial
