#pragma once
// The engine's side of the AF_XDP exception path: the maps of swarmdial's
// XDP program (xdp/handshake_steal.bpf.c) on the wire interface. A shard
// marks a slot's 4-tuple before its SYN leaves and clears it before the
// flow's socket leaves repair mode; both are one store into the mmapped
// sd_inflight array, no system call, so they are fine per attempt.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/tcp/source_port_plan.hpp"

extern "C" {
#include "xdp/steal_maps.h"
}

namespace swarmdial {

class XdpStealTable {
 public:
  // The XDP program (by id) on ifname now, 0 when none.
  static uint32_t attached_program(const std::string& ifname);
  // Detaches a killed run's program, if it is still the one on ifname.
  static std::string undo_leftover(const std::string& ifname, uint32_t prog_id);
  // Finds the program DPDK attached to ifname and its maps, and tells it
  // which addresses and ports are the engine's. handshakes_only = false
  // sends every frame to the engine (a dial-only run). Throws
  // std::runtime_error with a one-line reason.
  static std::unique_ptr<XdpStealTable> open(const std::string& ifname, const SourcePortPlan& plan,
                                             uint32_t shards, uint32_t budget,
                                             bool handshakes_only);
  ~XdpStealTable();
  XdpStealTable(const XdpStealTable&) = delete;
  XdpStealTable& operator=(const XdpStealTable&) = delete;

  void mark(uint32_t shard, uint32_t slot, uint32_t remote_ip, uint16_t remote_port) {
    store(shard, slot, sd_inflight_entry(remote_ip, remote_port));
  }
  void clear(uint32_t shard, uint32_t slot) { store(shard, slot, 0); }
  // Each shard's dialer says when its loop starts and ends; when none runs,
  // the program leaves ARP replies to the kernel. Off the per-attempt path.
  void shard_running(bool running);

 private:
  XdpStealTable() = default;
  void store(uint32_t shard, uint32_t slot, uint64_t v) {
    // Release: the program may see the entry as soon as the SYN is out.
    std::atomic_ref<uint64_t>(slots_[shard * budget_ + slot]).store(v, std::memory_order_release);
  }
  uint64_t* slots_ = nullptr;
  size_t mapped_bytes_ = 0;
  uint32_t budget_ = 0;
  struct Config;
  std::unique_ptr<Config> config_;
  int inflight_fd_ = -1, config_fd_ = -1;
};

}  // namespace swarmdial
