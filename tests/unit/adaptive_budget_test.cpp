// `--half-open auto` against a scripted path model: a shard that fills its
// budget, targets of which a steady share are black holes, and on the way a
// NAT router whose table drops new flows once full (entries of unanswered
// SYNs live on long after our timeout), or a link whose queue inflates RTT.
#include "engine/adaptive_budget.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <queue>
#include <string>
#include <vector>

namespace swarmdial {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

struct Path {
  double blackhole_share = 0.5;
  uint32_t table = 0;               // router table size; 0 = no router limit
  int64_t syn_sent_ttl = 2 * kSec;  // how long the router keeps an unanswered SYN
  // A router counting flows as nftables' `ct count` does skips closed ones:
  // an answered attempt (closed at once) holds no entry.
  int64_t answered_ttl = 0;
  int64_t rtt = 1 * kMs;
  double link_syn_per_s = 0;  // above this the queue grows and RTT with it; 0 = no queue
  // Someone else's queue on the link (a bulk transfer): RTT swings between
  // rtt and rtt + this, once a second, whatever we send.
  int64_t foreign_queue = 0;
  double accept_per_s = 0;  // live listeners accept this many a second; 0 = all
  double backlog = 32;      // ... and queue this many; the SYNs past it are dropped
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
  double accept_q = 0;  // the listeners' backlog
  double tokens = 0;    // the pacer
  uint64_t syns = 0, drops = 0, answered = 0;
  uint32_t max_budget_seen = 0;
  double last_traced = 1;

  Sim(Path p, AdaptivePolicy pol) : path(p), policy(pol), ctl(pol, 0) {}

  void launch() {
    ++syns;
    ctl.on_sent(now);
    // Targets come in a pseudorandom order, as the cyclic permutation gives them.
    uint64_t h = (k++ + 1) * 0x9e3779b97f4a7c15ULL;  // splitmix64
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
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
    if (!hole && path.accept_per_s > 0) {
      if (accept_q + 1 > path.backlog)
        hole = true;  // the listener drops it
      else
        accept_q += 1;
    }
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
        answered += d.answered;
        ctl.on_outcome(d.start, d.answered, d.rtt, now);
      }
      if (ctl.tick(now) && getenv("SIM_TRACE") &&
          std::abs(ctl.rate() - last_traced) > 0.02 * last_traced) {
        last_traced = ctl.rate();
        printf("%7.2f s rate %8.1f budget %5u cap %8.1f %s drops %lu/%lu base %.3f\n", now / 1e9,
               ctl.rate(), ctl.budget(), ctl.capacity(),
               std::string(budget_reason_name(ctl.reason())).c_str(), (unsigned long)drops,
               (unsigned long)syns, ctl.baseline());
      }
      max_budget_seen = std::max(max_budget_seen, ctl.budget());
      // The pacer: ctl.rate() SYN/s, a millisecond's worth at a time.
      double per_ms = ctl.rate() / 1000.0;
      tokens = std::min(tokens + per_ms, std::max(1.0, per_ms) + 1);
      uint32_t launched = 0;
      while (inflight.size() < ctl.budget() && tokens >= 1) {
        launch();
        tokens -= 1;
        ++launched;
      }
      if (path.link_syn_per_s > 0) {  // each SYN adds 1/capacity s of queue; it drains in real time
        queue_ns += launched * (1e9 / path.link_syn_per_s) - kMs;
        queue_ns = std::max(0.0, queue_ns);
      }
      if (path.accept_per_s > 0) accept_q = std::max(0.0, accept_q - path.accept_per_s / 1000.0);
    }
    uint64_t s = syns - s0;
    return s ? static_cast<double>(drops - d0) / s : 0;
  }

  // Answers a second over the next `dur`.
  double answered_per_s(int64_t dur) {
    uint64_t a0 = answered;
    run(dur);
    return static_cast<double>(answered - a0) * kSec / dur;
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
  // is far over its minimum whatever we send. Backing off on it would
  // starve us for nothing; after the first check the delay is ignored.
  Sim sim({.blackhole_share = 0.5, .foreign_queue = 300 * kMs}, policy());
  sim.run(60 * kSec);
  EXPECT_GT(sim.ctl.rate(), 2000) << "reason " << budget_reason_name(sim.ctl.reason())
                                  << " decreases " << sim.ctl.decreases();
}

