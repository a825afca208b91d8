#pragma once
// One shard's userspace TCP client handshakes, sans I/O: it is given attempts,
// received frames and the time, and answers with frames to transmit and
// completed attempts. The DPDK glue only moves bytes in and out of mbufs.
//
// The flow table is the shard's slot array (capacity = the half-open budget):
// slot i always dials from the same local endpoint (SourcePortPlan), so a
// reply finds its flow by its destination port, and the 4-tuple is checked
// against the slot. Timers are one intrusive FIFO per retransmission stage:
// every flow follows the same schedule from its start, so each FIFO stays in
// deadline order and a timer costs O(1).
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "arp_cache.hpp"
#include "frame_layout.hpp"
#include "isn_generator.hpp"
#include "packet_parser.hpp"
#include "source_port_plan.hpp"

namespace swarmdial {

struct HandshakeConfig {
  uint32_t shard = 0;
  uint32_t capacity = 1;  // the shard's half-open budget
  SourcePortPlan ports;
  MacAddress our_mac;
  std::optional<uint32_t> gateway;  // next hop for every target; none = targets are on-link
  int64_t timeout_ns = 1'000'000'000;
  uint16_t mss = 1460;
  uint8_t window_scale = 7;
  uint16_t window = 64240;  // in the SYN, as Linux
  std::array<uint64_t, 2> isn_key{};
  ChecksumFill fill = ChecksumFill::kSoftware;
  bool answer_arp = true;  // this shard answers ARP requests for our addresses
  // Established flows are kept for a handoff (their later packets belong to
  // the kernel socket); otherwise they are reset right after the final ACK.
  bool keep_established = false;
};

// What TCP_REPAIR needs to rebuild an established flow as a kernel socket.
struct EstablishedFlow {
  LocalEndpoint local;
  uint32_t remote_ip = 0;
  uint16_t remote_port = 0;
  uint32_t iss = 0;  // our initial sequence number
  uint32_t irs = 0;  // the peer's
  uint16_t peer_mss = 536;
  int8_t peer_window_scale = -1;  // -1: the peer did not offer scaling
  uint8_t our_window_scale = 0;
  bool sack_permitted = false;
  bool timestamps = false;
  uint32_t ts_now = 0;       // our timestamp clock when the ACK left
  uint32_t ts_recent = 0;    // the peer's last TSval
  uint16_t peer_window = 0;  // the SYN-ACK's window (never scaled)
  uint32_t our_window = 0;   // the window our ACK advertised, in bytes
};

struct HandshakeResult {
  uint32_t slot = 0;
  int err = 0;  // 0 established, ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENOBUFS
  int64_t rtt_ns = -1;
  EstablishedFlow flow;  // err == 0
};

// Where frames go out. next_buffer() returns room for one frame (empty when
// the transmit side has no buffer: the engine counts the frame as dropped
// and its timers resend it).
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual std::span<uint8_t> next_buffer() = 0;
  virtual void commit(size_t length) = 0;
};

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void on_result(const HandshakeResult& r) = 0;
};

struct HandshakeCounters {
  uint64_t syns = 0, syn_retransmits = 0, acks = 0, resets_sent = 0;
  uint64_t established = 0, refused = 0, unreachable = 0, timeouts = 0;
  uint64_t bad_ack = 0;         // SYN-ACK whose ack != iss+1 (answered with RST)
  uint64_t ignored_resets = 0;  // RST that does not ack our SYN
  uint64_t ignored_icmp = 0;    // ICMP quoting a segment we did not send
  uint64_t stray = 0;           // for a free slot or another 4-tuple
  uint64_t invalid = 0;         // failed validation in the codec
  uint64_t arp_requests = 0, arp_replies = 0, arp_failures = 0;
  uint64_t tx_no_buffer = 0;
  uint32_t high_water = 0;
};

