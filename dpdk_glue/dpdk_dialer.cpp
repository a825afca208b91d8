#include "dpdk_dialer.hpp"

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "engine/mono_clock.hpp"
#include "engine/tcp/byte_order.hpp"
#include "engine/tcp/handshake_engine.hpp"
#include "engine/tcp/packet_builder.hpp"
#include "kernel_neighbours.hpp"
#include "mbuf_tx.hpp"
#include "tcp_repair.hpp"
#include "xdp_steal_table.hpp"

namespace swarmdial {
namespace {

constexpr uint16_t kBurst = 64;

// Completed attempts waiting for reap(); at most one per slot. With the
// exception path, an established flow becomes its kernel socket right here,
// on the shard's thread, before the next received frame is looked at (TAP
// path) and before our ACK leaves (it is only queued yet): the flow's next
// packet must find the socket in place. On the AF_XDP path the slot's
// 4-tuple leaves the XDP program's map once the socket exists and before it
// leaves repair mode, so the program stops taking the flow's RSTs and
// retransmitted SYN-ACKs from the kernel exactly when the kernel can take
// them; a slot that ended any other way leaves the map at once.
class CompletionQueue final : public ResultSink {
 public:
  CompletionQueue(uint32_t capacity, bool repair, XdpStealTable* steal, uint32_t shard)
      : items_(capacity), repair_(repair), steal_(steal), shard_(shard) {}
  void on_result(const HandshakeResult& r) override {
    DialCompletion c{r.slot, r.err, r.rtt_ns, -1};
    if (r.err == 0 && repair_) {
      int fd = repair_begin(r.flow);
      if (steal_) steal_->clear(shard_, r.slot);
      if (fd >= 0) fd = repair_finish(fd);
      if (fd >= 0) {
        c.fd = fd;
      } else {
        c.err = -fd;
        ++repair_failed_;
      }
    } else if (steal_) {
      steal_->clear(shard_, r.slot);
    }
    items_[(head_ + size_) % items_.size()] = c;
    ++size_;
  }
  size_t drain(std::span<DialCompletion> out) {
    size_t n = 0;
    while (n < out.size() && size_ > 0) {
      out[n++] = items_[head_];
      head_ = (head_ + 1) % items_.size();
      --size_;
    }
    return n;
  }
  bool empty() const { return size_ == 0; }
  uint64_t repair_failed() const { return repair_failed_; }

 private:
  std::vector<DialCompletion> items_;
  bool repair_;
  XdpStealTable* steal_;
  uint32_t shard_;
  size_t head_ = 0, size_ = 0;
  uint64_t repair_failed_ = 0;
};

class DpdkDialer final : public Dialer {
 public:
  DpdkDialer(DpdkPort& port, const DpdkDialerConfig& cfg, const DialerOptions& opts)
      : port_(port),
        cfg_(cfg),
        queue_(static_cast<uint16_t>(opts.shard)),
        engine_(engine_config(port, cfg, opts)),
        tx_(port.port_id(), queue_, port.pool(opts.shard), port.tx_checksum_offload()),
        to_kernel_(port.has_tap() ? port.tap_port() : port.port_id(), queue_, port.pool(opts.shard),
                   false),
        done_(opts.half_open, engine_.config().keep_established, cfg.steal, opts.shard) {
    if (cfg.steal) {
      neighbours_.emplace(port.kernel_ifname());
      cfg.steal->shard_running(true);
    }
  }
  ~DpdkDialer() override { stopped(); }

  void stopped() override {
    if (cfg_.steal && running_) cfg_.steal->shard_running(false);
    running_ = false;
  }

  std::string_view name() const override { return "dpdk"; }

  void start(uint32_t slot, const Endpoint& dst, const IpAddress*, int64_t now_ns) override {
    uint32_t ip = wire::load32(dst.ip.bytes.data());
    // In the XDP program's map before the SYN can leave.
    if (cfg_.steal) cfg_.steal->mark(queue_, slot, ip, dst.port);
    engine_.start(slot, ip, dst.port, now_ns, tx_, done_);
    // A whole budget of SYNs can leave in one go (rate 0, or a neighbour
    // resolving for many waiters), and its answers arrive while we are still
    // sending: on a software port they land in a receive ring of a few
    // hundred frames. Draining the ring after every burst keeps it from
    // overflowing, as an l3fwd-style loop alternates RX and TX.
    if (++started_since_poll_ == kBurst) {
      started_since_poll_ = 0;
      tx_.flush();
      poll(now_ns);
    }
  }

  void submit() override { tx_.flush(); }

  size_t reap(std::span<DialCompletion> out, int64_t wait_ns) override {
    int64_t now = mono_ns();
    int64_t deadline = now + wait_ns;
    for (;;) {
      uint16_t got = poll(now);
      engine_.on_timers(now, tx_, done_);
      tx_.flush();
      to_kernel_.flush();
      if (!done_.empty()) return done_.drain(out);
      if (now >= deadline) return 0;
      if (got == 0) rte_pause();
      now = mono_ns();
    }
  }

  uint32_t in_flight() const override { return engine_.in_flight(); }

