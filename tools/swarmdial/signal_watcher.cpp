#include "signal_watcher.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>

#include "engine/mono_clock.hpp"
#include "engine/thread_name.hpp"

namespace swarmdial {

namespace {
// Set before any thread starts, read after.
bool g_reload = false;

sigset_t watched() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (g_reload) sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

void SignalWatcher::block_signals(bool reload) {
  g_reload = reload;
  sigset_t set = watched();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a closed stdout or peer is an error return, not a death
}

SignalWatcher::SignalWatcher(std::atomic<bool>& stop, std::atomic<bool>& abort,
                             std::atomic<bool>* reload)
    : stop_(stop), abort_(abort), reload_(reload) {
  sigset_t set = watched();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // The watcher sleeps on a signalfd and is woken to quit through an eventfd,
  // not a signal of its own: DPDK's TAP driver claims a free real-time signal,
  // and a watcher waiting on one could swallow the driver's Rx notifications.
  signal_fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] {
    name_this_thread("sd-signals");
    watch();
  });
}

int SignalWatcher::next_signal(int timeout_ms) {
  if (signal_fd_ < 0 || wake_fd_ < 0) {
    // No descriptors (fd limit at start-up): fall back to a short timed wait.
    sigset_t set = watched();
    timespec tick{0, 50'000'000};
    return sigtimedwait(&set, nullptr, &tick);
  }
  pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  if (::poll(fds, 2, timeout_ms) <= 0) return -1;
  signalfd_siginfo info{};
  if (::read(signal_fd_, &info, sizeof info) != sizeof info) return -1;
  return static_cast<int>(info.ssi_signo);
}

void SignalWatcher::watch() {
  int64_t first_at = 0;
  int64_t forced_at = 0;
  int forced_sig = 0;
  while (!quit_.load()) {
    // Once an exit is forced, its grace is watched closely.
    int sig = next_signal(forced_at ? 50 : 1000);
    int64_t now = mono_ns();
    if (forced_at && now - forced_at > kForcedGraceNs) {
      // Only a write that cannot complete (a stalled pipe or disk) gets here.
      static const char msg[] =
          "swarmdial: forced exit: rows and summary could not be written in time\n";
      [[maybe_unused]] ssize_t w = ::write(STDERR_FILENO, msg, sizeof msg - 1);
      _exit(128 + forced_sig);
    }
    if (sig < 0) continue;
    if (sig == SIGHUP) {
      if (reload_) reload_->store(true);
      continue;
    }
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
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(wake_fd_, &one, sizeof one);
  }
  thread_.join();
  if (signal_fd_ >= 0) ::close(signal_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

}  // namespace swarmdial
