#include "ceiling_search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace swarmdial {

const char* verdict_name(StepVerdict v) {
  switch (v) {
    case StepVerdict::kPass:
      return "pass";
    case StepVerdict::kAnswerDrop:
      return "answer_drop";
    case StepVerdict::kLatency:
      return "latency";
    case StepVerdict::kGenerator:
      return "generator";
    case StepVerdict::kNoAnswers:
      return "no_answers";
  }
  return "?";
}

const char* ceiling_state_name(CeilingState s) {
  switch (s) {
    case CeilingState::kSearching:
      return "searching";
    case CeilingState::kFound:
      return "found";
    case CeilingState::kAboveMax:
      return "above_max_rate";
    case CeilingState::kBelowStart:
      return "below_start_rate";
    case CeilingState::kGeneratorLimited:
      return "generator_limited";
    case CeilingState::kNoBaseline:
      return "no_baseline";
    case CeilingState::kInterrupted:
      return "interrupted";
  }
  return "?";
}

CeilingSearch::CeilingSearch(const CeilingLimits& limits)
    : limits_(limits), next_(std::min(limits.start_rate, limits.max_rate)) {}

std::optional<double> CeilingSearch::next_rate() const {
  if (state_ != CeilingState::kSearching) return std::nullopt;
  return next_;
}

void CeilingSearch::interrupt() {
  if (state_ == CeilingState::kSearching) state_ = CeilingState::kInterrupted;
}

const StepRecord* CeilingSearch::ceiling_step() const {
  for (const auto& s : steps_)
    if (s.verdict == StepVerdict::kPass && s.m.offered_rate == pass_) return &s;
  return nullptr;
}

StepVerdict CeilingSearch::judge(StepRecord& r) {
  const StepMeasure& m = r.m;
  double p99_ms = static_cast<double>(m.latency.percentile_us(0.99)) / 1000.0;
  double lag_p99_ms = static_cast<double>(m.lag.percentile_us(0.99)) / 1000.0;
  if (m.scheduled > 0 &&
      static_cast<double>(m.sent) < limits_.min_send_share * static_cast<double>(m.scheduled)) {
    r.why = fmt::format("the generator sent {} of {} scheduled{}{}", m.sent, m.scheduled,
                        m.generator_note.empty() ? "" : ": ", m.generator_note);
    return StepVerdict::kGenerator;
  }
  if (baseline_ < 0) {
    if (m.answered == 0) {
      r.why = "nothing answered: no baseline to judge against";
      return StepVerdict::kNoAnswers;
    }
    pool(r);
  }
  bool slow = limits_.max_p99_ms > 0 && m.latency.total > 0 && p99_ms > limits_.max_p99_ms;
  // Latency runs from the scheduled time, so a generator behind its
  // timetable looks like a slow target; when the latency less the
  // generator's own lag is within the limit, the lag is the story.
  if (slow && p99_ms - lag_p99_ms <= limits_.max_p99_ms) {
    r.why =
        fmt::format("p99 {:.1f} ms over {:.0f} ms, but the generator's own lag p99 is {:.1f} ms",
                    p99_ms, limits_.max_p99_ms, lag_p99_ms);
    return StepVerdict::kGenerator;
  }
  double floor = baseline_ * (1.0 - limits_.max_answer_drop);
  if (r.answered_fraction < floor) {
    r.why = fmt::format("answered {:.1f}% < {:.1f}% ({:.0f}% under the baseline {:.1f}%)",
                        100 * r.answered_fraction, 100 * floor, 100 * limits_.max_answer_drop,
                        100 * baseline_);
    return StepVerdict::kAnswerDrop;
  }
  if (slow) {
    r.why = fmt::format("p99 {:.1f} ms > {:.0f} ms", p99_ms, limits_.max_p99_ms);
    return StepVerdict::kLatency;
  }
  r.why = fmt::format("answered {:.1f}% (baseline {:.1f}%), p99 {:.1f} ms",
                      100 * r.answered_fraction, 100 * baseline_, p99_ms);
  return StepVerdict::kPass;
}

void CeilingSearch::pool(StepRecord& r) {
  r.pooled = true;
  pooled_answered_ += r.m.answered;
  pooled_judged_ += r.m.answered + r.m.unanswered;
  baseline_ = static_cast<double>(pooled_answered_) / static_cast<double>(pooled_judged_);
}

const StepRecord& CeilingSearch::record(const StepMeasure& m) {
  StepRecord r;
  r.m = m;
  uint64_t judged = m.answered + m.unanswered;
  r.answered_fraction = judged ? static_cast<double>(m.answered) / static_cast<double>(judged) : 0;
  double w = std::max(m.window_s, 1e-9);
  r.achieved_rate = static_cast<double>(m.answered) / w;
  r.sent_rate = static_cast<double>(m.sent) / w;
  r.verdict = judge(r);
  steps_.push_back(r);
  if (state_ != CeilingState::kSearching) return steps_.back();

  double rate = m.offered_rate;
  switch (r.verdict) {
    case StepVerdict::kNoAnswers:
      state_ = CeilingState::kNoBaseline;
      return steps_.back();
    case StepVerdict::kGenerator:
      state_ = CeilingState::kGeneratorLimited;
      return steps_.back();
    case StepVerdict::kPass:
      // Steps at half this rate or less are proven far under the ceiling.
      for (StepRecord& earlier : steps_)
        if (!earlier.pooled && earlier.verdict == StepVerdict::kPass &&
            earlier.m.offered_rate <= rate / 2)
          pool(earlier);
      pass_ = std::max(pass_, rate);
      break;
    case StepVerdict::kAnswerDrop:
    case StepVerdict::kLatency:
      fail_ = fail_ > 0 ? std::min(fail_, rate) : rate;
      if (pass_ == 0) {
        state_ = CeilingState::kBelowStart;
        return steps_.back();
      }
      bisecting_ = true;
      break;
  }
  if (!bisecting_) {
    if (rate >= limits_.max_rate) {
      state_ = CeilingState::kAboveMax;
    } else {
      next_ = std::min(rate * 2, limits_.max_rate);
    }
    return steps_.back();
  }
  if (fail_ - pass_ <= limits_.precision * pass_) {
    state_ = CeilingState::kFound;
  } else {
    next_ = (pass_ + fail_) / 2;
  }
  return steps_.back();
}

BudgetAdvice advise_budget(const StepRecord& at_ceiling, double margin, int64_t timeout_ms,
                           uint32_t shards) {
  BudgetAdvice a;
  const LatencyHistogram::Snapshot& l = at_ceiling.m.latency;
  double answered_ms =
      l.total ? static_cast<double>(l.sum_us) / static_cast<double>(l.total) / 1000.0 : 0;
  double af = at_ceiling.answered_fraction;
  a.hold_ms = af * answered_ms + (1 - af) * static_cast<double>(timeout_ms);
  a.rate = std::floor(at_ceiling.m.offered_rate * margin);
  double slots = a.rate * a.hold_ms / 1000.0 * 1.25 / std::max<uint32_t>(shards, 1);
  a.half_open_per_shard = static_cast<uint32_t>(std::max(1.0, std::ceil(slots)));
  return a;
}

}  // namespace swarmdial
