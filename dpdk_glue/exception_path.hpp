#pragma once
// What the kernel needs so the sockets the engine's handshakes become can
// carry their flows, chosen by the port's type:
// - TAP path (any port): a TAP holds the engine's addresses with ARP off,
//   the shards pass frames between it and the wire, and an nftables drop on
//   the wire's kernel interface keeps the kernel from resetting SYN-ACKs;
//   GRO is off there (gro_guard.hpp).
// - AF_XDP path (net_af_xdp): the wire interface itself holds the addresses,
//   swarmdial's XDP program takes only the engine's handshakes from it, and
//   the engine's source ports are reserved from the kernel's own use.
// Everything it sets up is undone on destruction, in reverse order.
#include <cstdint>
#include <memory>

#include "dpdk_port.hpp"
#include "engine/tcp/source_port_plan.hpp"

namespace swarmdial {

class GroGuard;
class KernelSide;
class ReservedPorts;
class RunJournal;
class WireIngressGuard;
class XdpStealTable;

class ExceptionPath {
 public:
  // handoff = false: a dial-only run; an af_xdp port then sends the engine
  // every frame, as DPDK's own program would. Throws std::runtime_error.
  // Each change is written to journal (may be null) as it is made.
  static std::unique_ptr<ExceptionPath> open(DpdkPort& port, const SourcePortPlan& plan,
                                             uint32_t budget, bool handoff, RunJournal* journal);
  ~ExceptionPath();
  ExceptionPath(const ExceptionPath&) = delete;
  ExceptionPath& operator=(const ExceptionPath&) = delete;

  // Where the dialers mark their handshakes: the AF_XDP path with handoff.
  XdpStealTable* handshake_table() const { return handoff_ ? steal_.get() : nullptr; }

 private:
  ExceptionPath() = default;
  bool handoff_ = false;
  std::unique_ptr<XdpStealTable> steal_;
  std::unique_ptr<ReservedPorts> reserved_;
  std::unique_ptr<WireIngressGuard> guard_;
  std::unique_ptr<GroGuard> gro_;
  std::unique_ptr<KernelSide> kernel_side_;
};

}  // namespace swarmdial
