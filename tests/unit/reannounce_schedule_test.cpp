// --reannounce interval: peers join at the join rate, then announce again
// the tracker's interval (scaled) after each answer, and retry failures
// with a doubling back-off capped at the interval.
#include "engine/tracker/reannounce_schedule.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

using namespace swarmdial;

namespace {
constexpr int64_t kSec = 1'000'000'000;

// Runs the schedule against a tracker that answers every announce `rtt`
// after it is due with `interval_s`, until `end`; returns announce times
// by membership.
std::map<uint64_t, std::vector<int64_t>> drive(ReannounceSchedule& s, uint64_t members,
                                               int64_t interval_s, int64_t rtt, int64_t end) {
  std::map<uint64_t, std::vector<int64_t>> at;
  std::multimap<int64_t, uint64_t> answers;  // when each in-flight announce is answered
  for (int64_t now = 0; now < end; now += kSec / 1000) {
    while (!answers.empty() && answers.begin()->first <= now) {
      s.answered(answers.begin()->second, interval_s, now);
      answers.erase(answers.begin());
    }
    while (auto d = s.next(now)) {
      EXPECT_LE(d->due_ns, now);
      at[d->announce % members].push_back(d->due_ns);
      answers.emplace(now + rtt, d->announce);
    }
  }
  return at;
}
}  // namespace

TEST(ReannounceSchedule, JoinsAtTheRateThenFollowsTheInterval) {
  ReannounceSchedule s(100, 50, 0, 1.0);  // 100 peers join over 2 s
  auto at = drive(s, 100, 3, 10'000'000, 10 * kSec);
  ASSERT_EQ(at.size(), 100u);
  EXPECT_EQ(s.joined(), 100u);
  EXPECT_EQ(at[0].front(), 0);
  EXPECT_EQ(at[99].front(), 99 * kSec / 50);
  for (auto& [m, times] : at) {
    // Joined at m/50 s, then every 3 s + 10 ms (the interval runs from the answer).
    for (size_t r = 1; r < times.size(); ++r)
      EXPECT_NEAR(static_cast<double>(times[r] - times[r - 1]), 3.01e9, 2e6) << m;
    int64_t expected = 1 + (10 * kSec - 1 - times.front()) / (3 * kSec + 10'000'000);
    EXPECT_EQ(static_cast<int64_t>(times.size()), expected) << m;
  }
}

TEST(ReannounceSchedule, ScaleCompressesTheTrackersInterval) {
  ReannounceSchedule s(10, 1000, 0, 0.01);  // 1800 s becomes 18 s
  auto at = drive(s, 10, 1800, 0, 40 * kSec);
  for (auto& [m, times] : at) {
    ASSERT_EQ(times.size(), 3u) << m;
    EXPECT_NEAR(static_cast<double>(times[1] - times[0]), 18e9, 2e6);
  }
  EXPECT_EQ(s.reannounces(), 20u);
}

TEST(ReannounceSchedule, FailuresRetryTheSameAnnounceWithBackOff) {
  ReannounceSchedule s(1, 1, 0, 1.0);
  auto first = s.next(0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->announce, 0u);
  s.answered(0, 100, 0);  // the tracker's interval is 100 s
  auto second = s.next(100 * kSec);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->announce, 1u);  // round 1
  int64_t now = 100 * kSec;
  std::vector<int64_t> waits;
  uint64_t a = second->announce;
  for (int i = 0; i < 5; ++i) {
    s.failed(a, now);
    int64_t due = s.next_due_ns();
    waits.push_back((due - now) / kSec);
    auto d = s.next(due);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->announce, a);  // the same announce again
    now = due;
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{15, 30, 60, 100, 100}));  // capped at the interval
  EXPECT_EQ(s.retries(), 5u);
  s.answered(a, 100, now);
  EXPECT_EQ(s.next_due_ns(), now + 100 * kSec);
}

TEST(ReannounceSchedule, NothingIsDueEarly) {
  ReannounceSchedule s(3, 1, 5 * kSec, 1.0);
  EXPECT_FALSE(s.next(5 * kSec - 1));
  EXPECT_EQ(s.next_due_ns(), 5 * kSec);
  EXPECT_TRUE(s.next(5 * kSec));
  EXPECT_FALSE(s.next(6 * kSec - 1));
}
