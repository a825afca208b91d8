// The ceiling search against scripted paths: each model turns an offered
// rate into what a step would measure (a NAT table that admits only so many
// new flows a second, a listener that answers slowly past its accept rate,
// a generator that cannot keep up), and the search must find the planted
// ceiling, or say why it could not.
#include "engine/ceiling_search.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

namespace swarmdial {
namespace {

struct Model {
  double window_s = 4;
  std::function<double(double)> answered_share = [](double) { return 1.0; };
  std::function<uint64_t(double)> p99_us = [](double) { return 1000; };
  std::function<double(double)> send_share = [](double) { return 1.0; };
  std::function<uint64_t(double)> lag_us = [](double) { return 50; };

  StepMeasure step(double rate) const {
    StepMeasure m;
    m.offered_rate = rate;
    m.window_s = window_s;
    m.scheduled = static_cast<uint64_t>(rate * window_s);
    m.sent = static_cast<uint64_t>(static_cast<double>(m.scheduled) * send_share(rate));
    m.answered = static_cast<uint64_t>(static_cast<double>(m.sent) * answered_share(rate));
    m.unanswered = m.sent - m.answered;
    // Answers at 200 µs, with 1.5% of them at the model's p99 (so p99 is that).
    for (uint64_t i = 0; i < 985; ++i) {
      m.latency.counts[LatencyHistogram::bucket_of(200)]++;
      m.latency.sum_us += 200;
    }
    uint64_t tail = p99_us(rate);
    for (uint64_t i = 0; i < 15; ++i) {
      m.latency.counts[LatencyHistogram::bucket_of(tail)]++;
      m.latency.sum_us += tail;
    }
    m.latency.total = 1000;
    m.latency.max_us = std::max<uint64_t>(tail, 200);
    m.lag.counts[LatencyHistogram::bucket_of(lag_us(rate))] = 100;
    m.lag.total = 100;
    m.lag.max_us = lag_us(rate);
    return m;
  }
};

CeilingSearch run(const Model& model, CeilingLimits limits, int max_steps = 60) {
  CeilingSearch s(limits);
  for (int i = 0; i < max_steps; ++i) {
    auto rate = s.next_rate();
    if (!rate) break;
    s.record(model.step(*rate));
  }
  return s;
}

// A NAT table that admits `ceiling` new flows a second towards a swarm that
// is half black holes: past it, a share of every destination's flows drops.
Model table_model(double ceiling, double live_share) {
  Model m;
  m.answered_share = [=](double r) { return live_share * std::min(1.0, ceiling / r); };
  return m;
}

TEST(CeilingSearch, FindsAPlantedTableCeilingAgainstAHalfDeadBaseline) {
  CeilingLimits l;
  l.start_rate = 100;
  l.max_rate = 100000;
  CeilingSearch s = run(table_model(1000, 0.5), l);
  ASSERT_EQ(s.state(), CeilingState::kFound);
  EXPECT_NEAR(s.baseline(), 0.5, 1e-3);
  // Fails once the answered share is 5% under 0.5: past 1000 / 0.95.
  EXPECT_GE(s.ceiling(), 1000 * (1 - l.precision));
  EXPECT_LE(s.ceiling(), 1000 / 0.95);
  EXPECT_GT(s.failed_at(), s.ceiling());
  EXPECT_LE(s.failed_at() - s.ceiling(), l.precision * s.ceiling());
  // Exponential 100..1600, then bisection: every passing step is at or
  // under the ceiling, every failing one above it.
  for (const auto& st : s.steps()) {
    if (st.verdict == StepVerdict::kPass)
      EXPECT_LE(st.m.offered_rate, s.ceiling());
    else
      EXPECT_GE(st.m.offered_rate, s.failed_at());
  }
  EXPECT_EQ(s.steps()[4].m.offered_rate, 1600);
  ASSERT_NE(s.ceiling_step(), nullptr);
  EXPECT_EQ(s.ceiling_step()->m.offered_rate, s.ceiling());
}

TEST(CeilingSearch, TheAnswerDropIsRelativeToTheBaseline) {
  Model m;
  m.answered_share = [](double r) { return r < 150 ? 0.5 : (r < 300 ? 0.48 : 0.47); };
  CeilingLimits l;
  l.start_rate = 100;
  l.precision = 0.05;
  CeilingSearch s = run(m, l);
  ASSERT_EQ(s.state(), CeilingState::kFound);
  // 0.48 is 4% under 0.5 and passes; 0.47 is 6% under and fails.
  EXPECT_GE(s.ceiling(), 200);
  EXPECT_LT(s.ceiling(), 300);
  EXPECT_EQ(s.steps()[2].verdict, StepVerdict::kAnswerDrop);
}

TEST(CeilingSearch, PassesFarUnderTheCeilingRefineANoisyBaseline) {
  // The first step happened to catch few live targets (0.45 of a true 0.5):
  // judged against it alone, 5% under would be 0.4275 and the ceiling would
  // come out near 1170. Steps proven far under the ceiling pool into it.
  Model m = table_model(1000, 0.5);
  m.answered_share = [](double r) { return r == 100 ? 0.45 : 0.5 * std::min(1.0, 1000 / r); };
  CeilingSearch s = run(m, {});
  ASSERT_EQ(s.state(), CeilingState::kFound);
  EXPECT_GT(s.baseline(), 0.49);
  EXPECT_LE(s.ceiling(), 1070);
  EXPECT_TRUE(s.steps()[0].pooled && s.steps()[2].pooled);  // 100 and 400 (800 passed)
  EXPECT_FALSE(s.steps()[3].pooled);                        // 800: 1600 failed
}

TEST(CeilingSearch, FindsALatencyCeiling) {
  Model m;
  m.p99_us = [](double r) { return r <= 3000 ? 2000 : 900'000; };
  CeilingLimits l;
  l.start_rate = 500;
  l.max_p99_ms = 100;
  CeilingSearch s = run(m, l);
  ASSERT_EQ(s.state(), CeilingState::kFound);
  EXPECT_GE(s.ceiling(), 3000 * 0.98);
  EXPECT_LE(s.ceiling(), 3000);
  EXPECT_EQ(s.steps().back().verdict == StepVerdict::kLatency ||
                s.steps().back().verdict == StepVerdict::kPass,
            true);
}

TEST(CeilingSearch, AThresholdTheFirstStepBreaksIsReportedAsSuch) {
  Model m;
  m.p99_us = [](double) { return 400'000; };
  CeilingLimits l;
  l.max_p99_ms = 100;
  CeilingSearch s = run(m, l);
  EXPECT_EQ(s.state(), CeilingState::kBelowStart);
  ASSERT_EQ(s.steps().size(), 1u);
  EXPECT_EQ(s.steps()[0].verdict, StepVerdict::kLatency);
  EXPECT_EQ(s.ceiling(), 0);
  EXPECT_FALSE(s.next_rate());
}

TEST(CeilingSearch, AMaxRateThatHoldsIsALowerBound) {
  CeilingLimits l;
  l.start_rate = 100;
  l.max_rate = 1000;
  CeilingSearch s = run(Model{}, l);
  EXPECT_EQ(s.state(), CeilingState::kAboveMax);
  EXPECT_EQ(s.ceiling(), 1000);
  EXPECT_EQ(s.steps().back().m.offered_rate, 1000);  // 800 -> capped at 1000, not 1600
}

TEST(CeilingSearch, AGeneratorThatFallsBehindIsNotTheTargetsCeiling) {
  Model m = table_model(5000, 1.0);
  m.send_share = [](double r) { return r >= 1600 ? 0.8 : 1.0; };
  CeilingSearch s = run(m, {});
  EXPECT_EQ(s.state(), CeilingState::kGeneratorLimited);
  EXPECT_EQ(s.ceiling(), 800);
  EXPECT_EQ(s.steps().back().verdict, StepVerdict::kGenerator);
  EXPECT_NE(s.steps().back().why.find("scheduled"), std::string::npos);
}

TEST(CeilingSearch, LatencyThatTheGeneratorsOwnLagExplainsIsTheGenerators) {
  Model m;
  m.p99_us = [](double r) { return r >= 400 ? 700'000 : 1000; };
  m.lag_us = [](double r) { return r >= 400 ? 650'000 : 50; };
  CeilingLimits l;
  l.max_p99_ms = 500;
  CeilingSearch s = run(m, l);
  EXPECT_EQ(s.state(), CeilingState::kGeneratorLimited);
  EXPECT_EQ(s.ceiling(), 200);
}

TEST(CeilingSearch, NothingAnsweredMeansNoBaseline) {
  Model m;
  m.answered_share = [](double) { return 0.0; };
  CeilingSearch s = run(m, {});
  EXPECT_EQ(s.state(), CeilingState::kNoBaseline);
  EXPECT_EQ(s.steps()[0].verdict, StepVerdict::kNoAnswers);
}

TEST(CeilingSearch, AnInterruptedSearchKeepsItsSteps) {
  CeilingSearch s({});
  s.record(Model{}.step(*s.next_rate()));
  s.interrupt();
  EXPECT_EQ(s.state(), CeilingState::kInterrupted);
  EXPECT_FALSE(s.next_rate());
  EXPECT_EQ(s.steps().size(), 1u);
  EXPECT_EQ(s.ceiling(), 100);
}

TEST(CeilingSearch, BudgetAdviceFollowsLittlesLaw) {
  // Half the attempts answered in 200 µs-ish, half held for the 1 s timeout:
  // the mean hold is about 0.5 s; at 900/s that is 450 slots, x1.25, over 2 shards.
  StepRecord r;
  r.m = table_model(5000, 0.5).step(1000);
  r.answered_fraction = 0.5;
  BudgetAdvice a = advise_budget(r, 0.9, 1000, 2);
  EXPECT_EQ(a.rate, 900);
  EXPECT_NEAR(a.hold_ms, 500, 10);
  EXPECT_NEAR(a.half_open_per_shard, 900 * 0.5 * 1.25 / 2, 8);
}

}  // namespace
}  // namespace swarmdial
