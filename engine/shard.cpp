#include "shard.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <thread>

#include "half_open_budget.hpp"
#include "mono_clock.hpp"
#include "pacer.hpp"
#include "retry_queue.hpp"

namespace swarmdial {

namespace {
// Longest the loop sleeps without looking at the stop flag.
constexpr int64_t kMaxIdleNs = 20'000'000;
// ... when nothing is in flight either, on a kernel backend (a seeding node
// waiting for peers to dial): an idle node should not wake 50 times a
// second, and a dial fed now waits at most this long. A dpdk shard carries
// the peers' packets too, so it never sleeps that long.
constexpr int64_t kQuietIdleNs = 100'000'000;
constexpr size_t kReapBatch = 256;

void pin_to_cpu(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}
}  // namespace

struct Shard::Runtime {
  Runtime(const ShardConfig& cfg, int64_t now)
      : budget(cfg.half_open),
        // A burst of 1 ms worth of tokens lets one loop pass launch a batch
        // (amortising submission) while keeping the rate exact over time.
        // Open loop never forgives lateness: the timetable is the schedule.
        pacer(cfg.rate,
              cfg.open_loop ? UINT32_MAX : static_cast<uint32_t>(std::max(1.0, cfg.rate / 1000.0)),
              now),
        // Room for every in-flight attempt to time out and wait for a retry:
        // new targets start only while size + in_use < capacity.
        retries(cfg.retries > 0 ? size_t{cfg.half_open} * 2 : 1),
        cursor(*cfg.targets, cfg.exclude, cfg.index, cfg.shard_count, cfg.max_targets, cfg.seed,
               cfg.partition),
        slots(cfg.half_open) {
    if (cfg.adaptive) {
      adaptive.emplace(*cfg.adaptive, now);
      budget.set_limit(adaptive->budget());
      if (adaptive->rate() > 0) pacer.set_rate(adaptive->rate());
    }
  }