  // Only the TAP path forwards; on the AF_XDP path the kernel has the flows.
  bool forwards_for_kernel() const override {
    return engine_.config().keep_established && port_.has_tap();
  }

  bool wire_counts(WireCounts& w) const override {
    const HandshakeCounters& c = engine_.counters();
    auto set = [&w](WireCounter k, uint64_t v) { w[static_cast<int>(k)] = v; };
    set(WireCounter::kSynRetransmits, c.syn_retransmits);
    set(WireCounter::kBadAck, c.bad_ack);
    set(WireCounter::kResetsSent, c.resets_sent);
    set(WireCounter::kIgnoredResets, c.ignored_resets);
    set(WireCounter::kIgnoredIcmp, c.ignored_icmp);
    set(WireCounter::kStray, c.stray + unclaimed_);
    set(WireCounter::kInvalid, c.invalid);
    set(WireCounter::kArpRequests, c.arp_requests);
    set(WireCounter::kArpReplies, c.arp_replies);
    set(WireCounter::kArpFailures, c.arp_failures);
    set(WireCounter::kTxDropped,
        tx_.dropped() + c.tx_no_buffer + to_kernel_.dropped() + oversized_);
    set(WireCounter::kSteeredAway, steered_away_);
    set(WireCounter::kToKernel, to_kernel_count_);
    set(WireCounter::kFromKernel, from_kernel_count_);
    set(WireCounter::kNoNeighbour, no_neighbour_);
    set(WireCounter::kRepairFailed, done_.repair_failed());
    set(WireCounter::kNeighboursToKernel, neighbours_ ? neighbours_->pushed() : 0);
    set(WireCounter::kNeighbourPushFailed, neighbours_ ? neighbours_->failed() : 0);
    return true;
  }

 private:
  static HandshakeConfig engine_config(DpdkPort& port, const DpdkDialerConfig& cfg,
                                       const DialerOptions& opts) {
    // Shard threads are not EAL lcores: registering gives this one an lcore
    // id, so the mempool's per-core cache works for it.
    if (rte_lcore_id() == LCORE_ID_ANY) rte_thread_register();
    HandshakeConfig c;
    c.shard = opts.shard;
    c.capacity = opts.half_open;
    c.ports = cfg.ports;
    c.our_mac = port.mac();
    c.gateway = cfg.gateway;
    c.timeout_ns = opts.timeout_ns;
    c.isn_key = {rte_rand(), rte_rand()};
    c.fill = port.tx_checksum_offload() ? ChecksumFill::kOffload : ChecksumFill::kSoftware;
    // On the AF_XDP path the kernel owns our addresses and answers ARP.
    c.answer_arp = cfg.steal == nullptr;
    // Without the exception path (no TCP_REPAIR here) the run is dial-only.
    c.keep_established = opts.keep_established && (port.has_tap() || cfg.steal);
    return c;
  }

  uint16_t poll(int64_t now) {
    std::array<rte_mbuf*, kBurst> rx;
    uint16_t n = rte_eth_rx_burst(port_.port_id(), queue_, rx.data(), kBurst);
    for (uint16_t i = 0; i < n; ++i) handle(rx[i], now, /*from_wire=*/true);
    uint16_t steered = 0;
    if (cfg_.shards > 1) {
      steered = static_cast<uint16_t>(rte_ring_dequeue_burst(
          port_.steering_ring(queue_), reinterpret_cast<void**>(rx.data()), kBurst, nullptr));
      for (uint16_t i = 0; i < steered; ++i) handle(rx[i], now, /*from_wire=*/false);
    }
    uint16_t from_kernel = 0;
    if (port_.has_tap()) {
      from_kernel = rte_eth_rx_burst(port_.tap_port(), queue_, rx.data(), kBurst);
      for (uint16_t i = 0; i < from_kernel; ++i) send_kernel_frame(rx[i]);
    }
    if (neighbours_) neighbours_->flush();
    return static_cast<uint16_t>(n + steered + from_kernel);
  }

  // A frame a repaired socket (or the kernel's listener) sent through the
  // TAP: it leaves on the wire with our MAC and the next hop's. The TAP runs
  // without ARP, so the kernel addressed it to the TAP itself.
  void send_kernel_frame(rte_mbuf* m) {
    uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
    if (m->nb_segs != 1 || m->data_len < kEthHeader + kIpv4Header || d[12] != 0x08 ||
        d[13] != 0x00) {  // IPv6 neighbour discovery and the like: not for this wire
      rte_pktmbuf_free(m);
      return;
    }
    const MacAddress* next = engine_.neighbour_for(wire::load32(d + kEthHeader + 16));
    if (!next) {
      ++no_neighbour_;
      rte_pktmbuf_free(m);
      return;
    }
    std::memcpy(d, next->bytes.data(), 6);
    std::memcpy(d + 6, engine_.config().our_mac.bytes.data(), 6);
    m->ol_flags = 0;
    ++from_kernel_count_;
    tx_.forward(m);
  }

