#pragma once
// The handshake engine's FrameSink on a DPDK TX queue.
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <span>

#include "engine/tcp/frame_layout.hpp"
#include "engine/tcp/handshake_engine.hpp"

namespace swarmdial {

constexpr uint16_t kTxBurst = 64;

// Transmit side: frames are built straight into mbufs taken in bulk, and sent
// in bursts. Frames the port does not take are freed; the engine's
// retransmission timer covers a lost SYN like any other loss.
class MbufTx final : public FrameSink {
 public:
  MbufTx(uint16_t port, uint16_t queue, rte_mempool* pool, bool offload)
      : port_(port), queue_(queue), pool_(pool), offload_(offload) {}
  ~MbufTx() override {
    flush();
    if (current_) rte_pktmbuf_free(current_);
    for (uint16_t i = spare_next_; i < spare_count_; ++i) rte_pktmbuf_free(spare_[i]);
  }

  std::span<uint8_t> next_buffer() override {
    if (!current_) {
      if (spare_next_ == spare_count_) {
        if (rte_pktmbuf_alloc_bulk(pool_, spare_.data(), kTxBurst) != 0) return {};
        spare_next_ = 0;
        spare_count_ = kTxBurst;
      }
      current_ = spare_[spare_next_++];
    }
    return {rte_pktmbuf_mtod(current_, uint8_t*), rte_pktmbuf_tailroom(current_)};
  }

  void commit(size_t length) override {
    rte_mbuf* m = current_;
    current_ = nullptr;
    m->data_len = static_cast<uint16_t>(length);
    m->pkt_len = static_cast<uint32_t>(length);
    if (offload_) {
      m->l2_len = kEthHeader;
      m->l3_len = kIpv4Header;
      m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
    }
    pending_[pending_count_++] = m;
    if (pending_count_ == kTxBurst) flush();
  }

  // Queues a frame that already exists (the exception path's forwarding).
  void forward(rte_mbuf* m) {
    pending_[pending_count_++] = m;
    if (pending_count_ == kTxBurst) flush();
  }

  void flush() {
    if (pending_count_ == 0) return;
    uint16_t sent = 0;
    // A full TX ring drains in microseconds; retry a few times before dropping.
    for (int tries = 0; tries < 8 && sent < pending_count_; ++tries)
      sent += rte_eth_tx_burst(port_, queue_, pending_.data() + sent,
                               static_cast<uint16_t>(pending_count_ - sent));
    for (uint16_t i = sent; i < pending_count_; ++i) rte_pktmbuf_free(pending_[i]);
    dropped_ += pending_count_ - sent;
    pending_count_ = 0;
  }

  uint64_t dropped() const { return dropped_; }

 private:
  uint16_t port_, queue_;
  rte_mempool* pool_;
  bool offload_;
  rte_mbuf* current_ = nullptr;
  std::array<rte_mbuf*, kTxBurst> spare_{};
  uint16_t spare_next_ = 0, spare_count_ = 0;
  std::array<rte_mbuf*, kTxBurst> pending_{};
  uint16_t pending_count_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace swarmdial
