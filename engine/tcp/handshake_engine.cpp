#include "handshake_engine.hpp"

#include <cerrno>
#include <climits>

#include "packet_builder.hpp"

namespace swarmdial {
namespace {
constexpr int64_t kInitialRtoNs = 1'000'000'000;  // RFC 6298, as Linux's SYN RTO
constexpr int64_t kArpTickNs = 50'000'000;
}  // namespace

HandshakeEngine::HandshakeEngine(const HandshakeConfig& config)
    : cfg_(config), isn_(config.isn_key), flows_(config.capacity), arp_(config.capacity * 2) {
  for (int64_t at = kInitialRtoNs, rto = kInitialRtoNs; at < cfg_.timeout_ns; rto *= 2, at += rto)
    stage_offset_.push_back(at);
  stage_offset_.push_back(cfg_.timeout_ns);
  stage_head_.assign(stage_offset_.size(), kNoSlot);
  stage_tail_.assign(stage_offset_.size(), kNoSlot);
}

FlowAddress HandshakeEngine::flow_address(uint32_t slot, const MacAddress& dst_mac) const {
  LocalEndpoint local = cfg_.ports.local(cfg_.shard, slot);
  const Flow& f = flows_[slot];
  return {cfg_.our_mac, dst_mac, local.ip, f.remote_ip, local.port, f.remote_port};
}

void HandshakeEngine::timer_link(uint32_t slot, uint8_t stage) {
  Flow& f = flows_[slot];
  f.stage = stage;
  f.timer_next = kNoSlot;
  f.timer_prev = stage_tail_[stage];
  if (f.timer_prev == kNoSlot)
    stage_head_[stage] = slot;
  else
    flows_[f.timer_prev].timer_next = slot;
  stage_tail_[stage] = slot;
}

void HandshakeEngine::timer_unlink(uint32_t slot) {
  Flow& f = flows_[slot];
  if (f.timer_prev == kNoSlot)
    stage_head_[f.stage] = f.timer_next;
  else
    flows_[f.timer_prev].timer_next = f.timer_next;
  if (f.timer_next == kNoSlot)
    stage_tail_[f.stage] = f.timer_prev;
  else
    flows_[f.timer_next].timer_prev = f.timer_prev;
  f.timer_prev = f.timer_next = kNoSlot;
}

void HandshakeEngine::arp_unwait(uint32_t slot) {
  ArpEntry* e = arp_.find(flows_[slot].next_hop);
  if (!e) return;
  for (uint32_t* link = &e->first_waiter; *link != kNoSlot; link = &flows_[*link].next_waiter) {
    if (*link == slot) {
      *link = flows_[slot].next_waiter;
      break;
    }
  }
}

void HandshakeEngine::start(uint32_t slot, uint32_t dst_ip, uint16_t dst_port, int64_t now,
                            FrameSink& tx, ResultSink& results) {
  Flow& f = flows_[slot];
  LocalEndpoint local = cfg_.ports.local(cfg_.shard, slot);
  f = Flow{};
  f.remote_ip = dst_ip;
  f.remote_port = dst_port;
  f.start_ns = now;
  f.iss = isn_.isn(local.ip, local.port, dst_ip, dst_port, now);
  f.ts_offset = isn_.timestamp_offset(local.ip, dst_ip);
  f.next_hop = next_hop_for(dst_ip);
  ++open_;
  if (open_ > counters_.high_water) counters_.high_water = open_;
  timer_link(slot, 0);

  ArpEntry* e = arp_.lookup_or_insert(f.next_hop, now);
  if (!e) {  // neighbour table full of unresolved entries
    finish(slot, ENOBUFS, now, results);
    return;
  }
  if (e->resolved) {
    f.state = State::kSynSent;
    send_syn(slot, now, tx);
    return;
  }
  f.state = State::kResolving;
  f.next_waiter = e->first_waiter;
  e->first_waiter = slot;
  if (e->requests == 0) {
    send_arp_request(e->ip, tx);
    e->requests = 1;
    e->next_request_ns = now + ArpCache::kRetryNs;
  }
}

void HandshakeEngine::send_syn(uint32_t slot, int64_t now, FrameSink& tx) {
  Flow& f = flows_[slot];
  ArpEntry* e = arp_.find(f.next_hop);
  std::span<uint8_t> buf = tx.next_buffer();
  if (buf.empty() || !e || !e->resolved) {
    ++counters_.tx_no_buffer;
    return;
  }
  SynFields s;
  s.addr = flow_address(slot, e->mac);
  s.seq = f.iss;
  s.mss = cfg_.mss;
  s.window_scale = cfg_.window_scale;
  s.window = cfg_.window;
  s.ts_val = ts_clock(f, now);
  s.ip_id = ip_id_++;
  tx.commit(build_syn(buf, s, cfg_.fill));
  ++counters_.syns;
}

void HandshakeEngine::send_segment(const FlowAddress& a, uint32_t seq, uint32_t ack, uint8_t flags,
                                   uint16_t window, const TcpOptions* peer, uint32_t ts_val,
                                   FrameSink& tx) {
  std::span<uint8_t> buf = tx.next_buffer();
  if (buf.empty()) {
    ++counters_.tx_no_buffer;
    return;
  }
  SegmentFields s;
  s.addr = a;
  s.seq = seq;
  s.ack = ack;
  s.flags = flags;
  s.window = window;
  s.timestamps = peer && peer->timestamps;
  s.ts_val = ts_val;
  s.ts_ecr = peer ? peer->ts_val : 0;
  s.ip_id = ip_id_++;
  tx.commit(build_segment(buf, s, cfg_.fill));
}

void HandshakeEngine::send_arp_request(uint32_t ip, FrameSink& tx) {
  std::span<uint8_t> buf = tx.next_buffer();
  if (buf.empty()) {
    ++counters_.tx_no_buffer;
    return;
  }
  tx.commit(build_arp(buf, ArpOp::kRequest, cfg_.our_mac, cfg_.ports.first_ip(), MacAddress{}, ip));
  ++counters_.arp_requests;
}

void HandshakeEngine::finish(uint32_t slot, int err, int64_t now, ResultSink& results,
                             const EstablishedFlow* flow) {
  Flow& f = flows_[slot];
  if (f.state == State::kResolving) arp_unwait(slot);
  timer_unlink(slot);
  f.state = State::kFree;
  --open_;
  HandshakeResult r;
  r.slot = slot;
  r.err = err;
  r.rtt_ns = err == ETIMEDOUT ? -1 : now - f.start_ns;
  if (flow) r.flow = *flow;
  switch (err) {
    case 0:
      ++counters_.established;
      break;
    case ECONNREFUSED:
      ++counters_.refused;
      break;
    case ETIMEDOUT:
      ++counters_.timeouts;
      break;
    default:
      ++counters_.unreachable;
      break;
  }
  results.on_result(r);
}

Disposition HandshakeEngine::on_frame(const ParsedFrame& f, int64_t now, FrameSink& tx,
                                      ResultSink& results) {
  switch (f.kind) {
    case FrameKind::kInvalid:
      ++counters_.invalid;
      return Disposition::kConsumed;
    case FrameKind::kArp:
      on_arp(f, now, tx);
      return Disposition::kConsumed;
    case FrameKind::kIcmpUnreachable:
      if (!cfg_.ports.is_local_address(f.quoted.src_ip)) return Disposition::kPassToKernel;
      on_icmp(f, now, results);
      return Disposition::kConsumed;
    case FrameKind::kTcp: {
      auto owner = cfg_.ports.owner(f.dst_ip, f.tcp.dst_port);
      if (!owner || owner->shard != cfg_.shard) return Disposition::kPassToKernel;
      const Flow& flow = flows_[owner->slot];
      bool ours = flow.state == State::kSynSent && flow.remote_ip == f.src_ip &&
                  flow.remote_port == f.tcp.src_port;
      // Not a handshake of ours: either a flow already handed to the kernel
      // (its later packets) or a stray to reset, per RFC 793's CLOSED state.
      if (!ours && cfg_.keep_established) return Disposition::kPassToKernel;
      on_tcp(f, owner->slot, now, tx, results);
      return Disposition::kConsumed;
    }
    case FrameKind::kIgnored:
      break;
  }
  return Disposition::kPassToKernel;
}

void HandshakeEngine::on_tcp(const ParsedFrame& p, uint32_t slot, int64_t now, FrameSink& tx,
                             ResultSink& results) {
  Flow& f = flows_[slot];
  const TcpSegmentView& t = p.tcp;
  bool ours = f.state == State::kSynSent && f.remote_ip == p.src_ip && f.remote_port == t.src_port;
  FlowAddress reply{cfg_.our_mac, p.src_mac, p.dst_ip, p.src_ip, t.dst_port, t.src_port};
  if (!ours) {
    ++counters_.stray;
    // RFC 793, CLOSED: reset anything but a reset.
    if (!(t.flags & tcp_flag::kRst)) {
      if (t.flags & tcp_flag::kAck) {
        send_segment(reply, t.ack, 0, tcp_flag::kRst, 0, nullptr, 0, tx);
      } else {
        uint32_t len = t.payload_len + ((t.flags & tcp_flag::kSyn) ? 1 : 0);
        send_segment(reply, 0, t.seq + len, tcp_flag::kRst | tcp_flag::kAck, 0, nullptr, 0, tx);
      }
      ++counters_.resets_sent;
    }
    return;
  }
  // SYN-SENT processing, RFC 793 page 66 onwards.
  bool has_ack = t.flags & tcp_flag::kAck;
  if (has_ack && t.ack != f.iss + 1) {
    if (t.flags & tcp_flag::kRst) {
      ++counters_.ignored_resets;
    } else {
      ++counters_.bad_ack;
      send_segment(reply, t.ack, 0, tcp_flag::kRst, 0, nullptr, 0, tx);
      ++counters_.resets_sent;
    }
    return;
  }
  if (t.flags & tcp_flag::kRst) {
    if (has_ack) {
      finish(slot, ECONNREFUSED, now, results);
    } else {
      ++counters_.ignored_resets;  // an RST without ACK cannot refer to our SYN
    }
    return;
  }
  if (!(t.flags & tcp_flag::kSyn) || !has_ack) {
    // A bare SYN (simultaneous open) or a segment without SYN: not a
    // handshake this engine completes; count it and let the timer decide.
    ++counters_.stray;
    return;
  }
  // A valid SYN-ACK: acknowledge it.
  const TcpOptions& o = t.options;
  bool scaling = o.window_scale >= 0;
  uint8_t our_scale = scaling ? cfg_.window_scale : 0;
  uint32_t our_window_bytes = cfg_.window;
  uint16_t ack_window = static_cast<uint16_t>(our_window_bytes >> our_scale);
  uint32_t ts = ts_clock(f, now);
  send_segment(reply, f.iss + 1, t.seq + 1, tcp_flag::kAck, ack_window, &o, ts, tx);
  ++counters_.acks;
  EstablishedFlow e;
  e.local = {p.dst_ip, t.dst_port};
  e.remote_ip = p.src_ip;
  e.remote_port = t.src_port;
  e.iss = f.iss;
  e.irs = t.seq;
  e.peer_mss = o.mss ? o.mss : 536;
  e.peer_window_scale = o.window_scale;
  e.our_window_scale = our_scale;
  e.sack_permitted = o.sack_permitted;
  e.timestamps = o.timestamps;
  e.ts_now = ts;
  e.ts_recent = o.ts_val;
  e.peer_window = t.window;
  e.our_window = uint32_t{ack_window} << our_scale;
  if (!cfg_.keep_established) {
    // Dial-only: the handshake is the measurement; leave nothing open.
    send_segment(reply, f.iss + 1, t.seq + 1, tcp_flag::kRst | tcp_flag::kAck, 0, nullptr, 0, tx);
    ++counters_.resets_sent;
  }
  finish(slot, 0, now, results, &e);
}

void HandshakeEngine::on_icmp(const ParsedFrame& p, int64_t now, ResultSink& results) {
  const QuotedSegment& q = p.quoted;
  auto owner = cfg_.ports.owner(q.src_ip, q.src_port);
  if (!owner || owner->shard != cfg_.shard) {
    ++counters_.ignored_icmp;
    return;
  }
  const Flow& f = flows_[owner->slot];
  // RFC 5927: believe only an error that quotes the SYN we actually sent.
  if (f.state != State::kSynSent || f.remote_ip != q.dst_ip || f.remote_port != q.dst_port ||
      q.seq != f.iss) {
    ++counters_.ignored_icmp;
    return;
  }
  finish(owner->slot, EHOSTUNREACH, now, results);
}

void HandshakeEngine::on_arp(const ParsedFrame& p, int64_t now, FrameSink& tx) {
  const ArpView& a = p.arp;
  bool for_us = cfg_.ports.is_local_address(a.target_ip);
  // Learn from replies to our requests, and from requests aimed at us (RFC 826).
  ArpEntry* e = arp_.learn(a.sender_ip, a.sender_mac, now, for_us);
  if (e) {
    uint32_t w = e->first_waiter;
    e->first_waiter = kNoSlot;
    while (w != kNoSlot) {
      uint32_t next = flows_[w].next_waiter;
      flows_[w].next_waiter = kNoSlot;
      flows_[w].state = State::kSynSent;
      send_syn(w, now, tx);
      w = next;
    }
  }
  if (a.op == static_cast<uint16_t>(ArpOp::kRequest) && for_us && cfg_.answer_arp) {
    std::span<uint8_t> buf = tx.next_buffer();
    if (buf.empty()) {
      ++counters_.tx_no_buffer;
      return;
    }
    tx.commit(build_arp(buf, ArpOp::kReply, cfg_.our_mac, a.target_ip, a.sender_mac, a.sender_ip));
    ++counters_.arp_replies;
  }
}

void HandshakeEngine::on_timers(int64_t now, FrameSink& tx, ResultSink& results) {
  uint8_t last = static_cast<uint8_t>(stage_offset_.size() - 1);
  for (uint8_t s = 0; s <= last; ++s) {
    while (stage_head_[s] != kNoSlot) {
      uint32_t slot = stage_head_[s];
      Flow& f = flows_[slot];
      if (f.start_ns + stage_offset_[s] > now) break;
      if (s == last) {
        // A neighbour that never answered ARP is unreachable, as in Linux.
        finish(slot, f.state == State::kResolving ? EHOSTUNREACH : ETIMEDOUT, now, results);
        continue;
      }
      timer_unlink(slot);
      timer_link(slot, static_cast<uint8_t>(s + 1));
      if (f.state == State::kSynSent) {
        send_syn(slot, now, tx);
        ++counters_.syn_retransmits;
      }
    }
  }
  if (now < next_arp_tick_ns_ || arp_.resolving_count() == 0) return;
  next_arp_tick_ns_ = now + kArpTickNs;
  arp_.for_each_resolving([&](ArpEntry& e) {
    if (now < e.next_request_ns) return;
    if (e.requests >= ArpCache::kMaxRequests) {
      ++counters_.arp_failures;
      uint32_t w = e.first_waiter;
      e.first_waiter = kNoSlot;
      while (w != kNoSlot) {
        uint32_t next = flows_[w].next_waiter;
        flows_[w].next_waiter = kNoSlot;
        flows_[w].state = State::kSynSent;  // detached from the entry already
        finish(w, EHOSTUNREACH, now, results);
        w = next;
      }
      arp_.forget(e);
      return;
    }
    if (e.first_waiter == kNoSlot) {  // nobody waits any more
      arp_.forget(e);
      return;
    }
    send_arp_request(e.ip, tx);
    ++e.requests;
    e.next_request_ns = now + ArpCache::kRetryNs;
  });
}

int64_t HandshakeEngine::next_timer_ns() const {
  int64_t next = INT64_MAX;
  for (size_t s = 0; s < stage_head_.size(); ++s)
    if (stage_head_[s] != kNoSlot)
      next = std::min(next, flows_[stage_head_[s]].start_ns + stage_offset_[s]);
  if (arp_.resolving_count() > 0) next = std::min(next, next_arp_tick_ns_);
  return next;
}

}  // namespace swarmdial
