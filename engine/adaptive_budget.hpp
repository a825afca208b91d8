#pragma once
// `--half-open auto`: a shard's SYN rate and half-open budget, adapted from
// what the shard sees, between a floor and a ceiling. Sans-I/O: outcomes and
// time in, a rate, a budget and the reason for the last change out.
//
// Every ceiling a path plants is a rate: a NAT table of T entries that keeps
// an unanswered SYN for S seconds carries T / S new flows a second, a
// listener accepts so many a second, a narrow link carries so many
// handshakes' bytes a second. So the rate is what is controlled, and the
// budget follows it (Little's law: the slots that rate keeps in flight, with
// room to spare, so the budget bounds a burst without being the limit).
//
// The signals. A swarm's black holes are a steady share of its targets, so
// the answered fraction (SYN-ACK, RST or ICMP before the timeout) has a
// baseline of its own, whatever it is (0.5 when half the targets are black
// holes); what matters is a fall below it. A full NAT table drops new flows
// to every destination, live peers included, and a listener past its accept
// rate drops the SYNs it cannot queue: the answered fraction falls. A queue
// filling on a narrow link delays every handshake: connect RTT rises above
// its minimum (TCP Vegas and BBR read the same signal). Nmap scales its
// probing by the response rate in the same spirit.
//
// Outcomes are judged by the window their SYN was sent in, once every SYN of
// that window is final (a timeout later): answers come back in milliseconds
// and timeouts only after the timeout, so counting outcomes as they arrive
// would overstate the answered share whenever the rate rises.
//
// The control (TCP Westwood's idea, with BBR's probing).
// - Slow start doubles the rate each time the windows sent at it are judged
//   clean, until the first fall.
// - At a fall the path's capacity is read off what it carried, not guessed
//   by a fixed factor: the rate the stretch was sent at times its answered
//   fraction over the baseline (600 SYN/s sent, a quarter answered where half
//   were: the path carries 300), at most halving it. On delay it is the
//   rate answers arrive at (a standing queue drains at the link's rate) over
//   the baseline, and the queue is drained at half that first.
// - Slow start's reading is taken while a NAT table is still filling, so
//   the first probe comes soon.
// - Cruise at 95% of the capacity. A fall while cruising means the path
//   changed: the capacity is read again, and the next probe waits. Two
//   tests: the whole stretch at one rate finds a small lasting fall, the
//   last two seconds a sudden one (read off its freshest part, so the clean
//   windows before the change do not dilute it). A fall under 1% is not
//   acted on.
// - Now and then, probe over it: first four timeouts to fill a NAT table
//   whose entries outlive our timeout, then a measured stretch of four
//   timeouts and enough outcomes to read the share that gets through within
//   2% (one sigma). The probe reads the capacity at a fixed sample count,
//   so the reading is as likely high as low. As much got through as ever
//   (within two sigma): the capacity rises to the probe, and the next probe
//   comes sooner and reaches further (10%, 20%, 40%, 80%, at most 2x). Less:
//   what got through is the capacity, and the next probe waits twice as long
//   (20 timeouts, up to 320) and reaches half as far (down to 4%), so a
//   ceiling that stands is touched ever more rarely and lightly. A probe
//   whose fall is clear before that is stopped at once: it found the
//   ceiling, and reading it more precisely would cost drops the whole time.
//   Its reading, taken the moment a fall turns significant, is low by the
//   noise it had to beat, so it is taken a sigma up and only ever lowers
//   the capacity. A fall half again what the probe could cause means the
//   path changed under it, and is cut as a cruise's fall is.
// - After a back-off, windows sent for four timeouts are not judged: a NAT
//   table still holds what the overload left in it.
// - A back-off on delay is checked six timeouts later: if the RTT median did
//   not fall by a fifth, the queue is not ours (a bulk flow fills it whatever
//   we send), the rate comes back and delay is ignored for 120 timeouts.
#include <array>
#include <cstdint>
#include <string_view>

