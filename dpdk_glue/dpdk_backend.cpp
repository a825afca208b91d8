#include "dpdk_backend.hpp"

#include <unistd.h>

#include <iostream>

#include "dpdk_dialer.hpp"
#include "dpdk_port.hpp"
#include "engine/tcp/byte_order.hpp"
#include "engine/usage_error.hpp"
#include "exception_path.hpp"
#include "run_journal.hpp"
#include "tcp_repair.hpp"
#include "uring/fd_limit.hpp"

namespace swarmdial {

namespace {

// Source ports from here up; the range per shard is what the budget needs.
constexpr uint16_t kSourcePortBase = 20000;
// Handshakes live in mbufs, not descriptors: stdio, metrics, output files.
constexpr uint64_t kFdHeadroom = 64;

uint32_t host_order(const IpAddress& ip) {
  return wire::load32(ip.bytes.data());
}

std::optional<SourcePortPlan> make_plan(const BackendOptions& o, uint32_t shards,
                                        std::string& why) {
  return SourcePortPlan::make(host_order(o.sources.front()),
                              static_cast<uint32_t>(o.sources.size()), shards, o.half_open,
                              kSourcePortBase, why);
}

class DpdkBackend final : public RunBackend {
 public:
  explicit DpdkBackend(const BackendOptions& o) {
    // Check the port space before EAL starts, so a budget that cannot fit
    // fails as a usage error without touching the port.
    std::string why;
    if (!make_plan(o, o.shards, why)) throw UsageError("--half-open: " + why);
    std::string need = o.consumer_fds_why.empty() ? "the run" : o.consumer_fds_why;
    uint64_t limit = ensure_fd_limit(kFdHeadroom + o.consumer_fds, need);
    // Consumers get whatever the hard limit allows beyond the headroom.
    if (o.consumer_fds) limit = raise_fd_limit_to_hard();
    spare_ = limit > kFdHeadroom ? limit - kFdHeadroom : 0;
    DpdkPortConfig pc{o.dpdk_args, o.shards, !o.shards_given, o.half_open};
    if (o.handoff) {
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
    // What a killed run left behind goes first, said on stderr.
    CleanupResult leftovers = clean_dead_runs(false);
    for (const auto& line : leftovers.removed)
      std::cerr << "swarmdial: cleaned up: " << line << "\n";
    journal_ = RunJournal::open();
    port_ = DpdkPort::open(pc);
    dialer_cfg_.ports = *make_plan(o, port_->queues(), why);
    dialer_cfg_.shards = port_->queues();
    exception_ = ExceptionPath::open(*port_, dialer_cfg_.ports, o.half_open, pc.exception_path,
                                     journal_.get());
    dialer_cfg_.steal = exception_->handshake_table();
    // Replies go straight to their shard's queue where the port can filter
    // by TCP port; otherwise (af_packet, af_xdp, most vdevs) a shard hands
    // a frame it does not own to its owner's ring.
    port_->steer_by_flow(dialer_cfg_.ports.port_base(), dialer_cfg_.ports.ports_per_shard());
    if (o.gateway) dialer_cfg_.gateway = host_order(*o.gateway);
  }

  // One shard per queue pair: fewer than asked when --shards was defaulted
  // and the port has fewer queues.
  uint32_t shards() const override { return port_->queues(); }
  // The dialer owns the source pool: one port range per shard.
  std::vector<IpAddress> shard_sources() const override { return {}; }
  uint64_t spare_fds() const override { return spare_; }

  DialerFactory factory() override {
    return [this](const DialerOptions& o) { return make_dpdk_dialer(*port_, dialer_cfg_, o); };
  }

 private:
  uint64_t spare_ = 0;
  DpdkDialerConfig dialer_cfg_;
  // Destroyed last: it must outlive the port, whose close detaches the XDP
  // program, before it says the run undid everything.
  std::unique_ptr<RunJournal> journal_;
  std::unique_ptr<DpdkPort> port_;
  std::unique_ptr<ExceptionPath> exception_;  // after port_: undone first
};

}  // namespace

std::unique_ptr<RunBackend> open_dpdk_backend(const BackendOptions& options) {
  return std::make_unique<DpdkBackend>(options);
}

std::vector<std::string> clean_dpdk_leftovers(bool dry_run, std::vector<std::string>& notes) {
  CleanupResult r = clean_dead_runs(dry_run);
  notes = std::move(r.notes);
  return r.removed;
}

}  // namespace swarmdial
