#include "exception_path.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>

#include "gro_guard.hpp"
#include "kernel_side.hpp"
#include "reserved_ports.hpp"
#include "run_journal.hpp"
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

// The receive queues the kernel interface has in use.
uint32_t kernel_rx_queues(const std::string& ifname) {
  std::error_code ec;
  uint32_t n = 0;
  for (const auto& e :
       std::filesystem::directory_iterator("/sys/class/net/" + ifname + "/queues", ec))
    if (e.path().filename().string().rfind("rx-", 0) == 0) ++n;
  return n;
}

}  // namespace

std::unique_ptr<ExceptionPath> ExceptionPath::open(DpdkPort& port, const SourcePortPlan& plan,
                                                   uint32_t budget, bool handoff,
                                                   RunJournal* journal) {
  std::unique_ptr<ExceptionPath> e(new ExceptionPath);
  e->handoff_ = handoff;
  auto note = [&](nlohmann::json entry) {
    if (journal) journal->add(std::move(entry));
  };
  // DPDK's af_xdp PMD attached our program when the port started.
  if (port.af_xdp())
    if (uint32_t id = XdpStealTable::attached_program(port.kernel_ifname()))
      note({{"kind", "xdp"}, {"ifname", port.kernel_ifname()}, {"prog_id", id}});
  uint8_t prefix = pool_prefix(plan.address_count());
  if (port.af_xdp()) {
    // An AF_XDP socket receives from one queue only: a reply the NIC hashes
    // to a queue without one would reach the kernel, which resets it.
    if (uint32_t rx = kernel_rx_queues(port.kernel_ifname()); rx > port.queues())
      throw std::runtime_error(
          "--dpdk: " + port.kernel_ifname() + " receives on " + std::to_string(rx) +
          " queues and net_af_xdp binds " + std::to_string(port.queues()) +
          "; replies on the others would miss the engine: bind them all (queue_count=" +
          std::to_string(rx) + " and as many --shards) or reduce them (ethtool -L " +
          port.kernel_ifname() + " combined " + std::to_string(port.queues()) + ")");
    e->steal_ = XdpStealTable::open(port.kernel_ifname(), plan, port.queues(), budget, handoff);
    if (handoff) {
      e->reserved_ = std::make_unique<ReservedPorts>(plan.port_base(), plan.port_end() - 1);
      note(
          {{"kind", "reserved_ports"}, {"first", plan.port_base()}, {"last", plan.port_end() - 1}});
      e->kernel_side_ = std::make_unique<KernelSide>(port.kernel_ifname(), plan.first_ip(),
                                                     plan.address_count(), prefix,
                                                     /*arp_off=*/false);
      note(e->kernel_side_->leftover());
    }
  } else if (port.has_tap()) {
    if (!port.kernel_ifname().empty()) {
      e->gro_ = std::make_unique<GroGuard>(port.kernel_ifname());
      if (e->gro_->turned_off()) note({{"kind", "gro_off"}, {"ifname", port.kernel_ifname()}});
      e->guard_ = std::make_unique<WireIngressGuard>(port.kernel_ifname());
      note({{"kind", "nft_table"}, {"table", e->guard_->table()}});
    }
    e->kernel_side_ = std::make_unique<KernelSide>(port.tap_name(), plan.first_ip(),
                                                   plan.address_count(), prefix, /*arp_off=*/true);
    note(e->kernel_side_->leftover());
  }
  return e;
}

ExceptionPath::~ExceptionPath() {
  // The kernel's routes first, then what kept the kernel off the wire.
  kernel_side_.reset();
  guard_.reset();
  gro_.reset();
  reserved_.reset();
  steal_.reset();
}

}  // namespace swarmdial
