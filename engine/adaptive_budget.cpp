#include "adaptive_budget.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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

void AdaptiveBudget::Tally::add(const SendWindow& w, int64_t window_ns) {
  sent += w.sent;
  total += w.total;
  answered += w.answered;
  ns += int64_t{w.windows} * window_ns;
}

AdaptiveBudget::AdaptiveBudget(const AdaptivePolicy& policy, int64_t now_ns)
    : p_(policy), start_ns_(now_ns), rate_(0), budget_(std::max(1u, policy.min)) {
  p_.min = budget_;
  p_.max = std::max(p_.max, budget_);
  // A window is judged a timeout after it ends: everything sent since must
  // fit in half the ring, or a window would be overwritten before it is judged.
  p_.window_ns = std::max<int64_t>(
      {p_.window_ns, 1, 2 * (p_.timeout_ns + 2 * p_.window_ns) / int64_t{kWindows} + 1});
  p_.timeout_ns = std::max<int64_t>(p_.timeout_ns, 1'000'000);
  arrival_window_start_ = now_ns;
  last_change_ns_ = now_ns;
  // The floor: min slots, each held for a whole timeout.
  set_rate(floor_rate(), BudgetReason::kStart);
}

double AdaptiveBudget::floor_rate() const {
  double r = p_.min * 1e9 / static_cast<double>(p_.timeout_ns);
  return p_.max_rate > 0 ? std::min(r, p_.max_rate) : r;
}

AdaptiveBudget::SendWindow& AdaptiveBudget::window_at(int64_t index) {
  SendWindow& w = windows_[static_cast<size_t>(index) % kWindows];
  if (w.index != index) w = SendWindow{index, 0, 0, 0, 1, setting_, rate_};
  return w;
}

void AdaptiveBudget::on_sent(int64_t now_ns) {
  SendWindow& w = window_at((now_ns - start_ns_) / p_.window_ns);
  ++w.sent;
  w.rate = std::max(w.rate, rate_);
  w.setting = setting_;
}

void AdaptiveBudget::on_outcome(int64_t sent_ns, bool answered, int64_t rtt_ns, int64_t now_ns) {
  int64_t index = (sent_ns - start_ns_) / p_.window_ns;
  if (index >= next_judged_ && index > (now_ns - start_ns_) / p_.window_ns - int64_t{kWindows}) {
    SendWindow& w = window_at(index);
    ++w.total;
    w.answered += answered;
  }
  if (answered) {
    ++arrivals_;
    if (rtt_ns > 0) rtts_[rtt_n_++ % kRttSamples] = rtt_ns;
  }
  double held = static_cast<double>(std::max<int64_t>(now_ns - sent_ns, 1));
  hold_ewma_ns_ = hold_ewma_ns_ == 0 ? held : 0.98 * hold_ewma_ns_ + 0.02 * held;
}

void AdaptiveBudget::set_rate(double r, BudgetReason why) {
  double top = p_.max_rate > 0 ? p_.max_rate : std::numeric_limits<double>::max();
  // More than the largest budget can keep in flight is not a rate at all.
  if (hold_ewma_ns_ > 0) top = std::min(top, p_.max * 1e9 / hold_ewma_ns_);
  rate_ = std::clamp(r, floor_rate(), std::max(top, floor_rate()));
  reason_ = why;
  ++setting_;
  recent_.fill(Tally{});
  update_budget();
}

// Little's law, with room: the slots this rate keeps in flight if attempts
// hold them twice as long as they do now, plus half a timeout's worth, so
// that the SYNs a congested path starts to drop (each holding its slot a
// whole timeout) do not stall the rate before the loss is even judged. At
// most a timeout's worth: every attempt timing out.
void AdaptiveBudget::update_budget() {
  double t = static_cast<double>(p_.timeout_ns);
  double hold = hold_ewma_ns_ > 0 ? std::min(2 * hold_ewma_ns_ + t / 2, t) : t;
  double b = std::ceil(rate_ * hold / 1e9) + 1;
  budget_ = static_cast<uint32_t>(
      std::clamp(b, static_cast<double>(p_.min), static_cast<double>(p_.max)));
}

