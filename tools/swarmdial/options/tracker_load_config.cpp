#include "tracker_load_config.hpp"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli_parse.hpp"
#include "dial_config.hpp"
#include "engine/tracker/http_scrape.hpp"
#include "engine/tracker/info_hash_list.hpp"
#include "engine/tracker/reannounce_schedule.hpp"
#include "partition_flags.hpp"

namespace swarmdial {

namespace po = boost::program_options;

void add_tracker_swarm_options(po::options_description& group) {
  group.add_options()("tracker", po::value<std::vector<std::string>>()->composing(),
                      "udp://HOST:PORT or http://HOST:PORT/announce; give one of each to split "
                      "the load between UDP and HTTP, and an IPv6 one ([ADDR]) for IPv6 peers")(
      "ipv6-peers", po::value<double>(),
      "share of the peers that are IPv6 peers, announcing to the IPv6 tracker(s) (default: 1 "
      "when every tracker is IPv6, else 0)")(
      "torrents", po::value<int64_t>(),
      "synthetic torrents (default 100); info-hash i = SHA-1(\"swarmdial-load-torrent-<i>\")")(
      "infohashes", po::value<std::string>(),
      "FILE: announce these torrents instead (hex info-hashes, one a line, '#' comments), "
      "for a tracker that serves only listed ones")(
      "peers", po::value<int64_t>()->default_value(100),
      "peers per torrent (with --popularity zipf, the mean)")(
      "popularity", po::value<std::string>()->default_value("zipf:1"),
      "how peers spread over torrents: uniform (each torrent --peers), or zipf:S (the torrent "
      "of rank r gets a share proportional to 1/r^S)")(
      "seeders", po::value<double>()->default_value(0.75, "0.75"),
      "share of the peers that start as seeds (left = 0)")(
      "completed", po::value<double>()->default_value(0.0, "0"),
      "chance per round that a leecher finishes: one `completed`, then left = 0")(
      "stopped", po::value<double>()->default_value(0.0, "0"),
      "chance per re-announce that a peer leaves: `stopped`, then `started` next round")(
      "request-mix", po::value<std::string>()->default_value("announce=100,scrape=1,connect=1"),
      "weights of the request kinds (aquatic's by default); connects renew nothing, they load "
      "the tracker's connect path, and exist on UDP only (with an http:// tracker they are 0)")(
      "scrape-torrents", po::value<int64_t>()->default_value(10),
      "info-hashes per scrape: 1 to N, drawn by popularity (N at most 74, a BEP 15 datagram)")(
      "connections", po::value<int64_t>()->default_value(16),
      "UDP sockets (one connection id each) or HTTP keep-alive connections")(
      "udp-gso", po::value<std::string>()->default_value("on"),
      "on: a run of equal-sized UDP requests leaves as one UDP_SEGMENT send (off if the kernel "
      "refuses it); off: one datagram per message, as before Linux 4.18")(
      "numwant", po::value<int64_t>()->default_value(30), "peers asked for per announce");
}

namespace {

double share_flag(const po::variables_map& vm, const char* name) {
  double v = vm[name].as<double>();
  if (!(v >= 0 && v <= 1)) throw UsageError(std::string("--") + name + ": must be from 0 to 1");
  return v;
}

double read_popularity(const std::string& text) {
  if (text == "uniform") return 0;
  const std::string prefix = "zipf:";
  if (text.rfind(prefix, 0) == 0) {
    std::string num = text.substr(prefix.size());
    char* end = nullptr;
    double s = num.empty() ? -1 : std::strtod(num.c_str(), &end);
    if (end && *end == '\0' && s > 0 && s <= 5) return s;
  }
  throw UsageError("--popularity: '" + text + "' is not uniform or zipf:S with 0 < S <= 5");
}

// 1,000,000 hashes with a comment each fit well under this.
constexpr std::streamoff kMaxInfoHashFile = 256 << 20;

std::vector<InfoHash> load_info_hashes_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--infohashes " + path + ": cannot read");
  std::string body;
  char chunk[1 << 16];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    body.append(chunk, static_cast<size_t>(in.gcount()));
    if (static_cast<std::streamoff>(body.size()) > kMaxInfoHashFile)
      throw UsageError("--infohashes " + path + ": larger than 256 MiB");
  }
  if (in.bad()) throw UsageError("--infohashes " + path + ": cannot read");
  auto parsed = parse_info_hash_list(body);
  if (auto* err = std::get_if<InfoHashListError>(&parsed))
    throw UsageError("--infohashes " + path + (err->line ? ":" + std::to_string(err->line) : "") +
                     ": " + err->what);
  return std::get<std::vector<InfoHash>>(std::move(parsed));
}

