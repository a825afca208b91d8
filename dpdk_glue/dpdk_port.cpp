#include "dpdk_port.hpp"

#include <net/if.h>
#include <pthread.h>
#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "eal_args.hpp"

namespace swarmdial {
namespace {

constexpr uint16_t kRxDescriptors = 1024;
constexpr uint16_t kTxDescriptors = 1024;
constexpr uint32_t kSteeringRing = 4096;
constexpr uint32_t kMempoolCache = 256;
// Received GSO-sized mbufs per queue (64 KiB each): a full burst in every
// stage between the port and the TAP, with room; when they run out the port
// leaves frames in the kernel's ring until some come back.
constexpr uint32_t kGsoMbufs = 511;

[[noreturn]] void fail(const std::string& what, int err) {
  throw std::runtime_error("--dpdk: " + what + ": " + rte_strerror(err < 0 ? -err : err));
}

// Points stdout and stderr at an anonymous file until destroyed.
class CapturedOutput {
 public:
  CapturedOutput() {
    std::fflush(stdout);
    std::fflush(stderr);
    file_ = memfd_create("eal-output", 0);
    if (file_ < 0) return;
    saved_out_ = dup(STDOUT_FILENO);
    saved_err_ = dup(STDERR_FILENO);
    dup2(file_, STDOUT_FILENO);
    dup2(file_, STDERR_FILENO);
  }
  ~CapturedOutput() { restore(); }

  // The first line that reads like an error, without EAL's prefix.
  std::string first_complaint() {
    restore();
    if (file_ < 0) return {};
    std::string text(16384, '\0');
    ssize_t n = pread(file_, text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<size_t>(n) : 0);
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("EAL: Detected", 0) == 0 || line.rfind("EAL: Selected", 0) == 0 ||
          line.find("FATAL") != std::string::npos || line.find("Usage") != std::string::npos ||
          line.empty() || line[0] == ' ')
        continue;
      if (line.rfind("EAL: ", 0) == 0) line.erase(0, 5);
      if (line.rfind("swarmdial: ", 0) == 0) line.erase(0, 11);
      return line;
    }
    return {};
  }

 private:
  void restore() {
    if (saved_out_ < 0) return;
    std::fflush(stdout);
    std::fflush(stderr);
    dup2(saved_out_, STDOUT_FILENO);
    dup2(saved_err_, STDERR_FILENO);
    close(saved_out_);
    close(saved_err_);
    saved_out_ = saved_err_ = -1;
  }
  int file_ = -1, saved_out_ = -1, saved_err_ = -1;
};

sigset_t tap_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGIO);
  for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) sigaddset(&set, s);
  return set;
}

