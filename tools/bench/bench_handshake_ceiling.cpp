// Engine-only handshake ceiling: no kernel in the loop. Two DPDK ports made
// from a pair of rte_rings (net_ring) face each other. On one, the dpdk
// backend's HandshakeEngine (the same class, sink and codec the dialer
// uses, software checksums, dial-only: ACK then RST) dials; on the other an
// emulated peer answers ARP, and every SYN with a SYN-ACK (ack = seq + 1),
// and frees the ACKs and RSTs. Both run on this one thread, so the figure is
// completed handshakes per second on one core with the peer's cost
// included; the cycles of each side are timed separately as well.
//
// Usage: bench_handshake_ceiling [--handshakes N] [--budget N] [--seconds S] [EAL ARGS...]
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dpdk_glue/mbuf_tx.hpp"
#include "engine/mono_clock.hpp"
#include "engine/tcp/handshake_engine.hpp"
#include "engine/tcp/packet_builder.hpp"
#include "engine/tcp/packet_parser.hpp"

using namespace swarmdial;

namespace {

constexpr uint32_t kEngineIp = 0xC6120264;    // 198.18.2.100
constexpr uint32_t kTargetBase = 0xC6124000;  // 198.18.64.0: the peer answers for a /18
constexpr uint32_t kTargets = 1u << 14;
constexpr uint32_t kPeerIsn = 0x5eed0001;
const MacAddress kEngineMac{{0x02, 0x53, 0x44, 0, 0, 1}};
const MacAddress kPeerMac{{0x02, 0x53, 0x44, 0, 0, 2}};

uint16_t make_port(const char* name, rte_ring* rx, rte_ring* tx, rte_mempool* pool) {
  int port = rte_eth_from_rings(name, &rx, 1, &tx, 1, rte_socket_id());
  if (port < 0) {
    std::fprintf(stderr, "rte_eth_from_rings %s failed\n", name);
    std::exit(1);
  }
  rte_eth_conf conf{};
  uint16_t id = static_cast<uint16_t>(port);
  if (rte_eth_dev_configure(id, 1, 1, &conf) != 0 ||
      rte_eth_rx_queue_setup(id, 0, 1024, rte_socket_id(), nullptr, pool) != 0 ||
      rte_eth_tx_queue_setup(id, 0, 1024, rte_socket_id(), nullptr) != 0 ||
      rte_eth_dev_start(id) != 0) {
    std::fprintf(stderr, "port %s did not start\n", name);
    std::exit(1);
  }
  return id;
}

class CountResults final : public ResultSink {
 public:
  void on_result(const HandshakeResult& r) override {
    if (r.err == 0)
      ++established;
    else
      ++failed;
    free_slots.push_back(r.slot);
  }
  uint64_t established = 0, failed = 0;
  std::vector<uint32_t> free_slots;
};

// The emulated peer: rewrites each SYN into its SYN-ACK in the same mbuf.
// Returns the number of frames put back into `out`.
uint16_t answer(rte_mbuf** in, uint16_t n, rte_mbuf** out) {
  uint16_t k = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = in[i];
    uint8_t* data = rte_pktmbuf_mtod(m, uint8_t*);
    ParsedFrame f = parse_frame({data, m->data_len});
    std::span<uint8_t> buf{data, static_cast<size_t>(m->buf_len - m->data_off)};
    size_t len = 0;
    if (f.kind == FrameKind::kTcp && f.tcp.flags == tcp_flag::kSyn) {
      SegmentFields s;
      s.addr = {kPeerMac, f.src_mac, f.dst_ip, f.src_ip, f.tcp.dst_port, f.tcp.src_port};
      s.seq = kPeerIsn;
      s.ack = f.tcp.seq + 1;
      s.flags = tcp_flag::kSyn | tcp_flag::kAck;
      s.window = 65535;
      len = build_segment(buf, s, ChecksumFill::kSoftware);
    } else if (f.kind == FrameKind::kArp && f.arp.op == 1) {
      len = build_arp(buf, ArpOp::kReply, kPeerMac, f.arp.target_ip, f.arp.sender_mac,
                      f.arp.sender_ip);
    }
    if (len == 0) {
      rte_pktmbuf_free(m);  // the engine's ACKs and RSTs end here
      continue;
    }
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = static_cast<uint32_t>(len);
    out[k++] = m;
  }
  return k;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t total = 20'000'000;
  uint32_t budget = 4096;
  double seconds = 5;
  std::vector<char*> eal{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--handshakes" && i + 1 < argc)
      total = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--budget" && i + 1 < argc)
      budget = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    else if (a == "--seconds" && i + 1 < argc)
      seconds = std::strtod(argv[++i], nullptr);
    else
      eal.push_back(argv[i]);
  }
  if (rte_eal_init(static_cast<int>(eal.size()), eal.data()) < 0) {
    std::fprintf(stderr, "EAL did not start\n");
    return 1;
  }
  rte_mempool* pool =
      rte_pktmbuf_pool_create("hs_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  rte_ring* to_peer =
      rte_ring_create("to_peer", 4096, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* to_engine =
      rte_ring_create("to_engine", 4096, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (!pool || !to_peer || !to_engine) {
    std::fprintf(stderr, "no memory for the pool or rings\n");
    return 1;
  }
  uint16_t engine_port = make_port("hs_engine", to_engine, to_peer, pool);
  uint16_t peer_port = make_port("hs_peer", to_peer, to_engine, pool);

  std::string why;
  auto plan = SourcePortPlan::make(kEngineIp, 1, 1, budget, 20000, why);
  if (!plan) {
    std::fprintf(stderr, "--budget: %s\n", why.c_str());
    return 2;
  }
  HandshakeConfig cfg;
  cfg.capacity = budget;
  cfg.ports = *plan;
  cfg.our_mac = kEngineMac;
  cfg.timeout_ns = 1'000'000'000;
  cfg.isn_key = {0x0123456789abcdefull, 0xfedcba9876543210ull};
  cfg.fill = ChecksumFill::kSoftware;
  HandshakeEngine engine(cfg);
  MbufTx tx(engine_port, 0, pool, false);
  CountResults results;
  results.free_slots.reserve(budget);
  for (uint32_t s = budget; s-- > 0;) results.free_slots.push_back(s);

  std::array<rte_mbuf*, 64> rx, back;
  uint64_t started = 0, engine_cycles = 0, peer_cycles = 0;
  uint64_t t_begin = rte_rdtsc();
  int64_t wall_begin = mono_ns();
  int64_t deadline = wall_begin + static_cast<int64_t>(seconds * 1e9);
  int64_t now = wall_begin;
  for (uint64_t loop = 0; results.established + results.failed < total; ++loop) {
    uint64_t t0 = rte_rdtsc();
    if ((loop & 63) == 0) {
      now = mono_ns();
      if (now >= deadline) break;
      engine.on_timers(now, tx, results);
    }
    // One TX burst of new SYNs per turn, as the dialer's shard launches in
    // batches: the ring between the ports holds what a burst leaves behind.
    for (int burst = 0; burst < kTxBurst && !results.free_slots.empty() && started < total;
         ++burst) {
      uint32_t slot = results.free_slots.back();
      results.free_slots.pop_back();
      uint32_t i = static_cast<uint32_t>(started++);
      engine.start(slot, kTargetBase + (i % kTargets),
                   static_cast<uint16_t>(1000 + i / kTargets % 50000), now, tx, results);
    }
    tx.flush();
    uint64_t t1 = rte_rdtsc();
    // Each side drains its queue every turn, as a busy-polling shard does.
    uint16_t n;
    do {
      n = rte_eth_rx_burst(peer_port, 0, rx.data(), 64);
      uint16_t k = answer(rx.data(), n, back.data());
      uint16_t sent = k ? rte_eth_tx_burst(peer_port, 0, back.data(), k) : 0;
      for (uint16_t j = sent; j < k; ++j) rte_pktmbuf_free(back[j]);
    } while (n == 64);
    uint64_t t2 = rte_rdtsc();
    do {
      n = rte_eth_rx_burst(engine_port, 0, rx.data(), 64);
      for (uint16_t j = 0; j < n; ++j) {
        rte_mbuf* m = rx[j];
        ParsedFrame f = parse_frame({rte_pktmbuf_mtod(m, const uint8_t*), m->data_len});
        engine.on_frame(f, now, tx, results);
        rte_pktmbuf_free(m);
      }
      tx.flush();
    } while (n == 64);
    uint64_t t3 = rte_rdtsc();
    engine_cycles += (t1 - t0) + (t3 - t2);
    peer_cycles += t2 - t1;
  }
  double wall = static_cast<double>(mono_ns() - wall_begin) / 1e9;
  uint64_t cycles = rte_rdtsc() - t_begin;
  uint64_t done = results.established;
  double hz = static_cast<double>(rte_get_tsc_hz());
  std::printf("handshakes %lu established, %lu failed, in %.3f s on one core\n",
              static_cast<unsigned long>(done), static_cast<unsigned long>(results.failed), wall);
  std::printf("rate %.0f handshakes/s (peer included)\n", static_cast<double>(done) / wall);
  std::printf("cycles per handshake: %.0f total, %.0f engine, %.0f emulated peer (TSC %.2f GHz)\n",
              static_cast<double>(cycles) / static_cast<double>(done),
              static_cast<double>(engine_cycles) / static_cast<double>(done),
              static_cast<double>(peer_cycles) / static_cast<double>(done), hz / 1e9);
  std::printf("engine-only rate %.0f handshakes/s\n",
              hz / (static_cast<double>(engine_cycles) / static_cast<double>(done)));
  const HandshakeCounters& c = engine.counters();
  std::printf("engine counters: syns %lu acks %lu resets %lu invalid %lu stray %lu bad_ack %lu\n",
              static_cast<unsigned long>(c.syns), static_cast<unsigned long>(c.acks),
              static_cast<unsigned long>(c.resets_sent), static_cast<unsigned long>(c.invalid),
              static_cast<unsigned long>(c.stray), static_cast<unsigned long>(c.bad_ack));
  return results.failed == 0 && done > 0 ? 0 : 1;
}