enum class Disposition : uint8_t {
  kConsumed,      // handled (or counted and dropped)
  kPassToKernel,  // not a handshake packet of ours: the exception path's
};

class HandshakeEngine {
 public:
  explicit HandshakeEngine(const HandshakeConfig& config);

  // Starts an attempt in a free slot: the SYN leaves now, or once ARP
  // resolves the next hop. Slot must be < capacity and free.
  void start(uint32_t slot, uint32_t dst_ip, uint16_t dst_port, int64_t now, FrameSink& tx,
             ResultSink& results);
  // A frame received for this shard (already parsed once by the caller, who
  // steered it here by its destination port).
  Disposition on_frame(const ParsedFrame& frame, int64_t now, FrameSink& tx, ResultSink& results);
  // Retransmissions, deadlines and ARP retries due by now.
  void on_timers(int64_t now, FrameSink& tx, ResultSink& results);
  // The earliest time on_timers has work (INT64_MAX when idle).
  int64_t next_timer_ns() const;

  uint32_t in_flight() const { return open_; }
  // The MAC of dst's next hop, for frames the kernel sends through the
  // exception path (handed-off flows): nullptr when it is not resolved.
  const MacAddress* neighbour_for(uint32_t dst) {
    const ArpEntry* e = arp_.find(next_hop_for(dst));
    return e && e->resolved ? &e->mac : nullptr;
  }
  const HandshakeCounters& counters() const { return counters_; }
  const HandshakeConfig& config() const { return cfg_; }

 private:
  enum class State : uint8_t { kFree, kResolving, kSynSent };
  struct Flow {
    uint32_t remote_ip = 0;
    uint16_t remote_port = 0;
    State state = State::kFree;
    uint8_t stage = 0;
    uint32_t iss = 0;
    uint32_t ts_offset = 0;
    int64_t start_ns = 0;
    uint32_t timer_prev = kNoSlot, timer_next = kNoSlot;
    uint32_t next_waiter = kNoSlot;
    uint32_t next_hop = 0;
  };

  uint32_t next_hop_for(uint32_t dst) const { return cfg_.gateway ? *cfg_.gateway : dst; }
  uint32_t ts_clock(const Flow& f, int64_t now) const {
    return static_cast<uint32_t>(now / 1'000'000) + f.ts_offset;
  }
  void send_syn(uint32_t slot, int64_t now, FrameSink& tx);
  void send_segment(const FlowAddress& a, uint32_t seq, uint32_t ack, uint8_t flags,
                    uint16_t window, const TcpOptions* peer, uint32_t ts_val, FrameSink& tx);
  void send_arp_request(uint32_t ip, FrameSink& tx);
  void on_tcp(const ParsedFrame& f, uint32_t slot, int64_t now, FrameSink& tx, ResultSink& results);
  void on_icmp(const ParsedFrame& f, int64_t now, ResultSink& results);
  void on_arp(const ParsedFrame& f, int64_t now, FrameSink& tx);
  void finish(uint32_t slot, int err, int64_t now, ResultSink& results,
              const EstablishedFlow* flow = nullptr);
  void timer_link(uint32_t slot, uint8_t stage);
  void timer_unlink(uint32_t slot);
  void arp_unwait(uint32_t slot);
  FlowAddress flow_address(uint32_t slot, const MacAddress& dst_mac) const;

  HandshakeConfig cfg_;
  IsnGenerator isn_;
  std::vector<Flow> flows_;
  // Stage k fires at stage_offset_[k] after the start; the last stage is
  // the deadline, the ones before it SYN retransmissions (1 s, 3 s, 7 s...).
  std::vector<int64_t> stage_offset_;
  std::vector<uint32_t> stage_head_, stage_tail_;
  ArpCache arp_;
  int64_t next_arp_tick_ns_ = 0;
  uint32_t open_ = 0;
  uint16_t ip_id_ = 0;
  HandshakeCounters counters_;
};

}  // namespace swarmdial
