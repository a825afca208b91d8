#pragma once
// `swarmdial ceiling`: the highest rate a path sustains, found with open-loop
// steps at fixed rates. Sans-I/O: the caller runs each step (SYNs to
// targets, or announces to a tracker) and hands back what it measured; the
// search judges the step and names the next rate.
//
// The search. Exponential from the start rate (x2 per passing step, capped
// at the max rate) to the first failing step, then bisection between the
// highest pass and the lowest fail until they are within the precision. The
// ceiling is the highest passing rate, so it is a rate that was seen to hold.
//
// A step passes when, against the baseline, the answered fraction has not
// fallen by more than max_answer_drop of it (relative: a swarm that is half
// black holes has a baseline of 0.5, and 0.475 still passes at 5%), and the
// p99 latency of answered attempts, measured from each attempt's scheduled
// time, is under max_p99. The baseline is the first step's answered
// fraction, pooled with each passing step once a step at twice its rate
// has passed too (so it was far under the ceiling): black holes are a
// steady share, and a few hundred attempts at the start rate alone would
// put as much noise into the baseline as the 5% it is judged by. A step
// whose generator could not keep its own timetable (it sent less than 95%
// of what was scheduled, or a latency failure that its own lag explains)
// says so instead: that is the generator's ceiling, not the target's, and
// the search stops there.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "latency_histogram.hpp"

namespace swarmdial {

struct CeilingLimits {
  double start_rate = 100;
  double max_rate = 1'000'000;
  double precision = 0.02;        // stop when (lowest fail - highest pass) <= this x pass
  double max_answer_drop = 0.05;  // relative to the baseline answered fraction
  double max_p99_ms = 500;        // of answered attempts, from scheduled time
  double min_send_share = 0.95;   // a generator that sent less than this fell behind
};

// What one step measured over its window (after the warmup).
struct StepMeasure {
  double offered_rate = 0;  // per second, as scheduled
  double window_s = 0;
  uint64_t scheduled = 0;              // attempts due in the window
  uint64_t sent = 0;                   // of those, sent before the window closed
  uint64_t answered = 0;               // SYN-ACK, RST or ICMP (a tracker: a valid reply)
  uint64_t unanswered = 0;             // timeouts (a tracker: timeouts and errors)
  uint64_t local_errors = 0;           // failures on our side, not counted either way
  LatencyHistogram::Snapshot latency;  // answered attempts, from scheduled time, µs
  LatencyHistogram::Snapshot lag;      // scheduled time -> sent, µs
  std::string generator_note;          // why the generator fell behind, when it knows
};

enum class StepVerdict : uint8_t {
  kPass,
  kAnswerDrop,  // the answered fraction fell under the baseline's allowance
  kLatency,     // p99 over the limit
  kGenerator,   // the generator, not the target, could not keep the rate
  kNoAnswers,   // the first step got no answers at all: there is no baseline
};
const char* verdict_name(StepVerdict v);

struct StepRecord {
  StepMeasure m;
  double answered_fraction = 0;
  double achieved_rate = 0;  // answered per second
  double sent_rate = 0;
  StepVerdict verdict = StepVerdict::kPass;
  std::string why;      // one line, for the status line and the summary
  bool pooled = false;  // counted into the baseline
};

enum class CeilingState : uint8_t {
  kSearching,
  kFound,             // within the precision: pass <= ceiling < fail
  kAboveMax,          // the max rate passed: the ceiling is at least that
  kBelowStart,        // the first step already failed a threshold
  kGeneratorLimited,  // the generator gave out first: the ceiling is at least the last pass
  kNoBaseline,        // nothing answered at the start rate
  kInterrupted,       // stopped (a signal) before the search ended
};
const char* ceiling_state_name(CeilingState s);

class CeilingSearch {
 public:
  explicit CeilingSearch(const CeilingLimits& limits);

  // The rate of the next step, or nothing once the search is over.
  std::optional<double> next_rate() const;
  // Judges a step run at next_rate().
  const StepRecord& record(const StepMeasure& m);
  void interrupt();

  CeilingState state() const { return state_; }
  double ceiling() const { return pass_; }    // highest passing rate, 0 if none
  double failed_at() const { return fail_; }  // lowest failing rate, 0 if none
  double baseline() const { return baseline_; }
  // The step that passed at the ceiling, if any.
  const StepRecord* ceiling_step() const;
  const std::vector<StepRecord>& steps() const { return steps_; }
  const CeilingLimits& limits() const { return limits_; }

 private:
  StepVerdict judge(StepRecord& r);
  void pool(StepRecord& r);

  CeilingLimits limits_;
  CeilingState state_ = CeilingState::kSearching;
  bool bisecting_ = false;
  double next_ = 0;
  double pass_ = 0, fail_ = 0;
  double baseline_ = -1;
  uint64_t pooled_answered_ = 0, pooled_judged_ = 0;
  std::vector<StepRecord> steps_;
};

// What to configure to run just under a found ceiling (`seed`/`dial`
// --rate and --half-open): the rate with a margin, and the half-open budget
// that rate needs by Little's law (slots = rate x the mean time an attempt
// holds one: its latency when answered, the timeout when not), with 25%
// headroom, per shard.
struct BudgetAdvice {
  double rate = 0;
  uint32_t half_open_per_shard = 0;
  double hold_ms = 0;  // mean time an attempt held its slot at the ceiling
};
BudgetAdvice advise_budget(const StepRecord& at_ceiling, double margin, int64_t timeout_ms,
                           uint32_t shards);

}  // namespace swarmdial
