#pragma once
// systemd's readiness protocol for `seed` as a Type=notify service: READY
// once the listener accepts and the shards dial, a STATUS line a second,
// WATCHDOG pings from the serving loop itself (a loop that hangs stops
// pinging and systemd restarts the service), STOPPING when a stop begins.
// Outside systemd (no NOTIFY_SOCKET) every call does nothing.
#include <cstdint>
#include <functional>
#include <string>

#include "seed_run.hpp"

namespace swarmdial {

class ServiceNotifier {
 public:
  ServiceNotifier();
  bool active() const { return active_; }
  uint64_t watchdog_us() const { return watchdog_us_; }
  void ready(const std::string& status);
  void status(const std::string& status);
  void alive();  // a watchdog ping, when the unit asks for them
  void stopping(const std::string& status);

 private:
  bool active_ = false;
  uint64_t watchdog_us_ = 0;
};

// Adds the notifications to the run's hooks, around what they already do:
// READY with `ready_status`, then `status_line` of every tick as STATUS.
void notify_from_hooks(SeedHooks& hooks, ServiceNotifier& notifier, std::string ready_status,
                       std::function<std::string(const SeedTick&)> status_line);

}  // namespace swarmdial