// 600 entries that unanswered SYNs hold for 2 s: the table carries 300
// black-hole SYNs/s, so 300 / share SYN/s in all, and a budget that floods
// it gets 300 / share * (1 - share) answers/s. The targets' mix here is
// binomial, so the table's fill swings more than behind a real target
// permutation. Over ten minutes the probes that find the table where it
// stood are what drops most: each must end as soon as its fall is clear
// (held to its full sample count they cost 1.5% here). Issue 15's 1% holds
// here too; throughput is held to 0.85x, which a budget that floods (half
// the SYNs dropped) or one that hides far under the table fails alike.
class TableCeiling : public ::testing::TestWithParam<double> {};

TEST_P(TableCeiling, CruisesJustUnderIt) {
  double share = GetParam();
  Sim sim({.blackhole_share = share, .table = 600, .syn_sent_ttl = 2 * kSec}, policy());
  sim.run(30 * kSec);  // converge
  uint64_t a0 = sim.answered, s0 = sim.syns, d0 = sim.drops;
  // The capacity read swings a few percent around the table as probes pass
  // and fail: its median over the run is the reading.
  std::vector<double> capacity;
  for (int i = 0; i < 600; ++i) {
    sim.run(kSec);
    capacity.push_back(sim.ctl.capacity());
  }
  std::nth_element(capacity.begin(), capacity.begin() + 300, capacity.end());
  double drops = static_cast<double>(sim.drops - d0) / static_cast<double>(sim.syns - s0);
  double answers = static_cast<double>(sim.answered - a0) / 600;
  double flood = 300 / share * (1 - share);
  std::printf("share %.1f: %.1f answers/s (%.2fx a flood), drops %.2f%%, capacity %.0f\n", share,
              answers, answers / flood, 100 * drops, capacity[300]);
  EXPECT_LT(drops, 0.01) << "rate " << sim.ctl.rate() << " decreases " << sim.ctl.decreases();
  EXPECT_GT(sim.ctl.decreases(), 0u);
  EXPECT_GT(answers, 0.85 * flood) << "capacity read " << sim.ctl.capacity();
  EXPECT_NEAR(capacity[300], 300 / share, 0.1 * 300 / share);
}

INSTANTIATE_TEST_SUITE_P(BlackHoleShares, TableCeiling, ::testing::Values(0.3, 0.5));

// The benchmark's window (tools/bench/bench_half_open_auto.py: seconds 15
// to 40 of a fresh run). Slow start's overshoot fills the table with
// entries admitted in one bunch, which expire in one bunch: a reading taken
// over less than their lifetime sees a gap or a bunch. Read too low, the
// cruise stays under the table for the rest of the run (0.82x a flood
// here, 0.76x in the lab, before the cruise after a fall was read whole).
class EarlyInARun : public ::testing::TestWithParam<double> {};

TEST_P(EarlyInARun, ReachesTheTable) {
  double share = GetParam();
  Sim sim({.blackhole_share = share, .table = 600, .syn_sent_ttl = 2 * kSec}, policy());
  sim.run(15 * kSec);
  uint64_t a0 = sim.answered;
  double drops = sim.run(25 * kSec);
  double answers = static_cast<double>(sim.answered - a0) / 25;
  double flood = 300 / share * (1 - share);
  std::printf("share %.1f, 15-40 s: %.1f answers/s (%.2fx a flood), drops %.2f%%\n", share, answers,
              answers / flood, 100 * drops);
  // The first probe after slow start lands in this window, and the model's
  // binomial mix of targets swings the table's fill more than the lab's
  // permutation does (this model: 1.3% drops), so it is held to 2.5%.
  EXPECT_GT(answers, 0.85 * flood) << "capacity read " << sim.ctl.capacity();
  EXPECT_LT(drops, 0.025);
}

INSTANTIATE_TEST_SUITE_P(BlackHoleShares, EarlyInARun, ::testing::Values(0.3, 0.5));

TEST(AdaptiveBudget, AMostlyDeadSwarmIsHeldLessTightly) {
  // With 80% black holes one outcome in five is an answer: a probe of
  // bounded length reads the capacity within about 4% (one sigma), not 1.5%,
  // so the cruise sits less surely under the table.
  Sim sim({.blackhole_share = 0.8, .table = 600, .syn_sent_ttl = 2 * kSec}, policy());
  sim.run(30 * kSec);
  uint64_t a0 = sim.answered;
  double drops = sim.run(600 * kSec);
  double answers = static_cast<double>(sim.answered - a0) / 600;
  EXPECT_LT(drops, 0.05);
  EXPECT_GT(answers, 0.8 * 75);
  EXPECT_NEAR(sim.ctl.capacity(), 375, 0.15 * 375);
}