bool AdaptiveBudget::delayed(int64_t now_ns) const {
  if (now_ns < delay_ignored_until_ns_) return false;
  return rtt_median_ns_ > 0 && rtt_min_ns_ > 0 &&
         static_cast<double>(rtt_median_ns_) > p_.delay_factor * static_cast<double>(rtt_min_ns_) &&
         rtt_median_ns_ - rtt_min_ns_ > p_.delay_floor_ns;
}

// Loss is a fall against the reference, the last stretch known to be clean:
// a difference between two measurements of the same swarm, so the share of
// black holes cancels out, whatever it is.
bool AdaptiveBudget::fell(const Tally& t, double z, double tolerance) const {
  if (ref_.total < kMinEvidence || t.total < kMinEvidence) return false;
  // Smoothed, so a reference that answered every time still has a variance.
  double fr = (static_cast<double>(ref_.answered) + 0.5) / static_cast<double>(ref_.total + 1);
  double noise = z * std::sqrt(fr * (1 - fr) * (1.0 / t.total + 1.0 / ref_.total));
  return t.fraction() < fr * (1 - tolerance) - noise;
}

// The share of what was sent that the path carried, read from a stretch
// that fell, one sigma above its face value: a test fires the moment a fall
// beats its noise, when the reading is low by about that noise. At face
// value a table that dropped 5% was cut by a third and then sat there for a
// whole cruise; at two sigma a halved table was cut 15% at a time, four
// times over, dropping all the while.
double AdaptiveBudget::carried_share(const Tally& t, double fr) const {
  if (t.total == 0) return 1.0;
  double noise =
      std::sqrt(fr * (1 - fr) * (1.0 / t.total + 1.0 / std::max<uint64_t>(ref_.total, 1)));
  return std::min(t.fraction() + noise, fr) / fr;
}

// The reference keeps at most kMaxReference outcomes: the older ones are
// scaled down to make room, so it weighs the recent swarm most.
void AdaptiveBudget::merge_reference(const Tally& t) {
  uint64_t room = kMaxReference > t.total ? kMaxReference - t.total : 0;
  if (ref_.total > room) {
    double keep = static_cast<double>(room) / static_cast<double>(ref_.total);
    ref_.answered = static_cast<uint64_t>(static_cast<double>(ref_.answered) * keep);
    ref_.total = room;
  }
  ref_.total += t.total;
  ref_.answered += t.answered;
}

// Outcomes a probe's measured stretch needs: enough that the share that got
// through, and so the capacity read from it, is within 2% (one sigma),
// whatever the share of black holes. (The reference, many cruises long,
// adds less.)
uint64_t AdaptiveBudget::probe_samples() const {
  double fr = (static_cast<double>(ref_.answered) + 0.5) / static_cast<double>(ref_.total + 1);
  double n = (1 - fr) / (fr * kProbePrecision * kProbePrecision);
  return std::clamp(static_cast<uint64_t>(n), kMinProbeSamples, kMaxProbeSamples);
}

