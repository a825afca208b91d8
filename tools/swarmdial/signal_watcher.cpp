#include "signal_watcher.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "engine/mono_clock.hpp"

namespace swarmdial {

namespace {
sigset_t watched() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
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
  thread_ = std::thread([this] { watch(); });
}

void SignalWatcher::watch() {
  sigset_t set = watched();
  timespec tick{0, 50'000'000};
  int64_t first_at = 0;
  int64_t forced_at = 0;
  int forced_sig = 0;
  while (!quit_.load()) {
    int sig = sigtimedwait(&set, nullptr, &tick);
    int64_t now = mono_ns();
    if (forced_at && now - forced_at > kForcedGraceNs) {
      // Only a write that cannot complete (a stalled pipe or disk) gets here.
      static const char msg[] =
          "swarmdial: forced exit: rows and summary could not be written in time\n";
      [[maybe_unused]] ssize_t w = ::write(STDERR_FILENO, msg, sizeof msg - 1);
      _exit(128 + forced_sig);
    }
    if (sig < 0) continue;
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
  thread_.join();
}

}  // namespace swarmdial