// The one thread that lets the TAP driver's signal in, so its handler runs
// here and nowhere else. It sleeps in pause() between signals.
class TapSignalSink {
 public:
  explicit TapSignalSink(int signal) : signal_(signal) {
    thread_ = std::thread([this] {
      sigset_t one;
      sigemptyset(&one);
      sigaddset(&one, signal_);
      pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
      while (!stop_.load()) pause();
      exited_.store(true);
    });
  }
  ~TapSignalSink() {
    stop_.store(true);
    // Each signal ends one pause(); knock until the thread has seen stop_.
    while (!exited_.load()) {
      pthread_kill(thread_.native_handle(), signal_);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    thread_.join();
  }

  // The signal the TAP driver installed a handler for, or 0.
  static int find_tap_signal() {
    for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) {
      struct sigaction sa {};
      if (sigaction(s, nullptr, &sa) == 0 && sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
        return s;
    }
    struct sigaction sa {};
    if (sigaction(SIGIO, nullptr, &sa) == 0 && sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
      return SIGIO;
    return 0;
  }

 private:
  int signal_;
  std::atomic<bool> stop_{false}, exited_{false};
  std::thread thread_;
};

// shown: the arguments as the user gave them, for error messages.
void start_eal(const std::string& args, const std::string& shown) {
  static bool started = false;
  if (started) return;
  std::vector<std::string> words{"swarmdial"};
  std::istringstream in(args);
  for (std::string w; in >> w;) words.push_back(w);
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  // EAL prints its usage to stdout and its complaints to stderr; stdout
  // carries our result rows and a bad flag gets one line. So EAL speaks into
  // a scratch file while it starts, and on failure its first complaint
  // becomes part of our one line.
  rte_log_set_global_level(RTE_LOG_WARNING);
  int n;
  std::string said;
  // EAL pins the calling thread to its main lcore, and every thread started
  // later would inherit that one core: the result writer, the status line
  // and the metrics server would all crowd onto shard 0's core. The shards
  // pin themselves, so the caller gets its own affinity back.
  // DPDK's TAP driver learns that its interface has frames from a signal
  // (SIGIO in older releases, a free real-time signal carrying the fd in
  // newer ones): its receive burst reads nothing until that handler has run
  // since the last read. Delivered to any thread, the signal breaks poll(),
  // epoll_wait() and io_uring waits with EINTR. So these signals are blocked
  // here, before EAL and every later thread inherit the mask, and one thread
  // of the TAP's own takes them (TapSignalSink).
  sigset_t tap_signals = tap_signal_set();
  pthread_sigmask(SIG_BLOCK, &tap_signals, nullptr);
  cpu_set_t affinity;
  bool have_affinity = pthread_getaffinity_np(pthread_self(), sizeof affinity, &affinity) == 0;
  {
    CapturedOutput capture;
    n = rte_eal_init(static_cast<int>(words.size()), argv.data());
    said = capture.first_complaint();
  }
  if (have_affinity) pthread_setaffinity_np(pthread_self(), sizeof affinity, &affinity);
  rte_openlog_stream(stderr);
  if (n < 0) {
    throw std::runtime_error("--dpdk \"" + shown + "\": EAL did not start: " +
                             (said.empty() ? std::string(rte_strerror(rte_errno)) : said));
  }
  if (static_cast<size_t>(n) + 1 != words.size())
    throw std::runtime_error("--dpdk: unexpected argument \"" + words[n + 1] + "\"");
  started = true;
}

}  // namespace

std::unique_ptr<DpdkPort> DpdkPort::open(const DpdkPortConfig& cfg) {
  // The port object (whose destructor cleans EAL up) exists only once EAL
  // has started.
  auto program = std::make_unique<XdpProgramFile>();
  bool any_af_xdp = false;
  std::string args = with_xdp_program(cfg.eal_args, program->path(), any_af_xdp);
  if (cfg.exception_path) args = with_gso_frames(args);
  start_eal(args, cfg.eal_args);
  std::unique_ptr<DpdkPort> p(new DpdkPort);
  p->xdp_program_ = std::move(program);
  uint16_t port = RTE_MAX_ETHPORTS;
  uint16_t id;
  RTE_ETH_FOREACH_DEV(id) {
    port = id;
    break;
  }
  if (port == RTE_MAX_ETHPORTS)
    throw std::runtime_error(
        "--dpdk: no Ethernet port; add one, e.g. --vdev net_af_packet0,iface=IFACE");
  p->port_ = port;

  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) fail("port info", rc);
  p->driver_ = info.driver_name ? info.driver_name : "?";
  p->af_xdp_ = p->driver_ == "net_af_xdp";
  // The TAP path forwards whole GSO frames (see eal_args.hpp): they are
  // received into mbufs of their own, few and large.
  bool gso_rx = cfg.exception_path && p->driver_ == "net_af_packet";
  if (char name[IF_NAMESIZE]; info.if_index != 0 && if_indextoname(info.if_index, name))
    p->kernel_ifname_ = name;
  uint32_t port_queues = std::min(info.max_rx_queues, info.max_tx_queues);
  uint32_t queues = cfg.fit_queues ? std::max(1u, std::min(cfg.queues, port_queues)) : cfg.queues;
  p->queues_ = queues;
  if (queues > port_queues)
    throw std::runtime_error("--dpdk: port " + p->driver_ + " has " + std::to_string(port_queues) +
                             " queue pairs, --shards needs " + std::to_string(queues) +
                             " (net_af_packet: add qpairs=N)");