namespace swarmdial {

struct AdaptivePolicy {
  uint32_t min = 8;     // --half-open-min
  uint32_t max = 4096;  // --half-open-max
  double max_rate = 0;  // SYN/s for this shard; 0 = no cap
  int64_t timeout_ns = 3'000'000'000;
  int64_t window_ns = 250'000'000;  // outcomes are judged per send window
  uint32_t min_samples = 24;        // a window with fewer is merged into the next
  // (windows are widened for long timeouts, so a timeout's worth of them
  // always fits the ring the controller keeps)
  double loss_tolerance = 0.01;        // a fall beyond the noise, and this much more, is loss
  double delay_factor = 2.0;           // RTT median over this x its minimum is delay
  int64_t delay_floor_ns = 2'000'000;  // ... and at least this much over it
};

enum class BudgetReason : uint8_t {
  kStart,
  kSlowStart,  // doubling per timeout until the first congestion
  kCruise,     // under the capacity
  kProbe,      // above it for a while, to find out whether it moved
  kGrow,       // a clean probe raised the capacity
  kLoss,       // the answered fraction fell below its baseline
  kDelay,      // connect RTT rose over its minimum
  kCount
};
std::string_view budget_reason_name(BudgetReason r);

class AdaptiveBudget {
 public:
  AdaptiveBudget(const AdaptivePolicy& policy, int64_t now_ns);

  // A SYN leaves now.
  void on_sent(int64_t now_ns);
  // One final attempt, sent at sent_ns. answered: a SYN-ACK, RST or ICMP came
  // back (rtt_ns is its connect time); otherwise it timed out.
  void on_outcome(int64_t sent_ns, bool answered, int64_t rtt_ns, int64_t now_ns);
  // Judges the windows whose SYNs are all final; true when budget or rate changed.
  bool tick(int64_t now_ns);

  uint32_t budget() const { return budget_; }
  double rate() const { return rate_; }  // SYN/s, never 0
  BudgetReason reason() const { return reason_; }
  double baseline() const { return baseline_; }            // the reference answered fraction
  double last_answered() const { return last_answered_; }  // of the last judged window
  int64_t rtt_min_ns() const { return rtt_min_ns_; }
  double capacity() const { return capacity_; }  // SYN/s the path carries; 0 = not known yet
  uint64_t decreases() const { return decreases_; }

 private:
  // Outcomes by the window their SYN was sent in.
  struct SendWindow {
    int64_t index = -1;  // window number since the start
    uint32_t sent = 0, total = 0, answered = 0;
    uint32_t windows = 0;  // how many were merged (a judged stretch may span several)
    uint32_t setting = 0;  // the last rate decision in force while it was sent
    double rate = 0;       // the largest rate in force while it was sent
  };
  // Outcomes accumulated over one stretch (one setting, or a reference).
  struct Tally {
    uint64_t sent = 0, total = 0, answered = 0;
    int64_t ns = 0;
    void add(const SendWindow& w, int64_t window_ns);
    double fraction() const { return total ? static_cast<double>(answered) / total : 0; }
    double offered() const { return ns ? sent * 1e9 / static_cast<double>(ns) : 0; }
  };
  static constexpr size_t kWindows = 512;     // covers a timeout of up to ~2 min at 250 ms
  static constexpr size_t kRttSamples = 256;  // per arrival window, for its median
  static constexpr size_t kMinWindows = 40;   // RTT minimum over the last 40 windows
  static constexpr size_t kArrivalWindows = 4;

  enum class Phase { kSlowStart, kDrain, kCruise, kProbe };
  static constexpr double kCruiseGain = 0.94;
  static constexpr double kFirstProbeGain = 0.1;
  static constexpr double kMinProbeGain = 0.04;
  static constexpr double kProbePrecision = 0.02;
  static constexpr double kDrainGain = 0.5;
  static constexpr int64_t kCruiseTimeouts = 20;      // after congestion
  static constexpr int64_t kShortCruiseTimeouts = 8;  // after a clean probe
  static constexpr int64_t kMaxProbeTimeouts = 16;    // the measured stretch at most
  static constexpr int64_t kProbeFillTimeouts =
      4;  // a probe fills a NAT table, then is judged as long
  static constexpr uint32_t kMaxFailedProbeDoublings = 4;
  static constexpr int64_t kFallAgainTimeouts = 12;  // a cut this soon after one is taken twice
  static constexpr uint64_t kMinEvidence = 64;       // outcomes on each side before a fall is loss
  static constexpr uint64_t kMinProbeSamples = 200;
  static constexpr uint64_t kMaxProbeSamples = 20000;
  static constexpr uint64_t kMaxReference = 50000;
  static constexpr int64_t kDelayCheckTimeouts = 6;
  static constexpr int64_t kDelayIgnoreTimeouts = 120;

