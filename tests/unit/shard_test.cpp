// Drives the real Shard loop with a scripted in-memory dialer, to check the
// engine's bookkeeping (budget, retries, rows, stats) deterministically. The
// kernel backends are exercised for real by the integration suite.
#include "engine/shard.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "engine/mono_clock.hpp"

using namespace swarmdial;

namespace {
// Port 1 refuses, port 2 accepts, port 3 never answers (times out).
class ScriptedDialer : public Dialer {
 public:
  explicit ScriptedDialer(const DialerOptions& o, uint32_t* max_in_flight)
      : opts_(o), active_(o.half_open, false), max_(max_in_flight) {}
  std::string_view name() const override { return "scripted"; }
  void start(uint32_t slot, const Endpoint& dst, const IpAddress*, int64_t now) override {
    EXPECT_LT(slot, opts_.half_open);
    EXPECT_FALSE(active_[slot]) << "slot started twice";
    active_[slot] = true;
    ++in_flight_;
    *max_ = std::max(*max_, in_flight_);
    int err = dst.port == 1 ? ECONNREFUSED : dst.port == 2 ? 0 : ETIMEDOUT;
    int64_t due = now + (err == ETIMEDOUT ? opts_.timeout_ns : 1000);
    pending_.push_back({slot, err, due});
  }
  void submit() override {}
  size_t reap(std::span<DialCompletion> out, int64_t) override {
    int64_t now = mono_ns();
    size_t n = 0;
    for (size_t i = 0; i < pending_.size() && n < out.size();) {
      if (pending_[i].due <= now) {
        out[n++] = {pending_[i].slot, pending_[i].err, pending_[i].err ? -1 : 5000, -1};
        active_[pending_[i].slot] = false;
        --in_flight_;
        pending_.erase(pending_.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
    return n;
  }
  uint32_t in_flight() const override { return in_flight_; }

 private:
  struct P {
    uint32_t slot;
    int err;
    int64_t due;
  };
  DialerOptions opts_;
  std::vector<bool> active_;
  std::vector<P> pending_;
  uint32_t in_flight_ = 0;
  uint32_t* max_;
};

struct Result {
  std::vector<ResultRow> rows;
  uint32_t max_in_flight = 0;
  uint64_t syn_sent = 0, retries = 0, high_water = 0;
};

Result run_shard(const std::string& range, uint32_t budget, uint32_t retries,
                 bool stop_early = false) {
  auto set = *TargetSet::from_range(*parse_target_range(range));
  ShardConfig cfg;
  cfg.half_open = budget;
  cfg.timeout_ns = 2'000'000;
  cfg.retries = retries;
  cfg.backoff = Backoff{1'000'000, 8'000'000};
  cfg.targets = &set;
  ShardStats stats;
  SpscQueue<ResultRow> rows(1 << 12);
  std::atomic<bool> stop{stop_early}, abort{false};
  Result r;
  Shard shard(
      cfg,
      [&](const DialerOptions& o) { return std::make_unique<ScriptedDialer>(o, &r.max_in_flight); },
      stats, rows, nullptr, stop, abort, mono_ns());
  EXPECT_EQ(shard.run(), "");
  while (auto row = rows.try_pop()) r.rows.push_back(*row);
  r.syn_sent = stats.syn_sent.get();
  r.retries = stats.retries.get();
  r.high_water = stats.half_open_high_water.get();
  uint64_t total = 0;
  for (auto& o : stats.outcomes) total += o.get();
  EXPECT_EQ(total, r.rows.size()) << "stats agree with rows";
  return r;
}
}  // namespace

TEST(Shard, OneFinalRowPerTargetWithTheRightOutcome) {
  auto r = run_shard("127.0.0.0/26:1-3", 8, 0);
  ASSERT_EQ(r.rows.size(), 64u * 3);
  std::set<std::string> seen;
  for (auto& row : r.rows) {
    EXPECT_TRUE(seen.insert(format_endpoint(row.target)).second) << "duplicate row";
    Outcome want = row.target.port == 1   ? Outcome::kRefused
                   : row.target.port == 2 ? Outcome::kEstablished
                                          : Outcome::kTimeout;
    EXPECT_EQ(row.outcome, want);
    EXPECT_EQ(row.attempts, 1u);
  }
  EXPECT_LE(r.max_in_flight, 8u);
  EXPECT_EQ(r.high_water, 8u);
  EXPECT_EQ(r.syn_sent, 192u);
}

TEST(Shard, RetriesOnlyTimeoutsAndCountsAttempts) {
  auto r = run_shard("127.0.0.0/28:1-3", 4, 2);
  ASSERT_EQ(r.rows.size(), 48u);
  for (auto& row : r.rows) {
    uint32_t want = row.target.port == 3 ? 3u : 1u;
    EXPECT_EQ(row.attempts, want) << format_endpoint(row.target);
  }
  EXPECT_EQ(r.retries, 16u * 2);
  EXPECT_EQ(r.syn_sent, 48u + 32u);
  EXPECT_LE(r.max_in_flight, 4u);
}

TEST(Shard, StopBeforeStartLaunchesNothing) {
  auto r = run_shard("127.0.0.0/28:1-3", 4, 0, true);
  EXPECT_EQ(r.syn_sent, 0u);
  EXPECT_TRUE(r.rows.empty());
}

TEST(Shard, AFedTargetsTagReachesItsRowThroughRetries) {
  // Two torrents ask for the same peer: each attempt keeps its own tag, a
  // retried timeout too, so each flow reaches the torrent that dialled it.
  TargetSet none = TargetSet::from_list({});
  SpscQueue<DialTarget> feed(64);
  ShardConfig cfg;
  cfg.half_open = 4;
  cfg.timeout_ns = 2'000'000;
  cfg.retries = 1;
  cfg.backoff = Backoff{1'000'000, 8'000'000};
  cfg.targets = &none;
  cfg.feed = &feed;
  std::map<std::pair<uint16_t, uint32_t>, int> want;
  for (uint16_t port : {1, 2, 3})
    for (uint32_t tag : {7u, 9u}) {
      ASSERT_TRUE(feed.try_push({*parse_endpoint("127.0.0.1:" + std::to_string(port)), tag}));
      want[{port, tag}] = 1;
    }
  ShardStats stats;
  SpscQueue<ResultRow> rows(64);
  std::atomic<bool> stop{false}, abort{false};
  uint32_t max_in_flight = 0;
  Shard shard(
      cfg,
      [&](const DialerOptions& o) { return std::make_unique<ScriptedDialer>(o, &max_in_flight); },
      stats, rows, nullptr, stop, abort, mono_ns());
  std::thread t([&] { EXPECT_EQ(shard.run(), ""); });
  std::map<std::pair<uint16_t, uint32_t>, int> got;
  size_t n = 0;
  for (int64_t until = mono_ns() + 5'000'000'000; n < 6 && mono_ns() < until;)
    if (auto row = rows.try_pop()) {
      ++got[{row->target.port, row->tag}];
      EXPECT_EQ(row->attempts, row->target.port == 3 ? 2u : 1u);
      ++n;
    }
  stop = true;
  t.join();
  EXPECT_EQ(got, want);
}
