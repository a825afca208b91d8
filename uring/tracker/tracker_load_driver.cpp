#include "tracker_load_driver.hpp"

#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <memory>
#include <optional>

#include "engine/mono_clock.hpp"
#include "load_http_channels.hpp"
#include "load_pending.hpp"
#include "load_udp_channels.hpp"

namespace swarmdial {

std::string_view load_error_name(LoadError e) {
  switch (e) {
    case LoadError::kTimeout:
      return "timeout";
    case LoadError::kTrackerError:
      return "tracker_error";
    case LoadError::kBadReply:
      return "bad_reply";
    case LoadError::kHttpStatus:
      return "http_status";
    case LoadError::kConnection:
      return "connection";
    case LoadError::kSendFailed:
      return "send_failed";
    case LoadError::kOverload:
      return "overload";
    case LoadError::kCount:
      break;
  }
  return "?";
}

namespace {
// epoll tags: (1 + scheme + 2 x family) << 32 | channel index.
constexpr uint64_t tag_of(bool http, bool ipv6) {
  return uint64_t{1u + http + 2u * ipv6} << 32;
}
constexpr int64_t kMinSleepNs = 100'000;
// Each pass of the UDP loop pays a sleep, a wake-up and a syscall each way
// (about 20 µs on a VM, where waking costs a hypervisor exit), which a pass
// of one or two requests pays per request. A pass therefore waits until
// kPassRequests are due, up to kMaxPassNs: at 80k/s that cut the CPU per
// announce to 0.86x, and the send lag it adds (in send_lag and in the
// latency, both measured from the timetable: p50 117 vs 91 µs) stays well
// under a loaded tracker's latency. Longer passes were not better: their bursts overflowed
// the tracker's receive buffer.
constexpr uint64_t kPassRequests = 16;
constexpr int64_t kMaxPassNs = 200'000;

size_t pending_capacity(const TrackerLoadOptions& o) {
  // Re-announcing peers are each in flight once at most.
  if (o.reannounce_interval) return LoadPlan::swarm_size_of(o.swarm) + 4096;
  return static_cast<size_t>(o.rate * (o.timeout_ms / 1000.0) * 1.5) + 4096;
}
}  // namespace

// One loop on the calling thread: the open-loop timetable issues requests
// into the pending table, the channels carry them, epoll wakes the loop.
// Channels by family: an IPv6 peer's requests go to an IPv6 tracker.
struct TrackerLoadDriver::Impl {
  Impl(const TrackerLoadOptions& o, LoadCounters& counters)
      : opts(o), plan(o.swarm), pending(pending_capacity(o), counters, o.swarm.numwant) {}
  ~Impl() {
    for (auto& u : udp) u.reset();
    for (auto& h : http) h.reset();
    if (epfd >= 0) close(epfd);
  }

  const TrackerLoadOptions& opts;
  LoadPlan plan;
  PendingTable pending;
  int epfd = -1;
  std::array<std::unique_ptr<UdpLoadChannels>, 2> udp;  // by family: IPv4, IPv6
  std::array<std::unique_ptr<HttpLoadChannels>, 2> http;

  void setup() {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    for (const auto& u : opts.trackers) {
      bool v6 = u.ipv6_literal();
      if (u.scheme == TrackerUrl::Scheme::kUdp) {
        udp[v6] = std::make_unique<UdpLoadChannels>(u, opts.connections, epfd, tag_of(false, v6),
                                                    pending, plan);
        udp[v6]->set_gso(opts.udp_gso);
      } else
        http[v6] = std::make_unique<HttpLoadChannels>(u, opts.connections, epfd, tag_of(true, v6),
                                                      pending, plan);
    }
  }

  // Requests alternate between UDP and HTTP when a family has both.
  void issue(uint64_t k, int64_t now, int64_t due) {
    pending.counters().due.add();
    bool v6 = plan.ipv6_request(k);
    auto slot = pending.open(k, due, plan.step(k).kind, v6);
    if (!slot) return;
    if (udp[v6] && (!http[v6] || k % 2 == 0))
      udp[v6]->submit(*slot, now);
    else
      http[v6]->submit(*slot, now);
  }

  void expire(int64_t now) {
    pending.expire(now, opts.timeout_ms * 1'000'000, [&](int32_t channel, bool v6) {
      if (channel >= 0) http[v6]->drop(static_cast<uint32_t>(channel), now);
    });
  }

  void poll_events(int64_t wait_ns) {
    epoll_event evs[256];
    timespec ts{wait_ns / 1'000'000'000, wait_ns % 1'000'000'000};
    int n = epoll_pwait2(epfd, evs, 256, &ts, nullptr);
    int64_t now = mono_ns();
    for (int i = 0; i < n; ++i) {
      uint64_t tag = evs[i].data.u64;
      auto idx = static_cast<uint32_t>(tag & 0xffffffff);
      uint64_t kind = (tag >> 32) - 1;
      bool v6 = kind >> 1;
      if (kind & 1)
        http[v6]->on_event(idx, evs[i].events, now);
      else
        udp[v6]->on_readable(idx, now);
    }
  }