void AdaptiveBudget::judge(const SendWindow& w, int64_t sent_end_ns, int64_t now_ns) {
  last_answered_ = static_cast<double>(w.answered) / w.total;
  // Sent while a NAT table still held what an overload left in it: the
  // losses are the past's, and are neither counted nor acted on.
  if (sent_end_ns <= settle_until_ns_) return;
  // Evidence accumulates over the windows sent at one setting, so a small
  // lasting fall is found where one window's sampling noise would hide it.
  if (w.setting != acc_setting_) {
    acc_setting_ = w.setting;
    acc_ = Tally{};
  }
  acc_.add(w, p_.window_ns);
  // Slow start and cruise judge window after window: a stricter test keeps
  // chance dips from adding up to a false alarm.
  // Two tests: the whole stretch at this setting finds a small lasting fall,
  // the last two seconds a sudden one that a long clean stretch would
  // dilute. A probe (or a measurement) is read at its end, at a fixed sample
  // count, not the moment a fall turns significant (which reads low by the
  // noise the fall had to beat): only a fall half again what it could cause, a
  // path that changed under it, cuts it short.
  bool fresh = sent_end_ns > std::max(last_change_ns_, settle_until_ns_);
  if (fresh) {
    recent_[recent_idx_++ % kRecent] = Tally{};
    recent_[(recent_idx_ - 1) % kRecent].add(w, p_.window_ns);
  }
  // The last two seconds, and their last three stretches: a sudden fall
  // (a table that shrank) is found over two seconds and read off the
  // freshest part of them, or the clean windows before the change dilute
  // the reading (a halved table was first cut by 15%).
  Tally recent, latest;
  for (size_t i = 0; i < kRecent; ++i) {
    const Tally& t = recent_[(recent_idx_ + kRecent - 1 - i) % kRecent];
    for (Tally* sum : {&recent, &latest}) {
      if (sum == &latest && i >= kLatest) continue;
      sum->sent += t.sent;
      sum->total += t.total;
      sum->answered += t.answered;
    }
  }
  bool loss;
  const Tally* fallen = &acc_;
  const Tally* probe_fell = nullptr;
  if (phase_ == Phase::kProbe) {
    double g = probe_gain();
    loss = fell(recent, 3.0, std::max(1.5 * g / (1 + g), 0.05));
    fallen = &recent;
    if (fresh) probe_all_.add(w, p_.window_ns);
    if (!loss && fell(recent, 3.0, 0.0)) probe_fell = &recent;
    if (!loss && fell(probe_all_, 3.0, 0.0)) probe_fell = &probe_all_;
  } else {
    // Slow start's overshoot fills a NAT table in one bunch, which expires
    // in one bunch and admits the next the same way: a stretch shorter than
    // the entries' lifetime reads a gap or a bunch. So the first cruise is
    // read over as long as a probe fills a table before a fall counts.
    // (Later cuts are not: they follow a path that changed, and waiting
    // there kept the drops going after a table was halved.)
    bool whole = !first_cruise_ || acc_.ns >= kProbeFillTimeouts * p_.timeout_ns;
    loss = whole && fell(acc_, 3.0, p_.loss_tolerance);
    if (!loss && whole && phase_ != Phase::kSlowStart && fell(recent, 3.0, p_.loss_tolerance)) {
      loss = true;
      fallen = &recent;
    }
  }
  bool delay = delayed(now_ns);
  if (phase_ == Phase::kSlowStart && !loss) {  // slow start's clean windows are the first reference
    Tally clean;
    clean.add(w, p_.window_ns);
    merge_reference(clean);
  }
  if (ref_.total) baseline_ = ref_.fraction();
  if (sent_end_ns <= last_change_ns_) return;  // sent before the last change: already judged
  if (loss || delay)
    return congested(w, loss ? fallen : nullptr, fallen == &recent ? &latest : nullptr, now_ns);
  // A probe that falls clearly has found the ceiling under it: going on to
  // the fixed sample count would only read it more precisely, paying a NAT
  // table's drops the whole time (a 10% probe held 6 s cost more than the
  // 20 s cruise before it saved). Read the moment a fall turns significant,
  // the share that got through is low by the noise it had to beat, so it is
  // taken a sigma up, and it only lowers the capacity (a ceiling that was
  // read too high is corrected; one that stood is kept, as the filling
  // stretch in the tally reads high).
  if (probe_fell && sent_end_ns > last_change_ns_) {
    double fr = std::max(ref_.fraction(), 0.01);
    double reading = probe_all_.offered() * carried_share(*probe_fell, fr);
    capacity_ = std::clamp(reading, 0.8 * capacity_, capacity_);
    return probe_failed(now_ns);
  }
  switch (phase_) {
    case Phase::kSlowStart: {
      // The rate doubles once the windows sent at it are judged clean, as a
      // congestion window doubles per round trip: it never runs more than
      // twice past what was last seen to hold. Only a window that used its
      // rate says so (a shard short of targets would otherwise grow a rate
      // it never tried).
      if (w.setting != setting_) break;
      double expected = w.rate * w.windows * (static_cast<double>(p_.window_ns) / 1e9);
      if (w.sent + 1 < 0.5 * expected) break;
      set_rate(std::max(rate_ * 2, rate_ + 1), BudgetReason::kSlowStart);
      break;
    }
    case Phase::kDrain:
      break;
    case Phase::kCruise: {
      int64_t cruise_ns =
          (clean_probes_ ? kShortCruiseTimeouts
                         : kCruiseTimeouts << std::min(failed_probes_, kMaxFailedProbeDoublings)) *
          p_.timeout_ns;
      // The first cruise counts from when it is judged (see judge()), so it
      // is read whole before a probe leaves it.
      int64_t from = first_cruise_ ? std::max(last_change_ns_, settle_until_ns_) : last_change_ns_;
      if (now_ns - from < cruise_ns) break;
      // The clean cruise joins the reference the probe is held against, so
      // it follows the swarm's own share of black holes as it drifts; a
      // cruise that answered clearly worse (two sigma: a fall too small to
      // act on) is left out, or the reference would walk down with it. A
      // stricter rule would bias the reference up, and every reading low.
      if (acc_.total >= kMinEvidence && !fell(acc_, 2.0, 0.0)) merge_reference(acc_);
      phase_ = Phase::kProbe;
      probe_judging_ = false;
      probe_all_ = Tally{};
      first_cruise_ = false;
      set_rate(capacity_ * (1 + probe_gain()), BudgetReason::kProbe);
      last_change_ns_ = now_ns;
      break;
    }
    case Phase::kProbe:
      // A NAT table whose entries outlive our timeout fills only as the
      // probe goes on, so its first stretch is not evidence that the path
      // carries it: the probe is judged on what is sent after that.
      if (!probe_judging_) {
        if (now_ns - last_change_ns_ >= kProbeFillTimeouts * p_.timeout_ns) {
          probe_judging_ = true;
          probe_judged_from_ns_ = now_ns;
          ++setting_;  // the same rate; a fresh tally from here
        }
        break;
      }
      // Measured for four timeouts and until the reading is precise, but
      // for no more than sixteen: in a swarm of mostly black holes the
      // precision would take minutes past the capacity to reach.
      if (w.setting == setting_ &&
          ((acc_.total >= probe_samples() &&
            now_ns - probe_judged_from_ns_ >= kProbeFillTimeouts * p_.timeout_ns) ||
           now_ns - probe_judged_from_ns_ >= kMaxProbeTimeouts * p_.timeout_ns))
        end_probe(now_ns);
      break;
  }
}

