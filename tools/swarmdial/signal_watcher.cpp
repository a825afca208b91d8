#include "signal_watcher.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "engine/mono_clock.hpp"
#include "engine/thread_name.hpp"

namespace swarmdial {

namespace {
// Sent by the destructor to the watcher thread alone, so an idle process
// need not wake every few milliseconds to learn that it should quit.
int wake_signal() {
  return SIGRTMIN + 1;
}

sigset_t watched() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, wake_signal());
  return set;
}
}  // namespace

void SignalWatcher::block_signals() {
  sigset_t set = watched();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a closed stdout or peer is an error return, not a death
}

SignalWatcher::SignalWatcher(std::atomic<bool>& stop, std::atomic<bool>& abort)
    : stop_(stop), abort_(abort) {
  // The watcher inherits this mask: the wake signal must never be delivered.
  sigset_t set = watched();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this] {
    name_this_thread("sd-signals");
    watch();
  });
}

void SignalWatcher::watch() {
  sigset_t set = watched();
  int64_t first_at = 0;
  int64_t forced_at = 0;
  int forced_sig = 0;
  while (!quit_.load()) {
    // Once an exit is forced, its grace is watched closely.
    timespec tick{forced_at ? 0 : 1, forced_at ? 50'000'000 : 0};
    int sig = sigtimedwait(&set, nullptr, &tick);
    int64_t now = mono_ns();
    if (forced_at && now - forced_at > kForcedGraceNs) {
      // Only a write that cannot complete (a stalled pipe or disk) gets here.
      static const char msg[] =
          "swarmdial: forced exit: rows and summary could not be written in time\n";
      [[maybe_unused]] ssize_t w = ::write(STDERR_FILENO, msg, sizeof msg - 1);
      _exit(128 + forced_sig);
    }
    if (sig < 0 || sig == wake_signal()) continue;
    if (!fired_.exchange(true)) {
      first_at = now;
      stop_.store(true);
      continue;
    }
    if (now - first_at < kSameRequestNs || forced_at) continue;  // the same request
    forced_at = now;
    forced_sig = sig;
    forced_.store(true);
    abort_.store(true);
  }
}

SignalWatcher::~SignalWatcher() {
  quit_.store(true);
  pthread_kill(thread_.native_handle(), wake_signal());
  thread_.join();
}

}  // namespace swarmdial