  rte_eth_conf conf{};
  constexpr uint64_t kTxCsum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  constexpr uint64_t kRxCsum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
  p->tx_csum_ = (info.tx_offload_capa & kTxCsum) == kTxCsum;
  p->rx_csum_ = (info.rx_offload_capa & kRxCsum) == kRxCsum;
  if (p->tx_csum_) conf.txmode.offloads |= kTxCsum;
  if (p->rx_csum_) conf.rxmode.offloads |= kRxCsum;
  if (queues > 1 && info.flow_type_rss_offloads != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP);
  }
  if (int rc = rte_eth_dev_configure(port, static_cast<uint16_t>(queues),
                                     static_cast<uint16_t>(queues), &conf);
      rc != 0)
    fail("configure port", rc);
  p->configured_ = true;
  uint16_t rxd = kRxDescriptors, txd = kTxDescriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
  int socket = rte_eth_dev_socket_id(port);
  if (socket < 0) socket = 0;

  for (uint32_t q = 0; q < queues; ++q) {
    // A waiting attempt holds no mbuf (a retransmitted SYN is built afresh),
    // so the pool covers the descriptor rings, the steering ring, the
    // per-core caches, and the answers a whole budget's worth of replies
    // can trigger in one go, capped: at that point the TX ring is the limit.
    uint32_t mbufs =
        rxd + txd + kSteeringRing + 4 * kMempoolCache + std::min(cfg.half_open, 16384u);
    std::string name = "sd_pool" + std::to_string(q);
    rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), mbufs, kMempoolCache, 0,
                                                RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (!pool) fail("mempool of " + std::to_string(mbufs) + " mbufs", rte_errno);
    p->pools_.push_back(pool);
    rte_mempool* rx_pool = pool;
    if (gso_rx) {
      std::string big = "sd_gso" + std::to_string(q);
      rx_pool = rte_pktmbuf_pool_create(big.c_str(), kGsoMbufs, 32, 0,
                                        RTE_PKTMBUF_HEADROOM + kAfPacketGsoData, socket);
      if (!rx_pool) fail("mempool of " + std::to_string(kGsoMbufs) + " GSO-sized mbufs", rte_errno);
      p->gso_pools_.push_back(rx_pool);
    }
    if (int rc = rte_eth_rx_queue_setup(port, static_cast<uint16_t>(q), rxd,
                                        static_cast<unsigned>(socket), nullptr, rx_pool);
        rc != 0)
      fail("RX queue " + std::to_string(q), rc);
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(port, static_cast<uint16_t>(q), txd,
                                        static_cast<unsigned>(socket), &txconf);
        rc != 0)
      fail("TX queue " + std::to_string(q), rc);
    std::string ring_name = "sd_steer" + std::to_string(q);
    // Many shards enqueue into it, only its owner dequeues.
    rte_ring* ring = rte_ring_create(ring_name.c_str(), kSteeringRing, socket, RING_F_SC_DEQ);
    if (!ring) fail("steering ring", rte_errno);
    p->rings_.push_back(ring);
  }
  if (int rc = rte_eth_dev_start(port); rc != 0) fail("start port", rc);
  p->started_ = true;
  if (cfg.exception_path && !p->af_xdp_) p->open_tap(cfg, socket);
  rte_ether_addr mac{};
  rte_eth_macaddr_get(port, &mac);
  std::memcpy(p->mac_.bytes.data(), mac.addr_bytes, 6);
  return p;
}

bool DpdkPort::steer_by_flow(uint16_t first_port, uint32_t ports_per_queue) {
  if (queues_ < 2) return false;
  for (uint32_t q = 0; q < queues_; ++q) {
    rte_flow_attr attr{};
    attr.ingress = 1;
    rte_flow_item_tcp spec{}, last{}, mask{};
    spec.hdr.dst_port = rte_cpu_to_be_16(static_cast<uint16_t>(first_port + q * ports_per_queue));
    last.hdr.dst_port =
        rte_cpu_to_be_16(static_cast<uint16_t>(first_port + (q + 1) * ports_per_queue - 1));
    mask.hdr.dst_port = 0xffff;
    rte_flow_item pattern[4] = {};
    pattern[0].type = RTE_FLOW_ITEM_TYPE_ETH;
    pattern[1].type = RTE_FLOW_ITEM_TYPE_IPV4;
    pattern[2].type = RTE_FLOW_ITEM_TYPE_TCP;
    pattern[2].spec = &spec;
    pattern[2].last = &last;
    pattern[2].mask = &mask;
    pattern[3].type = RTE_FLOW_ITEM_TYPE_END;
    rte_flow_action_queue queue{static_cast<uint16_t>(q)};
    rte_flow_action actions[2] = {};
    actions[0].type = RTE_FLOW_ACTION_TYPE_QUEUE;
    actions[0].conf = &queue;
    actions[1].type = RTE_FLOW_ACTION_TYPE_END;
    rte_flow_error error{};
    if (rte_flow_validate(port_, &attr, pattern, actions, &error) != 0 ||
        !rte_flow_create(port_, &attr, pattern, actions, &error)) {
      rte_flow_flush(port_, &error);  // all rules or none
      return false;
    }
  }
  flow_rules_ = true;
  return true;
}

