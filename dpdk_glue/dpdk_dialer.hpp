#pragma once
// The dpdk backend's Dialer: one per shard, on that shard's queue pair. The
// handshakes themselves are engine/tcp's HandshakeEngine; this file only
// moves frames between it and the port (and the other shards' steering rings).
#include <memory>
#include <optional>

#include "dpdk_port.hpp"
#include "engine/dialer.hpp"
#include "engine/tcp/source_port_plan.hpp"

namespace swarmdial {

class XdpStealTable;

struct DpdkDialerConfig {
  SourcePortPlan ports;
  std::optional<uint32_t> gateway;  // host order
  uint32_t shards = 1;
  // The AF_XDP exception path's map of handshakes in flight
  // (ExceptionPath::handshake_table()); null on the TAP path or dial-only.
  XdpStealTable* steal = nullptr;
};

std::unique_ptr<Dialer> make_dpdk_dialer(DpdkPort& port, const DpdkDialerConfig& config,
                                         const DialerOptions& options);

}  // namespace swarmdial