TEST(AdaptiveBudget, RecoversWithinTenSecondsWhenTheTableHalves) {
  // Where the controller stands when the table halves (mid-probe, cruising,
  // just cut) decides how it recovers, so the table halves at five moments;
  // the medians are held to the targets, and every run must back off in time.
  std::vector<double> rates, drop_shares;
  for (int64_t warm : {40, 50, 60, 70, 80}) {
    Sim sim({.blackhole_share = 0.5, .table = 1200, .syn_sent_ttl = 2 * kSec}, policy());
    sim.run(warm * kSec);
    double before = sim.ctl.rate();
    sim.path.table = 600;
    sim.run(10 * kSec);
    // Read under the new table within 10 s (the rate may be probing past it).
    EXPECT_LT(sim.ctl.capacity(), 1.1 * 600)
        << "halved at " << warm << " s, rate before " << before;
    uint64_t s0 = sim.syns;
    drop_shares.push_back(sim.run(60 * kSec));
    rates.push_back(static_cast<double>(sim.syns - s0) / 60);
  }
  std::sort(rates.begin(), rates.end());
  std::sort(drop_shares.begin(), drop_shares.end());
  std::printf("after halving: median %.0f SYN/s (table carries 600), median drops %.2f%%\n",
              rates[2], 100 * drop_shares[2]);
  // The probes that find the new capacity cost some.
  EXPECT_LT(drop_shares[2], 0.03);
  EXPECT_GT(rates[2], 0.75 * 600);
}

TEST(AdaptiveBudget, FindsAListenersAcceptRate) {
  // Live targets only, behind listeners that accept 300 a second with a
  // backlog of 32: every SYN past that is dropped and times out.
  Sim sim({.blackhole_share = 0.0, .accept_per_s = 300}, policy());
  sim.run(30 * kSec);
  double answers = sim.answered_per_s(120 * kSec);
  EXPECT_GT(answers, 0.9 * 300) << "rate " << sim.ctl.rate() << " capacity " << sim.ctl.capacity();
  // ... without flooding them: most of what it sends is answered.
  EXPECT_GT(answers / (sim.ctl.rate()), 0.85);
}

TEST(AdaptiveBudget, HoldsANarrowLinkWithoutFillingItsQueue) {
  Path p{.blackhole_share = 0.0, .rtt = 2 * kMs, .link_syn_per_s = 5000};
  Sim sim(p, policy());
  sim.run(30 * kSec);
  EXPECT_GT(sim.ctl.decreases(), 0u);
  double answers = sim.answered_per_s(60 * kSec);
  EXPECT_LT(sim.queue_ns, 50.0 * kMs) << "rate " << sim.ctl.rate();
  EXPECT_GT(answers, 0.85 * 5000) << "rate " << sim.ctl.rate();
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
  EXPECT_GE(sim.ctl.rate(), 16 / 0.5);  // the floor: min slots held a timeout each
}

TEST(AdaptiveBudget, TheRateStopsWhereTheLargestBudgetIsFull) {
  AdaptivePolicy pol = policy();
  pol.max = 100;
  Sim sim({.blackhole_share = 1.0}, pol);  // every attempt holds its slot for the timeout
  sim.run(20 * kSec);
  ASSERT_EQ(sim.ctl.budget(), 100u);
  EXPECT_NEAR(sim.ctl.rate(), 100 / 0.5, 20);
}

TEST(AdaptiveBudget, AShardShortOfTargetsDoesNotGrowARateItNeverUsed) {
  AdaptiveBudget ctl(policy(), 0);
  // 40 SYNs a second, all answered, for 20 s: far under what slow start offers.
  for (int64_t t = 0; t < 20 * kSec; t += kMs) {
    if (t % (25 * kMs) == 0) {
      ctl.on_sent(t);
      ctl.on_outcome(t, true, kMs, t + kMs);
    }
    ctl.tick(t);
  }
  EXPECT_LT(ctl.rate(), 4 * 40) << budget_reason_name(ctl.reason());
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