  // A frame that is not a handshake of ours goes to the kernel, addressed
  // to the TAP, or is dropped when there is no TAP. On the AF_XDP path the
  // program gave us only handshakes in flight; one that is not (a SYN-ACK
  // repeated after the flow became a socket) would have gone to that
  // socket, which answers it from its own state anyway.
  void pass_to_kernel(rte_mbuf* m, const ParsedFrame& f) {
    if (!port_.has_tap()) {
      if (cfg_.steal) ++unclaimed_;
      rte_pktmbuf_free(m);
      return;
    }
    uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
    m->ol_flags = 0;
    if (m->data_len > port_.tap_mtu() + kEthHeader) {
      // A GSO frame (a veth peer's TSO, a NIC's GRO): the TAP cuts it to
      // its MTU and fills in each piece's checksums.
      if (f.kind != FrameKind::kTcp || !port_.tap_tso()) {
        ++oversized_;
        rte_pktmbuf_free(m);
        return;
      }
      m->l2_len = kEthHeader;
      m->l3_len = static_cast<uint64_t>(d[kEthHeader] & 0x0f) * 4;
      m->l4_len = static_cast<uint64_t>(d[kEthHeader + m->l3_len + 12] >> 4) * 4;
      // DPDK's TAP holds the whole segment, Ethernet header included, to its MTU.
      m->tso_segsz = static_cast<uint16_t>(port_.tap_mtu() - m->l2_len - m->l3_len - m->l4_len);
      m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM |
                    RTE_MBUF_F_TX_TCP_SEG;
    } else if (f.kind == FrameKind::kTcp && f.tcp.checksum_partial) {
      // The kernel behind the TAP checks every checksum (it gets no offload
      // metadata): a local sender's partial one would be dropped there.
      complete_tcp_checksum({d, m->data_len});
    }
    std::memcpy(d, port_.tap_mac().bytes.data(), 6);
    ++to_kernel_count_;
    to_kernel_.forward(m);
  }

  void handle(rte_mbuf* m, int64_t now, bool from_wire) {
    if (m->nb_segs != 1) {  // handshake frames are small; jumbo chains are not ours
      rte_pktmbuf_free(m);
      return;
    }
    L4Checksum l4 = L4Checksum::kVerify;
    if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
      l4 = L4Checksum::kTrusted;
    std::span<const uint8_t> bytes{rte_pktmbuf_mtod(m, const uint8_t*), m->data_len};
    ParsedFrame f = parse_frame(bytes, l4);
    if (f.src_mac == engine_.config().our_mac) {  // our own frame, seen by a capture port
      rte_pktmbuf_free(m);
      return;
    }
    if (neighbours_ && from_wire && f.kind == FrameKind::kArp && f.arp.op == 2)
      neighbours_->learned(f.arp.sender_ip, f.arp.sender_mac);
    if (from_wire && cfg_.shards > 1 && steer(f, m)) return;
    if (engine_.on_frame(f, now, tx_, done_) == Disposition::kPassToKernel)
      pass_to_kernel(m, f);
    else
      rte_pktmbuf_free(m);
  }

  // Hands a frame that belongs to another shard to that shard's ring.
  // Returns true when the mbuf left this shard.
  bool steer(const ParsedFrame& f, rte_mbuf* m) {
    std::optional<SlotRef> owner;
    if (f.kind == FrameKind::kTcp) owner = cfg_.ports.owner(f.dst_ip, f.tcp.dst_port);
    if (f.kind == FrameKind::kIcmpUnreachable)
      owner = cfg_.ports.owner(f.quoted.src_ip, f.quoted.src_port);
    if (f.kind == FrameKind::kArp && f.arp.op == 2) {
      // Every shard keeps its own neighbour table: each learns from replies.
      for (uint32_t s = 0; s < cfg_.shards; ++s) {
        if (s == queue_) continue;
        rte_mbuf_refcnt_update(m, 1);
        if (rte_ring_enqueue(port_.steering_ring(s), m) != 0) rte_pktmbuf_free(m);
      }
      return false;
    }
    if (!owner || owner->shard == queue_) return false;
    if (rte_ring_enqueue(port_.steering_ring(owner->shard), m) != 0) rte_pktmbuf_free(m);
    ++steered_away_;
    return true;
  }

  DpdkPort& port_;
  DpdkDialerConfig cfg_;
  uint16_t queue_;
  HandshakeEngine engine_;
  MbufTx tx_;
  MbufTx to_kernel_;  // the TAP's queue of this shard
  CompletionQueue done_;
  std::optional<KernelNeighbours> neighbours_;  // the AF_XDP path
  uint64_t unclaimed_ = 0;
  uint64_t oversized_ = 0;  // larger than the TAP's MTU and not segmentable
  bool running_ = true;
  uint32_t started_since_poll_ = 0;
  uint64_t steered_away_ = 0, to_kernel_count_ = 0, from_kernel_count_ = 0, no_neighbour_ = 0;
};

}  // namespace

std::unique_ptr<Dialer> make_dpdk_dialer(DpdkPort& port, const DpdkDialerConfig& config,
                                         const DialerOptions& options) {
  return std::make_unique<DpdkDialer>(port, config, options);
}

}  // namespace swarmdial
