#include "exception_path.hpp"

#include "kernel_side.hpp"
#include "reserved_ports.hpp"
#include "wire_ingress_guard.hpp"
#include "xdp_steal_table.hpp"

namespace swarmdial {
namespace {

// The smallest prefix that covers the pool, for the source rule.
uint8_t pool_prefix(uint32_t count) {
  uint8_t prefix = 32;
  while (prefix > 0 && (uint64_t{1} << (32 - prefix)) < count) --prefix;
  return prefix;
}

}  // namespace

std::unique_ptr<ExceptionPath> ExceptionPath::open(DpdkPort& port, const SourcePortPlan& plan,
                                                   uint32_t budget, bool handoff) {
  std::unique_ptr<ExceptionPath> e(new ExceptionPath);
  e->handoff_ = handoff;
  uint8_t prefix = pool_prefix(plan.address_count());
  if (port.af_xdp()) {
    e->steal_ = XdpStealTable::open(port.kernel_ifname(), plan, port.queues(), budget, handoff);
    if (handoff) {
      e->reserved_ = std::make_unique<ReservedPorts>(plan.port_base(), plan.port_end() - 1);
      e->kernel_side_ = std::make_unique<KernelSide>(port.kernel_ifname(), plan.first_ip(),
                                                     plan.address_count(), prefix,
                                                     /*arp_off=*/false);
    }
  } else if (port.has_tap()) {
    if (!port.kernel_ifname().empty())
      e->guard_ = std::make_unique<WireIngressGuard>(port.kernel_ifname());
    e->kernel_side_ = std::make_unique<KernelSide>(port.tap_name(), plan.first_ip(),
                                                   plan.address_count(), prefix, /*arp_off=*/true);
  }
  return e;
}

ExceptionPath::~ExceptionPath() {
  // The kernel's routes first, then what kept the kernel off the wire.
  kernel_side_.reset();
  guard_.reset();
  reserved_.reset();
  steal_.reset();
}

}  // namespace swarmdial
