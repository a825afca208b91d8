#include "dpdk_run.hpp"

#include <stdexcept>

#ifdef SWARMDIAL_HAVE_DPDK
#include "dpdk_glue/dpdk_dialer.hpp"
#include "dpdk_glue/dpdk_port.hpp"
#endif

namespace swarmdial {

#ifdef SWARMDIAL_HAVE_DPDK
namespace {

// Source ports from here up; the range per shard is what the budget needs.
constexpr uint16_t kSourcePortBase = 20000;

uint32_t host_order(const IpAddress& ip) {
  return uint32_t{ip.bytes[0]} << 24 | uint32_t{ip.bytes[1]} << 16 | uint32_t{ip.bytes[2]} << 8 |
         ip.bytes[3];
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
    port_ = DpdkPort::open({cfg.dpdk_args, cfg.shards, !cfg.shards_given, cfg.half_open});
    dialer_cfg_.ports = *make_plan(cfg, port_->queues(), why);
    dialer_cfg_.shards = port_->queues();
    if (cfg.gateway) dialer_cfg_.gateway = host_order(*cfg.gateway);
  }

  uint32_t shards() const override { return port_->queues(); }

  DialerFactory factory() override {
    return [this](const DialerOptions& o) { return make_dpdk_dialer(*port_, dialer_cfg_, o); };
  }

 private:
  DpdkDialerConfig dialer_cfg_;
  std::unique_ptr<DpdkPort> port_;
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
