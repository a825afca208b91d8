// `--half-open auto` against a scripted path model: a shard that fills its
// budget, targets of which a steady share are black holes, and on the way a
// NAT router whose table drops new flows once full (entries of unanswered
// SYNs live on long after our timeout), or a link whose queue inflates RTT.
#include "engine/adaptive_budget.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <queue>
#include <vector>

namespace swarmdial {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

struct Path {
  double blackhole_share = 0.5;
  uint32_t table = 0;               // router table size; 0 = no router limit
  int64_t syn_sent_ttl = 2 * kSec;  // how long the router keeps an unanswered SYN
  int64_t answered_ttl = 100 * kMs;
  int64_t rtt = 1 * kMs;
  double link_syn_per_s = 0;  // above this the queue grows and RTT with it; 0 = no queue
  // Someone else's queue on the link (a bulk transfer): RTT swings between
  // rtt and rtt + this, once a second, whatever we send.
  int64_t foreign_queue = 0;
};

struct Sim {
  Path path;
  AdaptivePolicy policy;
  AdaptiveBudget ctl;
  int64_t now = 0;
  uint64_t k = 0;
  struct Done {
    int64_t at;
    bool answered;
    int64_t rtt, start;
    bool operator>(const Done& o) const { return at > o.at; }
  };
  std::priority_queue<Done, std::vector<Done>, std::greater<Done>> inflight;
  // The router's entries, by expiry time: one FIFO per lifetime keeps each sorted.
  std::deque<int64_t> unanswered_entries, answered_entries;
  double queue_ns = 0;  // the link's standing queue
  int64_t last_launch = 0;
  uint64_t syns = 0, drops = 0;
  uint32_t max_budget_seen = 0;

  Sim(Path p, AdaptivePolicy pol) : path(p), policy(pol), ctl(pol, 0) {}

  void launch() {
    ++syns;
    ctl.on_sent(now);
    // Targets come in a pseudorandom order, as the cyclic permutation gives them.
    uint64_t h = (k++ + 1) * 0x9e3779b97f4a7c15ULL;
    bool hole = static_cast<double>((h >> 32) % 1000) < path.blackhole_share * 1000;
    for (auto* q : {&unanswered_entries, &answered_entries})
      while (!q->empty() && q->front() <= now) q->pop_front();
    if (path.table && unanswered_entries.size() + answered_entries.size() >= path.table) {
      ++drops;  // the router drops it: it times out like a black hole
      inflight.push({now + policy.timeout_ns, false, 0, now});
      return;
    }
    int64_t rtt = path.rtt + static_cast<int64_t>(queue_ns);
    if (path.foreign_queue) rtt += path.foreign_queue * (now % kSec) / kSec;
    if (hole)
      unanswered_entries.push_back(now + path.syn_sent_ttl);
    else
      answered_entries.push_back(now + path.answered_ttl);
    if (hole)
      inflight.push({now + policy.timeout_ns, false, 0, now});
    else
      inflight.push({now + rtt, true, rtt, now});
  }

