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

class XdpProgramFile;

struct DpdkPortConfig {
  std::string eal_args;     // as given to --dpdk
  uint32_t queues = 1;      // one per shard
  bool fit_queues = false;  // take fewer queues when the port has fewer
  uint32_t half_open = 1;   // per shard: sizes the mempools
  // Established flows become kernel sockets: on any port but net_af_xdp,
  // add the TAP exception path, a net_tap interface (one queue pair per
  // shard) named tap_name. net_af_xdp ports always run swarmdial's XDP
  // program, which is their exception path (see exception_path.hpp).
  bool exception_path = false;
  std::string tap_name;
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
  // Asks the port to deliver TCP segments for each shard's port range
  // [first + q * per_queue, first + (q + 1) * per_queue) to queue q with
  // rte_flow rules. False (and no rule left behind) when the port's driver
  // cannot: the shards then pass each other's frames through their rings.
  bool steer_by_flow(uint16_t first_port, uint32_t ports_per_queue);
  bool flow_steering() const { return flow_rules_; }
  bool has_tap() const { return tap_port_ != kNoPort; }
  // A net_af_xdp port, running swarmdial's XDP program.
  bool af_xdp() const { return af_xdp_; }
  uint16_t tap_port() const { return tap_port_; }
  const MacAddress& tap_mac() const { return tap_mac_; }
  const std::string& tap_name() const { return tap_name_; }
  uint16_t tap_mtu() const { return tap_mtu_; }
  // The TAP segments TCP frames larger than its MTU (TX TSO in software).
  bool tap_tso() const { return tap_tso_; }
  // The kernel interface under the wire port (af_packet, af_xdp), or "".
  const std::string& kernel_ifname() const { return kernel_ifname_; }

 private:
  static constexpr uint16_t kNoPort = UINT16_MAX;
  DpdkPort() = default;
  void open_tap(const DpdkPortConfig& config, int socket);
  uint16_t port_ = 0;
  bool af_xdp_ = false;
  std::unique_ptr<XdpProgramFile> xdp_program_;  // DPDK reads it while the port starts
  uint16_t tap_port_ = kNoPort;
  MacAddress tap_mac_;
  uint16_t tap_mtu_ = 1500;
  bool tap_tso_ = false;
  std::string tap_name_;
  std::string kernel_ifname_;
  bool tap_started_ = false;
  std::shared_ptr<void> tap_signal_sink_;  // the thread that takes the TAP's signal
  uint32_t queues_ = 1;
  MacAddress mac_;
  std::string driver_;
  bool tx_csum_ = false, rx_csum_ = false;
  bool configured_ = false, started_ = false, flow_rules_ = false;
  std::vector<rte_mempool*> pools_;
  std::vector<rte_mempool*> gso_pools_;  // the TAP path's receive pools on net_af_packet
  std::vector<rte_ring*> rings_;
};

}  // namespace swarmdial