  // Gets every UDP socket a connection id and opens the HTTP connections
  // before the clock starts, so the timetable measures announces only.
  std::string warm_up(const std::atomic<bool>& stop) {
    int64_t start = mono_ns(), limit = start + opts.timeout_ms * 1'000'000;
    int64_t resend = start + 1'000'000'000;
    for (auto& u : udp)
      if (u) u->connect_missing(start);
    while (!stop.load(std::memory_order_relaxed)) {
      int64_t now = mono_ns();
      const TrackerUrl* missing = nullptr;
      std::string what;
      for (auto& h : http) {
        if (!h) continue;
        h->reopen(now);
        if (!h->any_idle()) missing = &h->url(), what = ": no connection";
      }
      for (auto& u : udp)
        if (u && !u->all_connected()) missing = &u->url(), what = ": no connect reply";
      if (!missing) return {};
      if (now >= limit)
        return missing->text + what + " within " + std::to_string(opts.timeout_ms) + " ms";
      // A lost connect: BEP 15 would wait 15 s; the warm-up retries each second.
      if (now >= resend) {
        for (auto& u : udp)
          if (u) u->connect_missing(now);
        resend = now + 1'000'000'000;
      }
      poll_events(10'000'000);
    }
    return "interrupted";
  }

  LoadResult run(const std::atomic<bool>& stop, const std::atomic<bool>& abort) {
    LoadResult result;
    try {
      setup();
    } catch (const std::exception& e) {
      result.fatal = e.what();
      return result;
    }
    if (std::string err = warm_up(stop); !err.empty()) {
      result.fatal = err;
      return result;
    }
    rusage before{};
    getrusage(RUSAGE_THREAD, &before);
    // The default 50 µs timer slack would add to every pass's lateness,
    // and so to every latency measured from the timetable.
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    OpenLoopSchedule sched(opts.rate, opts.duration_s, mono_ns() + 1'000'000);
    const int64_t end = sched.start() + static_cast<int64_t>(opts.duration_s * 1e9);
    std::optional<ReannounceSchedule> peers;  // --reannounce interval
    if (opts.reannounce_interval) {
      peers.emplace(plan.swarm_size(), opts.rate, sched.start(), opts.interval_scale);
      pending.set_reannounce(&*peers);
    }
    uint64_t next = 0;
    int64_t stop_seen = 0, last_due = sched.start();
    pending.set_last_done(sched.start());
    // No request is due after the run's end.
    auto next_due = [&]() -> int64_t {
      if (peers) return peers->next_due_ns() < end ? peers->next_due_ns() : INT64_MAX;
      return next < sched.total() ? sched.due_at(next) : INT64_MAX;
    };
    while (true) {
      int64_t now = mono_ns();
      bool stopping = stop.load(std::memory_order_relaxed);
      if (stopping && !stop_seen) stop_seen = now;
      if (!stopping) {
        if (peers) {
          while (peers->next_due_ns() < end) {
            auto d = peers->next(now);
            if (!d) break;
            issue(d->announce, now, d->due_ns);
            last_due = d->due_ns;
          }
        } else {
          for (uint64_t due = sched.due_by(now); next < due; ++next)
            issue(next, now, last_due = sched.due_at(next));
        }
        for (auto& u : udp) {
          if (!u) continue;
          u->flush(now);
          u->renew(now);
        }
      }
      expire(now);
      if ((next_due() == INT64_MAX || stopping) && pending.inflight() == 0) break;
      if (abort.load(std::memory_order_relaxed)) break;  // forced exit: replies not awaited
      if (stopping && now - std::max(pending.last_done(), stop_seen) > opts.timeout_ms * 1'000'000)
        break;
      // Sleep until the next request is due, but at least 100 µs: at high
      // rates a pass then sends a batch (late by at most that, which the
      // latency, measured from the timetable, includes). UDP-only passes
      // wait for kPassRequests (see there).
      int64_t wait = 5'000'000;
      if (!stopping && next_due() != INT64_MAX)
        wait = std::clamp<int64_t>(next_due() - now, kMinSleepNs, wait);
      if (!stopping && !peers && !http[0] && !http[1] && next < sched.total()) {
        uint64_t last = std::min(next + kPassRequests, sched.total()) - 1;
        int64_t batch = std::clamp<int64_t>(sched.due_at(last) - now, kMinSleepNs, kMaxPassNs);
        wait = std::max(wait, batch);
      }
      if (http[0] || http[1]) {
        poll_events(wait);  // HTTP replies are timed when read: wake for them
      } else {
        // UDP replies carry the kernel's receive time, so reading them a
        // little later costs no accuracy; a reply no longer wakes the loop
        // for itself, and each pass sends and reads in batches.
        timespec until{};
        int64_t at = now + wait;
        until.tv_sec = at / 1'000'000'000;
        until.tv_nsec = at % 1'000'000'000;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
        poll_events(0);
      }
    }
    // Requests still queued at a stop never went out: they are not counted.
    rusage after{};
    getrusage(RUSAGE_THREAD, &after);
    auto secs = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    result.cpu_s =
        secs(after.ru_utime) - secs(before.ru_utime) + secs(after.ru_stime) - secs(before.ru_stime);
    result.duration_s = (std::max(pending.last_done(), last_due) - sched.start()) / 1e9;
    if (peers) {
      result.joined = peers->joined();
      result.reannounces = peers->reannounces();
      result.retries = peers->retries();
      pending.set_reannounce(nullptr);
    }
    return result;
  }
};

TrackerLoadDriver::TrackerLoadDriver(const TrackerLoadOptions& opts, LoadCounters& counters)
    : impl_(std::make_unique<Impl>(opts, counters)) {}
TrackerLoadDriver::~TrackerLoadDriver() = default;
LoadResult TrackerLoadDriver::run(const std::atomic<bool>& stop, const std::atomic<bool>& abort) {
  return impl_->run(stop, abort);
}

}  // namespace swarmdial