// "announce=100,scrape=1,connect=1": any of the three, in any order.
void read_request_mix(const std::string& text, LoadModel& m) {
  m.announce_weight = m.scrape_weight = m.connect_weight = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq), num = eq == std::string::npos ? "" : item.substr(eq + 1);
    uint32_t* w = key == "announce"  ? &m.announce_weight
                  : key == "scrape"  ? &m.scrape_weight
                  : key == "connect" ? &m.connect_weight
                                     : nullptr;
    char* end = nullptr;
    long long v = num.empty() ? -1 : std::strtoll(num.c_str(), &end, 10);
    if (!w || !end || *end != '\0' || v < 0 || v > 1'000'000)
      throw UsageError("--request-mix: '" + item +
                       "' is not announce=N, scrape=N or connect=N (N from 0 to 1000000)");
    *w = static_cast<uint32_t>(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (m.announce_weight + m.scrape_weight + m.connect_weight == 0)
    throw UsageError("--request-mix: every weight is 0");
}

}  // namespace

void read_tracker_swarm_flags(const po::variables_map& vm, TrackerLoadOptions& load) {
  if (!vm.count("tracker")) throw UsageError("--tracker URL is required");
  bool seen[2][2] = {};  // [scheme][family]
  for (const auto& t : vm["tracker"].as<std::vector<std::string>>()) {
    std::string err;
    auto u = parse_tracker_url(t, err);
    if (!u) throw UsageError("--tracker: '" + t + "': " + err);
    bool& s = seen[u->scheme == TrackerUrl::Scheme::kHttp][u->ipv6_literal()];
    if (s)
      throw UsageError("--tracker: give at most one udp:// and one http:// tracker per family");
    s = true;
    load.trackers.push_back(*u);
  }
  LoadModel& m = load.swarm;
  bool have_v4 = seen[0][0] || seen[1][0], have_v6 = seen[0][1] || seen[1][1];
  m.ipv6 = vm.count("ipv6-peers") ? share_flag(vm, "ipv6-peers") : have_v4 ? 0 : 1;
  if (m.ipv6 > 0 && !have_v6)
    throw UsageError("--ipv6-peers: IPv6 peers need an IPv6 tracker (--tracker udp://[ADDR]:PORT)");
  if (m.ipv6 < 1 && !have_v4)
    throw UsageError("--ipv6-peers: below 1, the IPv4 peers need an IPv4 tracker");
  if (m.ipv6 == 0 && have_v6)
    throw UsageError("--tracker: an IPv6 tracker with no IPv6 peers; give --ipv6-peers");
  if (vm.count("infohashes")) {
    if (vm.count("torrents"))
      throw UsageError("--torrents: not with --infohashes, whose file says how many");
    m.info_hashes = std::make_shared<const std::vector<InfoHash>>(
        load_info_hashes_file(vm["infohashes"].as<std::string>()));
    m.torrents = static_cast<uint32_t>(m.info_hashes->size());
  } else {
    m.torrents = vm.count("torrents") ? flag_in_range(vm, "torrents", 1, 1'000'000) : 100;
  }
  m.peers = flag_in_range(vm, "peers", 1, 64'000);
  m.zipf = read_popularity(vm["popularity"].as<std::string>());
  m.seeders = share_flag(vm, "seeders");
  m.completed = share_flag(vm, "completed");
  m.stopped = share_flag(vm, "stopped");
  if (m.stopped >= 1) throw UsageError("--stopped: must be below 1 (a peer must come back)");
  m.numwant = static_cast<int32_t>(flag_in_range(vm, "numwant", 0, 1000));
  read_request_mix(vm["request-mix"].as<std::string>(), m);
  m.scrape_max = static_cast<uint32_t>(
      flag_in_range(vm, "scrape-torrents", 1, static_cast<int64_t>(LoadPlan::kMaxScrapeHashes)));
  for (const TrackerUrl& u : load.trackers) {
    if (u.scheme != TrackerUrl::Scheme::kHttp) continue;
    if (m.connect_weight && !vm["request-mix"].defaulted())
      throw UsageError(
          "--request-mix: connect=N needs a udp:// tracker alone (HTTP has no connect)");
    m.connect_weight = 0;
    if (m.scrape_weight && !http_scrape_path(u))
      throw UsageError("--tracker " + u.text +
                       ": no scrape URL (BEP 48: the path must end in /announce...); give "
                       "--request-mix with scrape=0");
  }
  if (m.announce_weight + m.scrape_weight + m.connect_weight == 0)
    throw UsageError("--request-mix: every weight is 0 once connects are left to UDP");
  load.connections = flag_in_range(vm, "connections", 1, 4096);
  const std::string gso = vm["udp-gso"].as<std::string>();
  if (gso != "on" && gso != "off") throw UsageError("--udp-gso: '" + gso + "' is not on or off");
  load.udp_gso = gso == "on";
  // The synthetic swarm is the same on every node: no seed needed to split it.
  Partition p = read_partition_flags(vm, true);
  uint64_t units = m.zipf > 0 ? uint64_t{m.torrents} * m.peers : m.peers;
  if (p.count > units)
    throw UsageError("--partition: " + std::to_string(p.count) + " partitions of " +
                     std::to_string(units) + (m.zipf > 0 ? " memberships" : " peers") +
                     " leave some with none");
  m.part = p.index;
  m.parts = p.count;
}

namespace {

void read_reannounce_flags(const po::variables_map& vm, TrackerLoadOptions& load) {
  const std::string mode = vm["reannounce"].as<std::string>();
  if (mode != "rate" && mode != "interval")
    throw UsageError("--reannounce: '" + mode + "' is not rate or interval");
  load.reannounce_interval = mode == "interval";
  double scale = vm["interval-scale"].as<double>();
  if (!(scale > 0 && scale <= 10))
    throw UsageError("--interval-scale: must be above 0 and at most 10");
  if (!vm["interval-scale"].defaulted() && !load.reannounce_interval)
    throw UsageError("--interval-scale: only with --reannounce interval");
  load.interval_scale = scale;
  if (!load.reannounce_interval) return;
  LoadModel& m = load.swarm;
  if (!vm["request-mix"].defaulted() && (m.scrape_weight || m.connect_weight))
    throw UsageError("--reannounce interval: announces only; give --request-mix announce=1");
  m.announce_weight = 1;
  m.scrape_weight = m.connect_weight = 0;
  uint64_t members = LoadPlan::swarm_size_of(m);
  if (members > ReannounceSchedule::kMaxMembers)
    throw UsageError("--reannounce interval: " + std::to_string(members) +
                     " memberships; at most " + std::to_string(ReannounceSchedule::kMaxMembers));
}

}  // namespace

std::optional<TrackerLoadConfig> parse_tracker_load_args(const std::vector<std::string>& args,
                                                         std::string& help_out) {
  po::options_description load("Load");
  add_tracker_swarm_options(load);
  add_partition_options(load);
  load.add_options()("rate", po::value<double>(),
                     "announces per second, on a fixed timetable (open loop)")(
      "duration", po::value<double>(), "seconds of load")(
      "timeout", po::value<int64_t>()->default_value(5000), "ms before a request is a timeout")(
      "reannounce", po::value<std::string>()->default_value("rate"),
      "rate: requests on the --rate timetable, round after round; interval: peers join at "
      "--rate, then each announces again the tracker's interval after its answer (and retries "
      "a failure after 15 s, 30 s, ...), so the load is what the swarm and the tracker's "
      "interval make it (announces only; at most 4,000,000 memberships)")(
      "interval-scale", po::value<double>()->default_value(1.0, "1"),
      "with --reannounce interval, the tracker's intervals and the back-offs times this (0.01: "
      "a 30-minute interval every 18 s)");
  po::options_description output("Output");
  output.add_options()("summary", po::value<std::string>(),
                       "write the summary JSON here (with a row per second and the latency "
                       "spectrum)")("plot", po::value<std::string>(),
                                    "FILE.svg: requests/s and latency percentiles per second "
                                    "(gnuplot)")(
      "compare", po::value<std::vector<std::string>>()->multitoken(),
      "A.json B.json: print two runs' summaries side by side, with B/A (sends nothing)")(
      "quiet", po::bool_switch(), "no status line")(
      "status", po::bool_switch(), "status line even when stderr is not a terminal");
  po::options_description all(
      "swarmdial tracker-load: announce a synthetic swarm to a tracker at a fixed rate; latency "
      "is measured from each request's scheduled time, so a slow tracker cannot hide");
  all.add(load).add(output);
  all.add_options()("config", po::value<std::string>(), "INI file with the same keys")("help,h",
                                                                                       "this help");
  po::variables_map vm;
  if (!parse_cli(args, all,
                 "swarmdial tracker-load --tracker udp://127.0.0.1:6969 --rate 20000 --duration 30 "
                 "--torrents 1000 --peers 50 --summary load.json",
                 vm, help_out))
    return std::nullopt;
  TrackerLoadConfig c;
  read_tracker_swarm_flags(vm, c.load);
  if (!vm.count("rate")) throw UsageError("--rate N is required");
  if (!vm.count("duration")) throw UsageError("--duration S is required");
  c.load.rate = vm["rate"].as<double>();
  if (!(c.load.rate > 0 && c.load.rate <= 10'000'000))
    throw UsageError("--rate: must be above 0 and at most 10000000");
  c.load.duration_s = vm["duration"].as<double>();
  if (!(c.load.duration_s > 0 && c.load.duration_s <= 86400))
    throw UsageError("--duration: must be above 0 and at most 86400");
  c.load.timeout_ms = flag_in_range(vm, "timeout", 10, 600'000);
  read_reannounce_flags(vm, c.load);
  if (vm.count("summary")) c.summary_file = vm["summary"].as<std::string>();
  if (vm.count("plot")) c.plot_file = vm["plot"].as<std::string>();
  c.quiet = vm["quiet"].as<bool>();
  c.status = vm["status"].as<bool>();
  return c;
}

}  // namespace swarmdial
