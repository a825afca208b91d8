#include "dpdk_run.hpp"

#include <unistd.h>

#include <iostream>
#include <stdexcept>

#ifdef SWARMDIAL_HAVE_DPDK
#include "dpdk_glue/dpdk_dialer.hpp"
#include "dpdk_glue/dpdk_port.hpp"
#include "dpdk_glue/exception_path.hpp"
#include "dpdk_glue/tcp_repair.hpp"
#include "engine/tcp/byte_order.hpp"
#endif

namespace swarmdial {

#ifdef SWARMDIAL_HAVE_DPDK
namespace {

// Source ports from here up; the range per shard is what the budget needs.
constexpr uint16_t kSourcePortBase = 20000;

uint32_t host_order(const IpAddress& ip) {
  return wire::load32(ip.bytes.data());
}

std::optional<SourcePortPlan> make_plan(const DialConfig& cfg, uint32_t shards, std::string& why) {
  return SourcePortPlan::make(host_order(cfg.sources.front()),
                              static_cast<uint32_t>(cfg.sources.size()), shards, cfg.half_open,
                              kSourcePortBase, why);
}

class DpdkRunImpl final : public DpdkRun {
 public:
  explicit DpdkRunImpl(const DialConfig& cfg) {
    // Check the port space before EAL starts, so a budget that cannot fit
    // fails as a usage error without touching the port.
    std::string why;
    if (!make_plan(cfg, cfg.shards, why)) throw UsageError("--half-open: " + why);
    DpdkPortConfig pc{cfg.dpdk_args, cfg.shards, !cfg.shards_given, cfg.half_open};
    if (cfg.hold || cfg.bt_infohash) {
      // Established flows must become kernel sockets; without TCP_REPAIR
      // the run goes on dial-only, and says so once, now.
      std::string no_repair;
      if (tcp_repair_available(no_repair)) {
        pc.exception_path = true;
        pc.tap_name = "sdtap" + std::to_string(getpid() % 100000);
      } else {
        std::cerr << "swarmdial: --backend dpdk: " << no_repair
                  << "; running dial-only, established flows are closed\n";
      }
    }
    port_ = DpdkPort::open(pc);
    dialer_cfg_.ports = *make_plan(cfg, port_->queues(), why);
    dialer_cfg_.shards = port_->queues();
    exception_ = ExceptionPath::open(*port_, dialer_cfg_.ports, cfg.half_open, pc.exception_path);
    dialer_cfg_.steal = exception_->handshake_table();
    // Replies go straight to their shard's queue where the port can filter
    // by TCP port; otherwise (af_packet, af_xdp, most vdevs) a shard hands
    // a frame it does not own to its owner's ring.
    port_->steer_by_flow(dialer_cfg_.ports.port_base(), dialer_cfg_.ports.ports_per_shard());
    if (cfg.gateway) dialer_cfg_.gateway = host_order(*cfg.gateway);
  }

  uint32_t shards() const override { return port_->queues(); }

  DialerFactory factory() override {
    return [this](const DialerOptions& o) { return make_dpdk_dialer(*port_, dialer_cfg_, o); };
  }

 private:
  DpdkDialerConfig dialer_cfg_;
  std::unique_ptr<DpdkPort> port_;
  std::unique_ptr<ExceptionPath> exception_;  // after port_: undone first
};

}  // namespace

std::unique_ptr<DpdkRun> open_dpdk(const DialConfig& cfg) {
  return std::make_unique<DpdkRunImpl>(cfg);
}
#else
std::unique_ptr<DpdkRun> open_dpdk(const DialConfig&) {
  throw std::runtime_error(
      "--backend dpdk: this build has no DPDK support (install libdpdk-dev, meson -Ddpdk=enabled)");
}
#endif

}  // namespace swarmdial
