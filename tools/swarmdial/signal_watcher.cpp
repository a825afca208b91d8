#include "signal_watcher.hpp"

#include <signal.h>
#include <unistd.h>

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

SignalWatcher::SignalWatcher(std::atomic<bool>& stop) : stop_(stop) {
  thread_ = std::thread([this] {
    sigset_t set = watched();
    timespec tick{0, 100'000'000};
    while (!quit_.load()) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig < 0) continue;
      if (fired_.exchange(true)) _exit(128 + sig);  // second signal: leave now
      stop_.store(true);
    }
  });
}

SignalWatcher::~SignalWatcher() {
  quit_.store(true);
  thread_.join();
}

}  // namespace swarmdial