void DpdkPort::open_tap(const DpdkPortConfig& cfg, int socket) {
  // The TAP gets its own vdev name so it is never mistaken for the wire
  // port, and runs one queue pair per shard: any shard may pass a frame to
  // the kernel or send one of the kernel's frames out.
  // The TAP driver reports optional features it cannot set up here (a
  // multiq qdisc, rte_flow through TC) as errors; a real failure comes back
  // from rte_vdev_init and is ours to report.
  rte_log_set_level_pattern("pmd.net.tap*", RTE_LOG_CRIT);
  std::string vdev = "net_tap_sd" + std::to_string(getpid());
  std::string args = "iface=" + cfg.tap_name;
  if (int rc = rte_vdev_init(vdev.c_str(), args.c_str()); rc != 0)
    fail("create TAP " + cfg.tap_name, rc);
  uint16_t id;
  if (int rc = rte_eth_dev_get_port_by_name(vdev.c_str(), &id); rc != 0) fail("TAP port", rc);
  tap_port_ = id;
  tap_name_ = cfg.tap_name;
  rte_eth_conf conf{};
  // A GSO frame from the wire goes in as one mbuf, and the TAP segments it
  // to its MTU (in software, with the checksums) on the way to the kernel.
  rte_eth_dev_info info{};
  constexpr uint64_t kTso =
      RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  if (rte_eth_dev_info_get(id, &info) == 0 && (info.tx_offload_capa & kTso) == kTso) {
    conf.txmode.offloads = kTso;
    tap_tso_ = true;
  }
  uint16_t q = static_cast<uint16_t>(queues_);
  if (int rc = rte_eth_dev_configure(id, q, q, &conf); rc != 0) fail("configure TAP", rc);
  for (uint16_t i = 0; i < q; ++i) {
    if (int rc =
            rte_eth_rx_queue_setup(id, i, 512, static_cast<unsigned>(socket), nullptr, pools_[i]);
        rc != 0)
      fail("TAP RX queue", rc);
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(id, i, 512, static_cast<unsigned>(socket), &txconf);
        rc != 0)
      fail("TAP TX queue", rc);
  }
  if (int rc = rte_eth_dev_start(id); rc != 0) fail("start TAP", rc);
  tap_started_ = true;
  if (int sig = TapSignalSink::find_tap_signal(); sig != 0)
    tap_signal_sink_ = std::make_shared<TapSignalSink>(sig);
  rte_ether_addr mac{};
  rte_eth_macaddr_get(id, &mac);
  std::memcpy(tap_mac_.bytes.data(), mac.addr_bytes, 6);
  if (rte_eth_dev_get_mtu(id, &tap_mtu_) != 0) tap_mtu_ = 1500;
}

DpdkPort::~DpdkPort() {
  if (tap_port_ != kNoPort) {
    tap_signal_sink_.reset();
    if (tap_started_) rte_eth_dev_stop(tap_port_);
    rte_eth_dev_close(tap_port_);
  }
  if (flow_rules_) {
    rte_flow_error error{};
    rte_flow_flush(port_, &error);
  }
  if (started_) rte_eth_dev_stop(port_);
  if (configured_) rte_eth_dev_close(port_);
  for (rte_ring* r : rings_) {
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
  }
  for (rte_mempool* pool : pools_) rte_mempool_free(pool);
  for (rte_mempool* pool : gso_pools_) rte_mempool_free(pool);
  rte_eal_cleanup();
}

}  // namespace swarmdial
