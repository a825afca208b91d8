#pragma once
// `--half-open auto`: a shard's half-open budget and SYN rate, adapted from
// what the shard sees, between a floor and a ceiling. Sans-I/O: outcomes and
// time in, a budget, a rate and the reason for the last change out.
//
// The signals. A swarm's black holes are a steady share of its targets, so
// the answered fraction (SYN-ACK, RST or ICMP before the timeout) has a
// baseline of its own, whatever it is (0.5 when half the targets are black
// holes); what matters is a fall below it. A NAT table that is full drops new
// flows to every destination, live peers included: the answered fraction
// falls. A queue filling on a narrow link delays every handshake: connect
// RTT rises above its minimum (TCP Vegas and BBR read the same signal).
// Nmap scales its probing by the response rate in the same spirit.
//
// Outcomes are judged by the window their SYN was sent in, once every SYN of
// that window is final (a timeout later): answers come back in milliseconds
// and timeouts only after the timeout, so counting outcomes as they arrive
// would overstate the answered share whenever the rate rises.
//
// The control. Slow start from the floor (x2 per timeout) until the first
// fall; the budget the fallen windows were sent with, times 0.75, becomes the
// ceiling. Then cruise at 90% of the ceiling and, every 40 timeouts (16 after
// a clean probe), probe at 110% of it for 8 timeouts: a clean probe raises
// the ceiling to the probe (steps grow while probes stay clean), a failed one
// lowers it 5%, a fall while cruising sets it to 70% of the cruise budget
// (85% on delay). Windows sent before a change are not held against it. A
// NAT table, whose entries outlive our timeout many times, fills only while
// a probe lasts, hence the long probes. A back-off on delay is checked six
// timeouts later: if the RTT median did not fall by a fifth, the queue is not
// ours (a bulk flow fills it whatever we send), the budget and ceiling come
// back and delay is ignored for 120 timeouts. The rate follows the budget through Little's law:
// rate = budget / (mean time an attempt holds its slot), capped by --rate, so freed slots are not
// refilled in a burst.
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
  double loss_tolerance = 0.0;         // a fall beyond the noise, and this much more, is loss
  double delay_factor = 2.0;           // RTT median over this x its minimum is delay
  int64_t delay_floor_ns = 2'000'000;  // ... and at least this much over it
};

enum class BudgetReason : uint8_t {
  kStart,
  kSlowStart,  // doubling per timeout until the first congestion
  kCruise,     // under the ceiling
  kProbe,      // above it for a while, to find out whether it moved
  kGrow,       // a clean probe raised the ceiling
  kLoss,       // the answered fraction fell below its baseline
  kDelay,      // connect RTT rose over its minimum
  kCount
};
std::string_view budget_reason_name(BudgetReason r);

class AdaptiveBudget {
 public:
  AdaptiveBudget(const AdaptivePolicy& policy, int64_t now_ns);

  // A SYN leaves now (marks its send window with the budget in force).
  void on_sent(int64_t now_ns);
  // One final attempt, sent at sent_ns. answered: a SYN-ACK, RST or ICMP came
  // back (rtt_ns is its connect time); otherwise it timed out.
  void on_outcome(int64_t sent_ns, bool answered, int64_t rtt_ns, int64_t now_ns);
  // Judges the windows whose SYNs are all final; true when budget or rate changed.
  bool tick(int64_t now_ns);

  uint32_t budget() const { return budget_; }
  double rate() const { return rate_; }  // 0 = unlimited
  BudgetReason reason() const { return reason_; }
  double baseline() const { return baseline_; }            // the reference answered fraction
  double last_answered() const { return last_answered_; }  // of the last judged window
  int64_t rtt_min_ns() const { return rtt_min_ns_; }
  double ceiling() const { return ceiling_; }  // the budget the path is known to hold; 0 = none yet
  uint64_t decreases() const { return decreases_; }

 private:
  // Outcomes by the window their SYN was sent in.
  struct SendWindow {
    int64_t index = -1;  // window number since the start
    uint32_t total = 0, answered = 0;
    uint32_t budget = 0;  // the largest budget in force while it was sent
  };
  static constexpr size_t kWindows = 512;     // covers a timeout of up to ~2 min at 250 ms
  static constexpr size_t kRttSamples = 256;  // per arrival window, for its median
  static constexpr size_t kMinWindows = 40;   // RTT minimum over the last 40 windows

  SendWindow& window_at(int64_t index);
  enum class Phase { kSlowStart, kCruise, kProbe };
  static constexpr double kCruiseGain = 0.9;  // cruise at 90% of the ceiling
  static constexpr double kProbeGain = 1.1;   // probe at 110% of it
  static constexpr double kFailedProbeGain = 0.95;
  static constexpr int64_t kCruiseTimeouts = 40;       // after congestion
  static constexpr int64_t kShortCruiseTimeouts = 16;  // after a clean probe
  static constexpr uint64_t kMinEvidence = 64;  // outcomes on each side before a fall is loss
  static constexpr int64_t kProbeTimeouts = 8;
  static constexpr uint64_t kProbeSamples = 400;  // enough to see a ~8% fall at 2 sigma

  void judge(const SendWindow& w, int64_t sent_end_ns, int64_t now_ns);
  void congested(const SendWindow& w, bool loss, int64_t now_ns);
  void cruise(int64_t now_ns, BudgetReason why);
  double probe_gain() const;
  void set_budget(double b, BudgetReason why);
  bool delayed(int64_t now_ns) const;
  void check_delay_was_ours(int64_t now_ns);

  AdaptivePolicy p_;
  int64_t start_ns_;
  double budget_f_;
  uint32_t budget_;
  double rate_ = 0;
  BudgetReason reason_ = BudgetReason::kStart;
  Phase phase_ = Phase::kSlowStart;
  double ceiling_ = 0;
  int64_t last_change_ns_ = 0;  // windows sent before it are not judged again
  std::array<SendWindow, kWindows> windows_{};
  int64_t next_judged_ = 0;  // the next send window to judge
  SendWindow pending_;       // windows too small to judge alone, merged
  // RTT, by arrival.
  std::array<int64_t, kRttSamples> rtts_{};
  uint32_t rtt_n_ = 0;
  int64_t rtt_window_end_;
  std::array<int64_t, kMinWindows> window_mins_{};
  size_t window_idx_ = 0;
  int64_t rtt_min_ns_ = 0;
  int64_t rtt_median_ns_ = 0;
  double hold_ewma_ns_ = 0;
  double baseline_ = -1;
  double last_answered_ = -1;
  uint64_t decreases_ = 0;
  uint32_t acc_budget_ = 0;  // the budget the accumulated windows were sent with
  uint64_t acc_total_ = 0, acc_answered_ = 0;
  uint64_t ref_total_ = 0, ref_answered_ = 0;  // the last stretch known to be clean
  uint32_t clean_probes_ = 0;                  // in a row
  // A back-off on delay is checked: when the RTT did not fall with it, the
  // queue is someone else's (a bulk flow on the same link), backing off
  // cannot shorten it, and the delay signal is ignored for a while.
  int64_t delay_check_ns_ = 0;  // when to check the last delay back-off; 0 = none pending
  int64_t delay_rtt_before_ns_ = 0;
  double ceiling_before_delay_ = 0;
  double budget_before_delay_ = 0;
  bool slow_start_before_delay_ = false;
  int64_t delay_ignored_until_ns_ = 0;
  static constexpr int64_t kDelayCheckTimeouts = 6;
  static constexpr int64_t kDelayIgnoreTimeouts = 120;
};

}  // namespace swarmdial