// The probe's measured stretch is a reading of the capacity, not a verdict:
// what the path carried is the rate times the share that got through. Read
// at a fixed sample count, not the moment a fall turns significant, it is
// not biased low by the noise a test had to beat.
void AdaptiveBudget::end_probe(int64_t now_ns) {
  double offered = acc_.offered();
  double carried = offered * acc_.fraction() / std::max(ref_.fraction(), 0.01);
  bool clean = carried >= offered * (1 - 2 * kProbePrecision);  // within two sigma
  if (clean) {
    capacity_ = std::max(capacity_, std::min(capacity_ * (1 + probe_gain()), offered));
    // Clean probes in a row reach further (at most 2x), so a capacity read
    // too low (a false alarm, a path that got better) is left behind in a
    // few cycles; one clean probe after failures may be the noise of a
    // reading near the edge, and does not.
    if (clean_probes_++ > 0 || failed_probes_ == 0) probe_gain_ = std::min(1.0, 2 * probe_gain_);
    failed_probes_ = 0;
    return cruise(now_ns, BudgetReason::kGrow);
  }
  // Past the capacity: what got through is the capacity (read at a fixed
  // sample count, it is as likely high as low). The next probe waits
  // longer, and the entries the probe left in a NAT table age out before
  // anything is judged.
  capacity_ = std::clamp(carried, 0.8 * capacity_, std::max(offered, 0.8 * capacity_));
  probe_failed(now_ns);
}

