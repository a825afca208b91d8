#pragma once
// SIGINT/SIGTERM handling without async-signal hazards: the signals are
// blocked in every thread and a watcher thread takes them with sigtimedwait.
// The first one asks for a graceful stop; a second one exits at once.
#include <atomic>
#include <thread>

namespace swarmdial {

class SignalWatcher {
 public:
  // Call before any other thread starts, so they inherit the blocked mask.
  static void block_signals();

  explicit SignalWatcher(std::atomic<bool>& stop);
  ~SignalWatcher();
  bool fired() const { return fired_.load(); }

 private:
  std::atomic<bool>& stop_;
  std::atomic<bool> fired_{false};
  std::atomic<bool> quit_{false};
  std::thread thread_;
};

}  // namespace swarmdial
