#include "adaptive_budget.hpp"

#include <algorithm>
#include <cmath>

namespace swarmdial {

std::string_view budget_reason_name(BudgetReason r) {
  switch (r) {
    case BudgetReason::kStart:
      return "start";
    case BudgetReason::kSlowStart:
      return "slow_start";
    case BudgetReason::kGrow:
      return "grow";
    case BudgetReason::kProbe:
      return "probe";
    case BudgetReason::kCruise:
      return "cruise";
    case BudgetReason::kLoss:
      return "loss";
    case BudgetReason::kDelay:
      return "delay";
    case BudgetReason::kCount:
      break;
  }
  return "?";
}

AdaptiveBudget::AdaptiveBudget(const AdaptivePolicy& policy, int64_t now_ns)
    : p_(policy),
      start_ns_(now_ns),
      budget_f_(std::max(1u, policy.min)),
      budget_(std::max(1u, policy.min)),
      rate_(policy.max_rate),
      rtt_window_end_(now_ns + policy.window_ns) {
  last_change_ns_ = now_ns;
  p_.min = budget_;
  p_.max = std::max(p_.max, budget_);
  // A window is judged a timeout after it ends: everything sent since must
  // fit in half the ring, or a window would be overwritten before it is judged.
  p_.window_ns = std::max<int64_t>(
      {p_.window_ns, 1, 2 * (p_.timeout_ns + 2 * p_.window_ns) / int64_t{kWindows} + 1});
  rtt_window_end_ = now_ns + p_.window_ns;
}

AdaptiveBudget::SendWindow& AdaptiveBudget::window_at(int64_t index) {
  SendWindow& w = windows_[static_cast<size_t>(index) % kWindows];
  if (w.index != index) w = SendWindow{index, 0, 0, budget_};
  return w;
}

void AdaptiveBudget::on_sent(int64_t now_ns) {
  SendWindow& w = window_at((now_ns - start_ns_) / p_.window_ns);
  w.budget = std::max(w.budget, budget_);
}

void AdaptiveBudget::on_outcome(int64_t sent_ns, bool answered, int64_t rtt_ns, int64_t now_ns) {
  int64_t index = (sent_ns - start_ns_) / p_.window_ns;
  if (index >= next_judged_ && index > (now_ns - start_ns_) / p_.window_ns - int64_t{kWindows}) {
    SendWindow& w = window_at(index);
    ++w.total;
    w.answered += answered;
  }
  if (answered && rtt_ns > 0) rtts_[rtt_n_++ % kRttSamples] = rtt_ns;
  double held = static_cast<double>(std::max<int64_t>(now_ns - sent_ns, 1));
  hold_ewma_ns_ = hold_ewma_ns_ == 0 ? held : 0.98 * hold_ewma_ns_ + 0.02 * held;
}

void AdaptiveBudget::set_budget(double b, BudgetReason why) {
  budget_f_ = std::clamp(b, static_cast<double>(p_.min), static_cast<double>(p_.max));
  budget_ = static_cast<uint32_t>(budget_f_);
  reason_ = why;
}

bool AdaptiveBudget::delayed(int64_t now_ns) const {
  if (now_ns < delay_ignored_until_ns_) return false;
  return rtt_median_ns_ > 0 && rtt_min_ns_ > 0 &&
         static_cast<double>(rtt_median_ns_) > p_.delay_factor * static_cast<double>(rtt_min_ns_) &&
         rtt_median_ns_ - rtt_min_ns_ > p_.delay_floor_ns;
}

void AdaptiveBudget::judge(const SendWindow& w, int64_t sent_end_ns, int64_t now_ns) {
  last_answered_ = static_cast<double>(w.answered) / w.total;
  // Evidence accumulates over the windows sent at one budget, so a small
  // lasting fall is found where one window's sampling noise would hide it.
  if (w.budget != acc_budget_) {
    acc_budget_ = w.budget;
    acc_total_ = acc_answered_ = 0;
  }
  acc_total_ += w.total;
  acc_answered_ += w.answered;
  // Loss is a fall against the reference, the last stretch known to be
  // clean: a difference between two measurements of the same swarm, so the
  // share of black holes cancels out, whatever it is.
  bool loss = false;
  if (ref_total_ >= kMinEvidence && acc_total_ >= kMinEvidence) {
    double fa = static_cast<double>(acc_answered_) / acc_total_;
    double fr = static_cast<double>(ref_answered_) / ref_total_;
    // Slow start judges many small windows: a stricter test keeps a chance
    // dip from ending it early.
    double z = phase_ == Phase::kSlowStart ? 3.0 : 2.0;
    double noise = z * std::sqrt(fr * (1 - fr) * (1.0 / acc_total_ + 1.0 / ref_total_));
    loss = fa < fr * (1 - p_.loss_tolerance) - noise;
  }
  bool delay = delayed(now_ns);
  if (phase_ == Phase::kSlowStart && !loss) {  // slow start's clean windows are the first reference
    ref_total_ += w.total;
    ref_answered_ += w.answered;
  }
  if (ref_total_) baseline_ = static_cast<double>(ref_answered_) / ref_total_;
  if (sent_end_ns <= last_change_ns_) return;  // sent before the last change: already judged
  if (loss || delay) return congested(w, loss, now_ns);
  switch (phase_) {
    case Phase::kSlowStart: {
      double share = static_cast<double>(p_.window_ns) / static_cast<double>(p_.timeout_ns);
      set_budget(std::max(budget_f_ * std::pow(2.0, std::min(share, 1.0)), budget_f_ + 1),
                 BudgetReason::kSlowStart);
      break;
    }
    case Phase::kCruise:
      // After a clean probe the next comes soon; after congestion, late.
      if (now_ns - last_change_ns_ >=
          (clean_probes_ ? kShortCruiseTimeouts : kCruiseTimeouts) * p_.timeout_ns) {
        // A clean cruise is the reference the probe is held against, when
        // it answered at least as well: a fall within the noise must not
        // walk the reference down cycle after cycle.
        if (acc_total_ >= p_.min_samples &&
            acc_answered_ * ref_total_ >= ref_answered_ * acc_total_) {
          ref_total_ = acc_total_;
          ref_answered_ = acc_answered_;
        }
        phase_ = Phase::kProbe;
        set_budget(ceiling_ * probe_gain(), BudgetReason::kProbe);
        last_change_ns_ = now_ns;
      }
      break;
    case Phase::kProbe:
      // The probe's windows were judged clean with enough evidence: the
      // path holds this budget, so the ceiling rises to it.
      // A NAT table fills only as its entries accumulate (they outlive our
      // timeout), so a probe lasts several timeouts before it is called clean.
      if (acc_total_ >= kProbeSamples &&
          now_ns - last_change_ns_ >= kProbeTimeouts * p_.timeout_ns) {
        ceiling_ = std::min<double>(p_.max, ceiling_ * probe_gain());
        ++clean_probes_;
        cruise(now_ns, BudgetReason::kGrow);
      }
      break;
  }
}

void AdaptiveBudget::cruise(int64_t now_ns, BudgetReason why) {
  phase_ = Phase::kCruise;
  set_budget(ceiling_ * kCruiseGain, why);
  last_change_ns_ = now_ns;
}

// Clean probes in a row reach further (10%, 10%, 21%, 21%, 33%... at most 2x),
// so a ceiling set too low (a false alarm, a path that got better) is left
// behind in a few cycles, while a real one is approached in small steps.
double AdaptiveBudget::probe_gain() const {
  return std::min(2.0, std::pow(kProbeGain, 1 + clean_probes_ / 2));
}

void AdaptiveBudget::check_delay_was_ours(int64_t now_ns) {
  if (delay_check_ns_ == 0 || now_ns < delay_check_ns_) return;
  delay_check_ns_ = 0;
  if (static_cast<double>(rtt_median_ns_) < 0.8 * static_cast<double>(delay_rtt_before_ns_)) return;
  // The queue stayed as long with less of ours in it: it is not ours.
  delay_ignored_until_ns_ = now_ns + kDelayIgnoreTimeouts * p_.timeout_ns;
  last_change_ns_ = now_ns;
  if (slow_start_before_delay_) {
    phase_ = Phase::kSlowStart;
    ceiling_ = 0;
    set_budget(budget_before_delay_, BudgetReason::kSlowStart);
    return;
  }
  ceiling_ = std::max(ceiling_, ceiling_before_delay_);
  cruise(now_ns, BudgetReason::kGrow);
}

void AdaptiveBudget::congested(const SendWindow& w, bool loss, int64_t now_ns) {
  clean_probes_ = 0;
  if (loss && budget_ <= p_.min && w.budget <= p_.min) {
    // Nothing left to give back: at the floor, a lower answered share is the
    // swarm's own (more of it is dead), and becomes the reference.
    ref_total_ = acc_total_;
    ref_answered_ = acc_answered_;
    return;
  }
  ++decreases_;
  BudgetReason why = loss ? BudgetReason::kLoss : BudgetReason::kDelay;
  if (!loss && delay_check_ns_ == 0) {
    delay_check_ns_ = now_ns + kDelayCheckTimeouts * p_.timeout_ns;
    delay_rtt_before_ns_ = rtt_median_ns_;
    ceiling_before_delay_ = ceiling_;
    budget_before_delay_ = budget_f_;
    slow_start_before_delay_ = phase_ == Phase::kSlowStart;
  }
  switch (phase_) {
    case Phase::kSlowStart:
      // The path gave out somewhere between half this budget and all of it.
      ceiling_ = w.budget * 0.75;
      break;
    case Phase::kProbe:
      // The path does not hold the probe; the ceiling itself may be at the
      // edge, so it gives a little too (a clean probe wins it back).
      ceiling_ *= kFailedProbeGain;
      break;
    case Phase::kCruise:
      // Even the cruising budget is too much: the path has changed.
      ceiling_ = w.budget * (loss ? 0.7 : 0.85);
      break;
  }
  ceiling_ = std::max<double>(ceiling_, p_.min);
  cruise(now_ns, why);
}

bool AdaptiveBudget::tick(int64_t now_ns) {
  uint32_t old_budget = budget_;
  double old_rate = rate_;
  if (now_ns >= rtt_window_end_) {
    size_t n = std::min<size_t>(rtt_n_, kRttSamples);
    if (n >= 8) {
      std::nth_element(rtts_.begin(), rtts_.begin() + n / 2, rtts_.begin() + n);
      rtt_median_ns_ = rtts_[n / 2];
      window_mins_[window_idx_++ % kMinWindows] =
          *std::min_element(rtts_.begin(), rtts_.begin() + n);
      rtt_min_ns_ = 0;
      for (int64_t m : window_mins_)
        if (m > 0 && (rtt_min_ns_ == 0 || m < rtt_min_ns_)) rtt_min_ns_ = m;
    }
    rtt_n_ = 0;
    rtt_window_end_ = now_ns + p_.window_ns;
  }
  check_delay_was_ours(now_ns);
  // A send window is final a timeout after it ends (plus a window for the
  // completions to be reaped).
  for (;;) {
    int64_t sent_end = start_ns_ + (next_judged_ + 1) * p_.window_ns;
    if (sent_end + p_.timeout_ns + p_.window_ns > now_ns) break;
    SendWindow& w = windows_[static_cast<size_t>(next_judged_) % kWindows];
    if (w.index == next_judged_) {
      pending_.total += w.total;
      pending_.answered += w.answered;
      pending_.budget = std::max(pending_.budget, w.budget);
    }
    ++next_judged_;
    if (pending_.total >= p_.min_samples) {
      judge(pending_, sent_end, now_ns);
      pending_ = SendWindow{};
    }
  }
  // Little's law: the SYN rate that keeps `budget` attempts in flight.
  if (hold_ewma_ns_ > 0) {
    rate_ = budget_f_ / (hold_ewma_ns_ / 1e9);
    if (p_.max_rate > 0) rate_ = std::min(rate_, p_.max_rate);
  }
  return budget_ != old_budget || std::abs(rate_ - old_rate) > 0.05 * std::max(old_rate, 1.0);
}

}  // namespace swarmdial