void AdaptiveBudget::probe_failed(int64_t now_ns) {
  ++decreases_;
  clean_probes_ = 0;
  ++failed_probes_;
  // Failed ones reach less far: a ceiling that stands costs less and less
  // to confirm.
  probe_gain_ = std::max(kMinProbeGain, probe_gain_ / 2);
  cruise(now_ns, BudgetReason::kLoss);
  settle_until_ns_ = now_ns + kProbeFillTimeouts * p_.timeout_ns;
}

void AdaptiveBudget::cruise(int64_t now_ns, BudgetReason why) {
  phase_ = Phase::kCruise;
  set_rate(capacity_ * kCruiseGain, why);
  last_change_ns_ = now_ns;
}

void AdaptiveBudget::congested(const SendWindow& w, const Tally* fallen, const Tally* latest,
                               int64_t now_ns) {
  bool loss = fallen != nullptr;
  double floor = floor_rate() * 1.01;
  if (loss && rate_ <= floor && w.rate <= floor) {
    // Nothing left to give back: at the floor, a lower answered share is the
    // swarm's own (more of it is dead), and becomes the reference.
    ref_ = acc_;
    return;
  }
  ++decreases_;
  clean_probes_ = 0;
  double fr = ref_.total ? std::max(ref_.fraction(), 0.01) : 1.0;
  double sent_at = std::max(acc_.offered(), 1e-9);
  // A rough reading of what the path carried: on loss, the rate the stretch
  // was sent at times the share of it that got through (taken the moment a
  // fall turns significant, it reads low by the noise the fall had to beat:
  // the safe side; probes find what it missed); on delay, the rate answers
  // arrive at (a standing queue empties at the link's rate), as SYNs. At
  // most halved at once, as a congestion window is, except by slow start's
  // overshoot.
  double delivered;
  if (loss) {
    double share = carried_share(*fallen, fr);
    if (latest && latest->total >= kMinEvidence)
      share = std::min(share, carried_share(*latest, fr));
    // A cruise that falls again soon after a cut: the path is still
    // shrinking faster than it was read (a halved NAT table drains its old
    // entries in bunches, so each reading lands partly in a gap). The fall
    // is taken twice over, as a congestion window's repeated halvings are,
    // or the cut creeps down 15% every few seconds, dropping all the while.
    bool again = phase_ == Phase::kCruise && reason_ == BudgetReason::kLoss && cut_in_cruise_ &&
                 now_ns - last_change_ns_ <= kFallAgainTimeouts * p_.timeout_ns;
    if (again) share *= std::sqrt(share);
    delivered = sent_at * share;
  } else {
    double arrivals = *std::max_element(answer_rates_.begin(), answer_rates_.end());
    delivered = std::min(arrivals / fr, std::max(sent_at, w.rate));
    if (delay_check_ns_ == 0) {
      delay_check_ns_ = now_ns + kDelayCheckTimeouts * p_.timeout_ns;
      delay_rtt_before_ns_ = rtt_median_ns_;
      capacity_before_delay_ = capacity_;
      rate_before_delay_ = rate_;
      slow_start_before_delay_ = phase_ == Phase::kSlowStart;
    }
  }
  double least = 0.5;
  capacity_ = std::max(std::clamp(delivered, least * sent_at, sent_at), floor_rate());
  // A path that got worse (or a probe that failed) is not probed again
  // soon, nor far: the table that shrank rarely grows back at once.
  // Until the first probe, a fall is still slow start's overshoot being
  // read (its first reading is rough both ways): not a path that changed.
  // The first cruise's fall, read over a whole stretch, is a reading of the
  // capacity as good as a failed probe's, and is followed as one.
  cut_in_cruise_ = loss && phase_ == Phase::kCruise && !first_cruise_;
  first_cruise_ = phase_ == Phase::kSlowStart;
  if (!first_cruise_) {
    failed_probes_ = std::max(failed_probes_ + (phase_ == Phase::kProbe), 1u);
    probe_gain_ = std::max(kMinProbeGain, std::min(probe_gain_, kFirstProbeGain) / 2);
  }
  if (loss) {
    // Cruise under the reading; the entries an overload left in a NAT table
    // age out before anything is judged. Slow start's reading is rough (the
    // table was still filling): the first probe comes soon. (Reaching far
    // at once, 20% or 40%, found the capacity sooner but cost 5-12% drops
    // while it did.)
    if (first_cruise_) clean_probes_ = 1;
    cruise(now_ns, BudgetReason::kLoss);
    settle_until_ns_ = now_ns + kProbeFillTimeouts * p_.timeout_ns;
    return;
  }
  // A queue of our own: empty it at half the capacity, then cruise.
  phase_ = Phase::kDrain;
  set_rate(capacity_ * kDrainGain, BudgetReason::kDelay);
  last_change_ns_ = now_ns;
  drain_until_ns_ = now_ns + std::max<int64_t>(2 * rtt_median_ns_, 2 * p_.window_ns);
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
    capacity_ = 0;
    set_rate(rate_before_delay_, BudgetReason::kSlowStart);
    return;
  }
  capacity_ = std::max(capacity_, capacity_before_delay_);
  cruise(now_ns, BudgetReason::kGrow);
}