  HalfOpenBudget budget;
  Pacer pacer;
  RetryQueue retries;
  TargetCursor cursor;
  std::vector<Attempt> slots;
  std::unique_ptr<Dialer> dialer;
  size_t next_source = 0;
  std::optional<DialTarget> peeked;        // a target pulled from the cursor but not yet launched
  std::optional<AdaptiveBudget> adaptive;  // --half-open auto
  uint64_t laps = 0;                       // open loop: times round the target set
};

Shard::Shard(ShardConfig config, DialerFactory factory, ShardStats& stats,
             SpscQueue<ResultRow>& rows, HandoffQueue* handoff, const std::atomic<bool>& stop,
             const std::atomic<bool>& abort, int64_t run_start_ns)
    : cfg_(std::move(config)),
      factory_(std::move(factory)),
      stats_(stats),
      rows_(rows),
      handoff_(handoff),
      stop_(stop),
      abort_(abort),
      run_start_ns_(run_start_ns) {}

Shard::~Shard() = default;

void Shard::publish_wire_counts() {
  WireCounts counts;
  if (!rt_->dialer->wire_counts(counts)) return;
  for (int i = 0; i < kWireCounterCount; ++i) stats_.wire[i].set(counts[i]);
}

void Shard::linger_forwarding(std::span<DialCompletion> scratch) {
  // Dialing is over (the run may report it), but the flows handed to the
  // kernel still travel through this loop.
  stats_.done.set(1);
  while (!abort_.load(std::memory_order_relaxed) &&
         !cfg_.forwarding_done->load(std::memory_order_acquire)) {
    rt_->dialer->reap(scratch, kMaxIdleNs);
    publish_wire_counts();
  }
}

std::string Shard::run() {
  pin_to_cpu(cfg_.cpu);
  int64_t now = mono_ns();
  rt_ = std::make_unique<Runtime>(cfg_, now);
  DialerOptions opts;
  opts.shard = cfg_.index;
  opts.half_open = cfg_.half_open;
  opts.timeout_ns = cfg_.timeout_ns;
  opts.keep_established = handoff_ != nullptr;
  try {
    rt_->dialer = factory_(opts);
  } catch (const std::exception& e) {
    stats_.done.set(1);
    return e.what();
  }
  stats_.half_open_budget.set(rt_->budget.limit());
  stats_.syn_rate.set(static_cast<uint64_t>(cfg_.rate));
  if (rt_->adaptive) stats_.budget_reason.set(1 + static_cast<uint64_t>(rt_->adaptive->reason()));

  std::array<DialCompletion, kReapBatch> done;
  bool stopping = false;
  for (;;) {
    now = mono_ns();
    if (!stopping && (stop_.load(std::memory_order_relaxed) ||
                      (cfg_.stop_at_ns != 0 && now >= cfg_.stop_at_ns))) {
      stopping = true;
      finish_pending_retries(now);
    }
    if (abort_.load(std::memory_order_relaxed)) break;
    if (!stopping) launch(now);
    rt_->dialer->submit();

    bool no_more_work =
        stopping || (!cfg_.feed && rt_->cursor.exhausted() && !rt_->peeked && rt_->retries.empty());
    if (no_more_work && rt_->dialer->in_flight() == 0) {
      if (rt_->dialer->forwards_for_kernel() && cfg_.forwarding_done) linger_forwarding(done);
      break;
    }

    size_t n = rt_->dialer->reap(done, idle_wait_ns(now));
    publish_wire_counts();
    if (n > 0) now = mono_ns();
    for (size_t i = 0; i < n; ++i) complete(done[i], now, stopping);
    if (rt_->adaptive) adapt(now);
  }
  rt_->dialer->stopped();
  stats_.done.set(1);
  return {};
}

void Shard::adapt(int64_t now) {
  Runtime& rt = *rt_;
  if (!rt.adaptive->tick(now)) return;
  rt.budget.set_limit(rt.adaptive->budget());
  double rate = rt.adaptive->rate() > 0 ? rt.adaptive->rate() : cfg_.rate;
  rt.pacer.set_rate(rate);
  stats_.half_open_budget.set(rt.budget.limit());
  stats_.syn_rate.set(static_cast<uint64_t>(rate));
  stats_.budget_reason.set(1 + static_cast<uint64_t>(rt.adaptive->reason()));
  stats_.budget_decreases.set(rt.adaptive->decreases());
}

int64_t Shard::idle_wait_ns(int64_t now) const {
  const Runtime& rt = *rt_;
  bool quiet = rt.dialer->in_flight() == 0 && !rt.dialer->forwards_for_kernel();
  int64_t wait = quiet ? kQuietIdleNs : kMaxIdleNs;
  if (rt.budget.available() > 0) {
    bool has_new = rt.peeked || !rt.cursor.exhausted();
    bool retry_due = !rt.retries.empty();
    if (retry_due) wait = std::min(wait, std::max<int64_t>(0, rt.retries.top().due_ns - now));
    if (has_new &&
        (cfg_.retries == 0 || rt.retries.size() + rt.budget.in_use() < rt.retries.capacity()))
      wait = std::min(wait, rt.pacer.wait_ns(now));
  }
  return wait;
}

void Shard::launch(int64_t now) {
  Runtime& rt = *rt_;
  while (rt.budget.available() > 0) {
    std::optional<PendingRetry> retry;
    int64_t scheduled = now;
    if (!rt.retries.empty() && rt.retries.top().due_ns <= now) {
      if (!rt.pacer.try_take(now)) break;
      retry = rt.retries.pop();
    } else {
      if (cfg_.retries > 0 && rt.retries.size() + rt.budget.in_use() >= rt.retries.capacity())
        break;
      if (!rt.peeked)
        if (auto e = rt.cursor.next()) rt.peeked = DialTarget{*e};
      if (!rt.peeked && cfg_.feed) rt.peeked = cfg_.feed->try_pop();
      if (!rt.peeked && cfg_.open_loop) {
        rt.cursor.restart(cfg_.seed + ++rt.laps);
        if (auto e = rt.cursor.next()) rt.peeked = DialTarget{*e};
      }
      if (!rt.peeked) break;
      scheduled = rt.pacer.due_ns();
      if (!rt.pacer.try_take(now)) break;
    }
    uint32_t slot = *rt.budget.acquire();
    Attempt& a = rt.slots[slot];
    if (retry) {
      a = {retry->target, retry->attempts + 1, now, retry->tag};
      stats_.retries.add();
    } else {
      a = {rt.peeked->target, 1, now, rt.peeked->tag};
      rt.peeked.reset();
    }
    if (cfg_.open_loop) {
      a.scheduled_ns = scheduled;
      a.measured =
          scheduled >= cfg_.open_loop->measure_from_ns && scheduled < cfg_.open_loop->measure_to_ns;
      if (a.measured) {
        stats_.step_sent.add();
        stats_.step_lag.record(static_cast<uint64_t>(std::max<int64_t>(0, now - scheduled)) / 1000);
      }
    }
    const IpAddress* src = nullptr;
    if (!cfg_.sources.empty()) {
      // Keep the family right: a v6 target needs a v6 source.
      for (size_t tries = 0; tries < cfg_.sources.size(); ++tries) {
        const IpAddress& cand = cfg_.sources[rt.next_source++ % cfg_.sources.size()];
        if (cand.family == a.target.ip.family) {
          src = &cand;
          break;
        }
      }
    }
    rt.dialer->start(slot, a.target, src, now);
    if (rt.adaptive) rt.adaptive->on_sent(now);
    stats_.syn_sent.add();
    stats_.half_open.set(rt.budget.in_use());
    stats_.half_open_high_water.set(rt.budget.high_water());
  }
  // A SYN is due and every slot is taken: the step's budget, not the
  // target, holds the timetable back.
  if (cfg_.open_loop && rt.budget.available() == 0 && rt.pacer.due_ns() <= now)
    stats_.step_budget_full.add();
}

void Shard::complete(const DialCompletion& c, int64_t now, bool stopping) {
  Runtime& rt = *rt_;
  Attempt& a = rt.slots[c.slot];
  Outcome outcome = classify_connect_error(c.err);
  // Local errors (no source port, no memory) say nothing about the path.
  if (rt.adaptive && outcome != Outcome::kError)
    rt.adaptive->on_outcome(a.started_ns, outcome != Outcome::kTimeout, c.rtt_ns, now);
  if (a.measured) record_step(a, outcome, c.rtt_ns, now);
  if (outcome == Outcome::kTimeout && a.attempts <= cfg_.retries && !stopping) {
    uint64_t jitter = endpoint_hash(a.target);
    rt.retries.push({now + cfg_.backoff.delay_ns(a.attempts, jitter), a.target, a.attempts, a.tag});
  } else {
    ResultRow row;
    row.target = a.target;
    row.tag = a.tag;
    row.outcome = outcome;
    row.err = c.err;
    row.rtt_us = c.rtt_ns >= 0 ? c.rtt_ns / 1000 : -1;
    row.attempts = a.attempts;
    row.shard = cfg_.index;
    row.t_us = static_cast<uint64_t>(now - run_start_ns_) / 1000;
    stats_.outcomes[static_cast<int>(outcome)].add();
    if (outcome == Outcome::kEstablished && c.rtt_ns >= 0)
      stats_.connect_latency.record(static_cast<uint64_t>(c.rtt_ns / 1000));
    if (c.fd >= 0 && handoff_) {
      hand_off({c.fd, row});
    } else if (!cfg_.open_loop) {  // a ceiling step's product is its counts, not rows
      emit(row);
    }
  }
  rt.budget.release(c.slot);
  stats_.half_open.set(rt.budget.in_use());
}

void Shard::record_step(const Attempt& a, Outcome outcome, int64_t rtt_ns, int64_t now) {
  if (outcome == Outcome::kError) {
    stats_.step_errors.add();
    return;
  }
  if (outcome == Outcome::kTimeout) {
    stats_.step_unanswered.add();
    return;
  }
  stats_.step_answered.add();
  // From the timetable, so a late generator cannot hide queueing.
  int64_t from_schedule =
      rtt_ns >= 0 ? (a.started_ns - a.scheduled_ns) + rtt_ns : now - a.scheduled_ns;
  stats_.step_latency.record(static_cast<uint64_t>(std::max<int64_t>(0, from_schedule)) / 1000);
}

void Shard::finish_pending_retries(int64_t now) {
  // On stop, targets waiting for a retry already had their attempt: their
  // final outcome is the timeout they got.
  Runtime& rt = *rt_;
  while (!rt.retries.empty()) {
    PendingRetry r = rt.retries.pop();
    ResultRow row;
    row.target = r.target;
    row.tag = r.tag;
    row.outcome = Outcome::kTimeout;
    row.err = ETIMEDOUT;
    row.attempts = r.attempts;
    row.shard = cfg_.index;
    row.t_us = static_cast<uint64_t>(now - run_start_ns_) / 1000;
    stats_.outcomes[static_cast<int>(Outcome::kTimeout)].add();
    emit(row);
  }
}

void Shard::emit(const ResultRow& row) {
  // Rows are never dropped: if the writer falls behind, the shard waits.
  while (!rows_.try_push(row)) {
    if (abort_.load(std::memory_order_relaxed)) return;
    std::this_thread::yield();
  }
}

void Shard::hand_off(const Handoff& h) {
  while (!handoff_->try_push(h)) {
    if (abort_.load(std::memory_order_relaxed)) return;
    std::this_thread::yield();
  }
  handoff_->ring();
  stats_.handed_off.add();
}

}  // namespace swarmdial
