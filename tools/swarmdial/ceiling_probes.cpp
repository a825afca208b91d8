#include "ceiling_probes.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <random>
#include <stdexcept>
#include <thread>

#include "engine/mono_clock.hpp"
#include "engine/shard_group.hpp"
#include "uring/tracker/tracker_load_driver.hpp"

namespace swarmdial {

namespace {

int64_t seconds_ns(double s) {
  return static_cast<int64_t>(s * 1e9);
}

LatencyHistogram::Snapshot minus(LatencyHistogram::Snapshot a,
                                 const LatencyHistogram::Snapshot& b) {
  for (int i = 0; i < LatencyHistogram::kBuckets; ++i) a.counts[i] -= b.counts[i];
  a.total -= b.total;
  a.sum_us -= b.sum_us;
  return a;  // max_us stays the run's: percentiles are only capped by it
}

class DialProbe final : public CeilingProbe {
 public:
  DialProbe(const CeilingConfig& cfg, RunBackend& backend, const TargetSet& targets,
            const ExcludeList* exclude)
      : cfg_(cfg), backend_(backend), targets_(targets), exclude_(exclude) {
    std::random_device rd;
    seed_ = cfg.dial.seed.value_or((uint64_t{rd()} << 32) ^ rd());
  }

  std::optional<StepMeasure> run_step(double rate, std::atomic<bool>& stop,
                                      std::atomic<bool>& abort) override {
    int64_t start = mono_ns();
    ShardPlan plan;
    plan.shards = backend_.shards();
    plan.half_open = step_half_open(rate, plan.shards, cfg_.dial.timeout_ms, cfg_.half_open_max);
    plan.rate = rate;
    plan.timeout_ns = cfg_.dial.timeout_ms * 1'000'000;
    plan.seed = seed_ + 0x9e3779b97f4a7c15ULL * ++steps_;
    plan.partition = cfg_.dial.partition;
    int64_t from = start + seconds_ns(cfg_.warmup_s);
    plan.stop_at_ns = from + seconds_ns(cfg_.step_duration_s);
    plan.open_loop = ShardConfig::OpenLoopWindow{from, plan.stop_at_ns};
    plan.pin = true;
    plan.targets = &targets_;
    plan.exclude = exclude_;
    plan.sources = backend_.shard_sources();
    ShardGroup group(plan, backend_.factory(), {stop, abort}, start);
    group.start();
    // A stop inside the window cuts the step short; one while the last
    // attempts settle does not (the shards let them finish).
    bool cut_short = false;
    while (!group.dialing_done()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (stop.load() && mono_ns() < plan.stop_at_ns) cut_short = true;
    }
    if (std::string err = group.finish(); !err.empty()) throw std::runtime_error(err);
    if (cut_short || abort.load()) return std::nullopt;

    StepMeasure m;
    m.offered_rate = rate;
    m.window_s = cfg_.step_duration_s;
    m.scheduled = static_cast<uint64_t>(std::llround(rate * cfg_.step_duration_s));
    uint64_t budget_full = 0;
    for (const ShardStats& s : group.stats()) {
      m.sent += s.step_sent.get();
      m.answered += s.step_answered.get();
      m.unanswered += s.step_unanswered.get();
      m.local_errors += s.step_errors.get();
      m.latency.merge(s.step_latency.snapshot());
      m.lag.merge(s.step_lag.snapshot());
      budget_full += s.step_budget_full.get();
    }
    if (budget_full > 0)
      m.generator_note = fmt::format(
          "all {} half-open slots per shard were taken while SYNs were due (--half-open-max, or a "
          "shorter --timeout)",
          plan.half_open);
    else if (m.local_errors > 0)
      m.generator_note = fmt::format("{} attempts failed on this host", m.local_errors);
    return m;
  }

 private:
  const CeilingConfig& cfg_;
  RunBackend& backend_;
  const TargetSet& targets_;
  const ExcludeList* exclude_;
  uint64_t seed_ = 0, steps_ = 0;
};

class TrackerProbe final : public CeilingProbe {
 public:
  explicit TrackerProbe(const CeilingConfig& cfg) : cfg_(cfg) {}

  std::optional<StepMeasure> run_step(double rate, std::atomic<bool>& stop,
                                      std::atomic<bool>& abort) override {
    TrackerLoadOptions o = cfg_.tracker;
    o.rate = rate;
    o.duration_s = cfg_.warmup_s + cfg_.step_duration_s;
    LoadCounters c;
    TrackerLoadDriver driver(o, c);
    LoadResult result;
    std::atomic<bool> done{false};
    std::thread gen([&] {
      result = driver.run(stop, abort);
      done.store(true);
    });
    // The window opens when the warmup ends: what was counted before is
    // taken off at the end (a request in flight across the edge counts in
    // the window, one way or the other).
    int64_t window_at = mono_ns() + seconds_ns(cfg_.warmup_s);
    while (!done.load() && mono_ns() < window_at)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    uint64_t sent0 = c.sent.get(), ok0 = c.ok.get();
    std::array<uint64_t, static_cast<size_t>(LoadError::kCount)> err0{};
    for (size_t i = 0; i < err0.size(); ++i) err0[i] = c.errors[i].get();
    auto lat0 = c.latency.snapshot(), lag0 = c.send_lag.snapshot();
    gen.join();
    if (!result.fatal.empty()) throw std::runtime_error(result.fatal);
    if (stop.load() || abort.load()) return std::nullopt;

    StepMeasure m;
    m.offered_rate = rate;
    m.window_s = cfg_.step_duration_s;
    m.scheduled = static_cast<uint64_t>(std::llround(rate * cfg_.step_duration_s));
    m.sent = c.sent.get() - sent0;
    m.answered = c.ok.get() - ok0;
    auto errors = [&](LoadError e) {
      return c.errors[static_cast<size_t>(e)].get() - err0[static_cast<size_t>(e)];
    };
    m.unanswered = errors(LoadError::kTimeout) + errors(LoadError::kTrackerError) +
                   errors(LoadError::kBadReply) + errors(LoadError::kHttpStatus) +
                   errors(LoadError::kConnection);
    m.local_errors = errors(LoadError::kSendFailed) + errors(LoadError::kOverload);
    m.latency = minus(c.latency.snapshot(), lat0);
    m.lag = minus(c.send_lag.snapshot(), lag0);
    if (errors(LoadError::kOverload) > 0)
      m.generator_note = fmt::format("{} requests found no free slot in the generator",
                                     errors(LoadError::kOverload));
    return m;
  }

 private:
  const CeilingConfig& cfg_;
};

}  // namespace

uint32_t step_half_open(double rate, uint32_t shards, int64_t timeout_ms, uint32_t cap) {
  double need = rate / std::max<uint32_t>(shards, 1) * static_cast<double>(timeout_ms) / 1000.0;
  double slots = std::ceil(need * 1.25) + 16;
  return static_cast<uint32_t>(std::min<double>(slots, cap));
}

std::unique_ptr<CeilingProbe> make_dial_probe(const CeilingConfig& cfg, RunBackend& backend,
                                              const TargetSet& targets,
                                              const ExcludeList* exclude) {
  return std::make_unique<DialProbe>(cfg, backend, targets, exclude);
}

std::unique_ptr<CeilingProbe> make_tracker_probe(const CeilingConfig& cfg) {
  return std::make_unique<TrackerProbe>(cfg);
}

}  // namespace swarmdial