void AdaptiveBudget::roll_arrivals(int64_t now_ns) {
  if (now_ns < arrival_window_start_ + p_.window_ns) return;
  answer_rates_[arrival_idx_++ % kArrivalWindows] =
      arrivals_ * 1e9 / static_cast<double>(now_ns - arrival_window_start_);
  arrivals_ = 0;
  size_t n = std::min<size_t>(rtt_n_, kRttSamples);
  if (n >= 8) {
    std::nth_element(rtts_.begin(), rtts_.begin() + n / 2, rtts_.begin() + n);
    rtt_median_ns_ = rtts_[n / 2];
    window_mins_[window_idx_++ % kMinWindows] = *std::min_element(rtts_.begin(), rtts_.begin() + n);
    rtt_min_ns_ = 0;
    for (int64_t m : window_mins_)
      if (m > 0 && (rtt_min_ns_ == 0 || m < rtt_min_ns_)) rtt_min_ns_ = m;
  }
  rtt_n_ = 0;
  arrival_window_start_ = now_ns;
}

bool AdaptiveBudget::tick(int64_t now_ns) {
  uint32_t old_budget = budget_;
  double old_rate = rate_;
  roll_arrivals(now_ns);
  check_delay_was_ours(now_ns);
  if (phase_ == Phase::kDrain &&
      (now_ns >= drain_until_ns_ ||
       (rtt_median_ns_ > 0 &&
        static_cast<double>(rtt_median_ns_) <= 1.25 * static_cast<double>(rtt_min_ns_))))
    cruise(now_ns, BudgetReason::kDelay);
  // A send window is final a timeout after it ends (plus a window for the
  // completions to be reaped).
  for (;;) {
    int64_t sent_end = start_ns_ + (next_judged_ + 1) * p_.window_ns;
    if (sent_end + p_.timeout_ns + p_.window_ns > now_ns) break;
    SendWindow& w = windows_[static_cast<size_t>(next_judged_) % kWindows];
    if (pending_.windows == 0) pending_ = SendWindow{next_judged_, 0, 0, 0, 0, setting_, 0};
    ++pending_.windows;
    if (w.index == next_judged_) {
      pending_.sent += w.sent;
      pending_.total += w.total;
      pending_.answered += w.answered;
      pending_.rate = std::max(pending_.rate, w.rate);
      pending_.setting = w.setting;
    }
    ++next_judged_;
    if (pending_.total >= p_.min_samples) {
      judge(pending_, sent_end, now_ns);
      pending_ = SendWindow{};
    }
  }
  // The budget follows the slots' hold time as it is measured.
  update_budget();
  return budget_ != old_budget || std::abs(rate_ - old_rate) > 0.01 * std::max(old_rate, 1.0);
}

}  // namespace swarmdial
