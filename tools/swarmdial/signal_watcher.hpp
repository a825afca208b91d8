#pragma once
// SIGINT/SIGTERM handling without async-signal hazards: the signals are
// blocked in every thread and a watcher thread reads them from a signalfd.
//
// The first signal asks for a graceful stop. GNU `timeout`, systemd and
// container runtimes often deliver SIGTERM twice at once (to the child, then
// to its process group), so signals within kSameRequestNs of the first are
// the same request. A later signal forces the exit: it sets `abort`, which
// makes the run skip settling and goodbyes, and the command still writes the
// rows it has and a summary marked interrupted. If the command has not
// finished that within kForcedGraceNs, the watcher says so on stderr and
// exits with 128 + the signal.
#include <atomic>
#include <cstdint>
#include <thread>

namespace swarmdial {

class SignalWatcher {
 public:
  static constexpr int64_t kSameRequestNs = 1'000'000'000;
  static constexpr int64_t kForcedGraceNs = 5'000'000'000;

  // Call before any other thread starts, so they inherit the blocked mask.
  // reload: SIGHUP is taken too (a daemon's "read your configuration
  // again"), and sets the watcher's `reload` flag instead of ending the run.
  static void block_signals(bool reload = false);

  SignalWatcher(std::atomic<bool>& stop, std::atomic<bool>& abort,
                std::atomic<bool>* reload = nullptr);
  // The command is done writing: a forced exit no longer needs to step in.
  ~SignalWatcher();
  bool fired() const { return fired_.load(); }
  bool forced() const { return forced_.load(); }

 private:
  void watch();
  // The next SIGINT/SIGTERM, or -1 after timeout_ms or a wake-up.
  int next_signal(int timeout_ms);

  std::atomic<bool>& stop_;
  std::atomic<bool>& abort_;
  std::atomic<bool>* reload_;
  std::atomic<bool> fired_{false};
  std::atomic<bool> forced_{false};
  std::atomic<bool> quit_{false};
  int signal_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
};

}  // namespace swarmdial