  // Runs for `dur`; returns the router's drops over SYNs in that time.
  double run(int64_t dur) {
    uint64_t s0 = syns, d0 = drops;
    for (int64_t end = now + dur; now < end; now += kMs) {
      while (!inflight.empty() && inflight.top().at <= now) {
        Done d = inflight.top();
        inflight.pop();
        ctl.on_outcome(d.start, d.answered, d.rtt, now);
      }
      ctl.tick(now);
      max_budget_seen = std::max(max_budget_seen, ctl.budget());
      // The rate: at most ctl.rate() SYN/s when it has one.
      double allowed = ctl.rate() > 0 ? ctl.rate() / 1000.0 : 1e9;
      uint32_t launched = 0;
      while (inflight.size() < ctl.budget() && launched < allowed + 1e-9) {
        launch();
        ++launched;
      }
      if (path.link_syn_per_s > 0) {  // each SYN adds 1/capacity s of queue; it drains in real time
        queue_ns += launched * (1e9 / path.link_syn_per_s) - kMs;
        queue_ns = std::max(0.0, queue_ns);
      }
    }
    uint64_t s = syns - s0;
    return s ? static_cast<double>(drops - d0) / s : 0;
  }
};

AdaptivePolicy policy(int64_t timeout = 500 * kMs) {
  AdaptivePolicy p;
  p.min = 8;
  p.max = 2048;
  p.timeout_ns = timeout;
  return p;
}

TEST(AdaptiveBudget, SteadyBlackHolesAreNotCongestion) {
  Sim sim({.blackhole_share = 0.5}, policy());
  sim.run(20 * kSec);
  EXPECT_EQ(sim.ctl.decreases(), 0u);
  EXPECT_EQ(sim.ctl.budget(), 2048u) << "reason " << budget_reason_name(sim.ctl.reason());
  EXPECT_NEAR(sim.ctl.baseline(), 0.5, 0.05);
}

TEST(AdaptiveBudget, ADelayThatBackingOffDoesNotShortenIsNotOurs) {
  // A bulk flow keeps the link's queue swinging up to 300 ms: the RTT median
  // is far over its minimum whatever the budget. Backing off on it would
  // starve us for nothing; after the first check the delay is ignored.
  Sim sim({.blackhole_share = 0.5, .foreign_queue = 300 * kMs}, policy());
  sim.run(60 * kSec);
  EXPECT_GT(sim.ctl.budget(), 512u)
      << "reason " << budget_reason_name(sim.ctl.reason()) << " decreases " << sim.ctl.decreases();
}

TEST(AdaptiveBudget, StaysUnderAFullRouterTableOnceConverged) {
  // 400 entries that unanswered SYNs hold for 2 s: 200 black-hole SYNs/s,
  // 400 SYN/s in all with half the targets live.
  Sim sim({.blackhole_share = 0.5, .table = 400, .syn_sent_ttl = 2 * kSec}, policy());
  sim.run(60 * kSec);  // converge
  double drops = sim.run(120 * kSec);
  EXPECT_LT(drops, 0.01) << "budget " << sim.ctl.budget() << " decreases " << sim.ctl.decreases();
  EXPECT_GT(sim.ctl.decreases(), 0u);
  EXPECT_LT(sim.ctl.budget(), 2048u);
  // Not starved either: at least half of what the table sustains.
  double syn_per_s = sim.ctl.budget() / 0.25;  // half the attempts hold 0.5 s, half ~0
  EXPECT_GT(syn_per_s, 200) << "budget " << sim.ctl.budget();
}

TEST(AdaptiveBudget, RecoversWithinTenSecondsWhenTheTableHalves) {
  Sim sim({.blackhole_share = 0.5, .table = 800, .syn_sent_ttl = 2 * kSec}, policy());
  sim.run(60 * kSec);
  uint32_t before = sim.ctl.budget();
  sim.path.table = 400;
  sim.run(10 * kSec);
  double drops = sim.run(60 * kSec);
  // Under 2%, not 1%: the probes that find the new ceiling cost a little more
  // while the table's old entries age out.
  EXPECT_LT(drops, 0.02) << "budget " << before << " -> " << sim.ctl.budget();
  EXPECT_LT(sim.ctl.budget(), before);
}

TEST(AdaptiveBudget, BacksOffWhenAQueueInflatesTheRtt) {
  Path p{.blackhole_share = 0.0, .rtt = 2 * kMs, .link_syn_per_s = 5000};
  Sim sim(p, policy());
  sim.run(30 * kSec);
  EXPECT_GT(sim.ctl.decreases(), 0u);
  EXPECT_LT(sim.queue_ns, 50.0 * kMs) << "budget " << sim.ctl.budget();
  EXPECT_EQ(sim.ctl.reason() == BudgetReason::kLoss, false);
}

TEST(AdaptiveBudget, NeverLeavesItsBounds) {
  AdaptivePolicy pol = policy();
  pol.min = 16;
  pol.max = 64;
  Sim sim({.blackhole_share = 0.9, .table = 50}, pol);
  sim.run(20 * kSec);
  EXPECT_GE(sim.ctl.budget(), 16u);
  EXPECT_LE(sim.max_budget_seen, 64u);
}

TEST(AdaptiveBudget, RateFollowsTheBudgetThroughLittlesLaw) {
  AdaptivePolicy pol = policy();
  pol.max = 100;
  Sim sim({.blackhole_share = 1.0}, pol);  // every attempt holds its slot for the timeout
  sim.run(20 * kSec);
  ASSERT_EQ(sim.ctl.budget(), 100u);
  EXPECT_NEAR(sim.ctl.rate(), 100 / 0.5, 20);
}

}  // namespace
}  // namespace swarmdial

namespace swarmdial {
namespace {

TEST(AdaptiveBudget, LongTimeoutsStillJudgeEveryWindow) {
  // 200 s timeouts: at 250 ms windows, the SYNs sent 128.1 s in would land
  // in the ring slot of the first window before it is judged.
  AdaptivePolicy pol = policy(200 * kSec);
  AdaptiveBudget ctl(pol, 0);
  for (int i = 0; i < 64; ++i) {
    ctl.on_sent(0);
    ctl.on_outcome(0, true, kMs, kMs);
  }
  for (int i = 0; i < 64; ++i) {
    ctl.on_sent(128'100 * kMs);
    ctl.on_outcome(128'100 * kMs, true, kMs, 128'101 * kMs);
  }
  ctl.tick(205 * kSec);  // only the first window is final by now
  EXPECT_DOUBLE_EQ(ctl.baseline(), 1.0);
}

}  // namespace
}  // namespace swarmdial