  SendWindow& window_at(int64_t index);
  void judge(const SendWindow& w, int64_t sent_end_ns, int64_t now_ns);
  bool fell(const Tally& t, double z, double tolerance) const;
  void merge_reference(const Tally& t);
  void congested(const SendWindow& w, const Tally* fallen, const Tally* latest, int64_t now_ns);
  double carried_share(const Tally& t, double fr) const;
  void cruise(int64_t now_ns, BudgetReason why);
  void end_probe(int64_t now_ns);
  void probe_failed(int64_t now_ns);
  void set_rate(double r, BudgetReason why);
  void update_budget();
  double probe_gain() const { return probe_gain_; }
  uint64_t probe_samples() const;
  double floor_rate() const;
  bool delayed(int64_t now_ns) const;
  void roll_arrivals(int64_t now_ns);
  void check_delay_was_ours(int64_t now_ns);

  AdaptivePolicy p_;
  int64_t start_ns_;
  double rate_;
  uint32_t budget_;
  uint32_t setting_ = 0;
  BudgetReason reason_ = BudgetReason::kStart;
  Phase phase_ = Phase::kSlowStart;
  double capacity_ = 0;
  int64_t last_change_ns_ = 0;  // windows sent before it are not judged again
  int64_t drain_until_ns_ = 0;
  int64_t settle_until_ns_ = 0;  // windows sent before it are not judged
  bool probe_judging_ = false;   // past the probe's first stretch
  bool first_cruise_ = false;    // slow start ended, no probe yet
  bool cut_in_cruise_ = false;   // the last cut was a cruise's fall (the path changed)
  int64_t probe_judged_from_ns_ = 0;
  Tally probe_all_;  // everything the probe sent, its filling stretch too
  std::array<SendWindow, kWindows> windows_{};
  int64_t next_judged_ = 0;  // the next send window to judge
  SendWindow pending_;       // windows too small to judge alone, merged
  Tally acc_;                // the stretch sent at the setting in force
  uint32_t acc_setting_ = UINT32_MAX;
  Tally ref_;                            // the last stretch known to be clean
  static constexpr size_t kRecent = 8;   // judged stretches: about two seconds
  static constexpr size_t kLatest = 3;   // the freshest of them
  std::array<Tally, kRecent> recent_{};  // since the last change, for a sudden fall
  size_t recent_idx_ = 0;
  uint32_t clean_probes_ = 0, failed_probes_ = 0;  // in a row
  double probe_gain_ = kFirstProbeGain;
  // By arrival: RTTs and answers, per window.
  std::array<int64_t, kRttSamples> rtts_{};
  uint32_t rtt_n_ = 0;
  uint32_t arrivals_ = 0;
  int64_t arrival_window_start_;
  std::array<double, kArrivalWindows> answer_rates_{};  // answers/s of the last windows
  size_t arrival_idx_ = 0;
  std::array<int64_t, kMinWindows> window_mins_{};
  size_t window_idx_ = 0;
  int64_t rtt_min_ns_ = 0;
  int64_t rtt_median_ns_ = 0;
  double hold_ewma_ns_ = 0;
  double baseline_ = -1;
  double last_answered_ = -1;
  uint64_t decreases_ = 0;
  // A back-off on delay is checked: when the RTT did not fall with it, the
  // queue is someone else's (a bulk flow on the same link), backing off
  // cannot shorten it, and the delay signal is ignored for a while.
  int64_t delay_check_ns_ = 0;  // when to check the last delay back-off; 0 = none pending
  int64_t delay_rtt_before_ns_ = 0;
  double capacity_before_delay_ = 0;
  double rate_before_delay_ = 0;
  bool slow_start_before_delay_ = false;
  int64_t delay_ignored_until_ns_ = 0;
};

}  // namespace swarmdial
