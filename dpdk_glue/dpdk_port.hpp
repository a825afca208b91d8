#pragma once
// The process's one DPDK port: EAL started from --dpdk, the first ethdev
// configured with one RX/TX queue pair and one mempool per shard, checksum
// offloads taken when the port has them, and one software steering ring per
// shard for replies that land on another shard's queue.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/tcp/frame_layout.hpp"

struct rte_mempool;
struct rte_ring;

namespace swarmdial {

struct DpdkPortConfig {
  std::string eal_args;     // as given to --dpdk
  uint32_t queues = 1;      // one per shard
  bool fit_queues = false;  // take fewer queues when the port has fewer
  uint32_t budget = 1;      // per shard: sizes the mempools
};

class DpdkPort {
 public:
  // Starts EAL and the port. Throws std::runtime_error with a one-line
  // reason (bad EAL arguments, no port, a queue the port cannot give).
  static std::unique_ptr<DpdkPort> open(const DpdkPortConfig& config);
  ~DpdkPort();
  DpdkPort(const DpdkPort&) = delete;
  DpdkPort& operator=(const DpdkPort&) = delete;

  uint16_t port_id() const { return port_; }
  uint32_t queues() const { return queues_; }
  const MacAddress& mac() const { return mac_; }
  std::string driver() const { return driver_; }
  bool tx_checksum_offload() const { return tx_csum_; }
  bool rx_checksum_offload() const { return rx_csum_; }
  rte_mempool* pool(uint32_t queue) const { return pools_[queue]; }
  rte_ring* steering_ring(uint32_t queue) const { return rings_[queue]; }

 private:
  DpdkPort() = default;
  uint16_t port_ = 0;
  uint32_t queues_ = 1;
  MacAddress mac_;
  std::string driver_;
  bool tx_csum_ = false, rx_csum_ = false;
  bool configured_ = false, started_ = false;
  std::vector<rte_mempool*> pools_;
  std::vector<rte_ring*> rings_;
};

}  // namespace swarmdial
