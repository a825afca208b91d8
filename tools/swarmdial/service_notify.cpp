#include "service_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace swarmdial {

ServiceNotifier::ServiceNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket && *socket;
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) watchdog_us_ = usec;
  // Pings come with the status, once a second: a shorter WatchdogSec
  // would kill a healthy service.
  if (watchdog_us_ && watchdog_us_ < 2'000'000)
    std::fprintf(stderr,
                 "swarmdial seed: WatchdogSec is %.1f s; pings come once a second, so it "
                 "needs 2 s or more\n",
                 watchdog_us_ / 1e6);
}

void ServiceNotifier::ready(const std::string& status) {
  if (active_) sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
}

void ServiceNotifier::status(const std::string& status) {
  if (active_) sd_notifyf(0, "STATUS=%s", status.c_str());
}

void ServiceNotifier::alive() {
  if (watchdog_us_) sd_notify(0, "WATCHDOG=1");
}

void ServiceNotifier::stopping(const std::string& status) {
  if (active_) sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status.c_str());
}

void notify_from_hooks(SeedHooks& hooks, ServiceNotifier& notifier, std::string ready_status,
                       std::function<std::string(const SeedTick&)> status_line) {
  if (!notifier.active() && !notifier.watchdog_us()) return;
  hooks.on_started = [&notifier, ready = std::move(ready_status),
                      next = std::move(hooks.on_started)](PeerInbox& inbox) {
    if (next) next(inbox);
    notifier.ready(ready);
  };
  hooks.every_second = [&notifier, line = std::move(status_line),
                        next = std::move(hooks.every_second)](const SeedTick& t) {
    if (next) next(t);
    notifier.status(line(t));
    notifier.alive();
  };
  hooks.before_stop = [&notifier, next = std::move(hooks.before_stop)](bool forced) {
    notifier.stopping(forced ? "stopping at once (a second signal)"
                             : "stopping: closing peers, announcing stopped");
    if (next) next(forced);
  };
}

}  // namespace swarmdial
