#include "epoll_dialer.hpp"

#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/mono_clock.hpp"
#include "engine/ready_completions.hpp"

namespace swarmdial {

namespace {

class EpollDialer final : public Dialer {
 public:
  explicit EpollDialer(const DialerOptions& opts)
      : opts_(opts),
        slots_(opts.half_open),
        deadlines_(opts.half_open * 2 + 1),
        events_(1024),
        ready_(opts.half_open) {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + strerror(errno));
    syn_retries_ = syn_retries_for_timeout(opts.timeout_ns);
  }
  ~EpollDialer() override {
    for (auto& s : slots_)
      if (s.fd >= 0) ::close(s.fd);
    ::close(epfd_);
  }

  std::string_view name() const override { return "epoll"; }
  uint32_t in_flight() const override { return in_flight_; }
  void submit() override {}

  void start(uint32_t slot, const Endpoint& dst, const IpAddress* src, int64_t now) override {
    Slot& s = slots_[slot];
    s.start_ns = now;
    s.generation++;
    ++in_flight_;
    int fd = ::socket(dst.ip.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      finish(slot, errno, -1);
      return;
    }
    s.fd = fd;
    ::setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syn_retries_, sizeof syn_retries_);
    if (!opts_.keep_established) {
      linger abort_close{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
    }
    if (src) {
      int one = 1;
      ::setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      sockaddr_storage sa;
      socklen_t len = to_sockaddr(Endpoint{*src, 0}, sa);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) < 0) {
        finish(slot, errno, -1);
        return;
      }
    }
    sockaddr_storage sa;
    socklen_t len = to_sockaddr(dst, sa);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) == 0) {
      finish(slot, 0, mono_ns() - now);
      return;
    }
    if (errno != EINPROGRESS) {
      finish(slot, errno, mono_ns() - now);
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = slot;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
      finish(slot, errno, -1);
      return;
    }
    // Every attempt has the same timeout, so deadlines arrive in start order
    // and a FIFO is an exact timer queue. Entries of attempts that finished
    // early stay until they reach the head; compact when they pile up.
    if (dl_size_ == deadlines_.size()) compact_deadlines();
    deadlines_[(dl_head_ + dl_size_++) % deadlines_.size()] = {now + opts_.timeout_ns, slot,
                                                               s.generation};
  }

  size_t reap(std::span<DialCompletion> out, int64_t wait_ns) override {
    if (ready_.empty()) {
      int64_t now = mono_ns();
      if (dl_size_ > 0) wait_ns = std::min(wait_ns, std::max<int64_t>(0, front_deadline() - now));
      timespec ts{wait_ns / 1'000'000'000, wait_ns % 1'000'000'000};
      int n = epoll_pwait2(epfd_, events_.data(), static_cast<int>(events_.size()), &ts, nullptr);
      now = mono_ns();
      for (int i = 0; i < n; ++i) {
        uint32_t slot = static_cast<uint32_t>(events_[i].data.u64);
        Slot& s = slots_[slot];
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        finish(slot, err, now - s.start_ns);
      }
      expire(now);
    }
    size_t n = ready_.take(out);
    in_flight_ -= static_cast<uint32_t>(n);
    return n;
  }

 private:
  struct Slot {
    int fd = -1;
    int64_t start_ns = 0;
    uint32_t generation = 0;
  };
  struct Deadline {
    int64_t at_ns;
    uint32_t slot;
    uint32_t generation;
  };

  int64_t front_deadline() const { return deadlines_[dl_head_].at_ns; }

  void expire(int64_t now) {
    while (dl_size_ > 0 && front_deadline() <= now) {
      Deadline d = deadlines_[dl_head_];
      dl_head_ = (dl_head_ + 1) % deadlines_.size();
      --dl_size_;
      Slot& s = slots_[d.slot];
      if (s.fd >= 0 && s.generation == d.generation) finish(d.slot, ETIMEDOUT, -1);
    }
  }

  void compact_deadlines() {
    size_t kept = 0;
    for (size_t i = 0; i < dl_size_; ++i) {
      const Deadline& d = deadlines_[(dl_head_ + i) % deadlines_.size()];
      if (slots_[d.slot].fd >= 0 && slots_[d.slot].generation == d.generation)
        deadlines_[(dl_head_ + kept++) % deadlines_.size()] = d;
    }
    dl_size_ = kept;
  }

  void finish(uint32_t slot, int err, int64_t rtt_ns) {
    Slot& s = slots_[slot];
    DialCompletion c;
    c.slot = slot;
    c.err = err;
    c.rtt_ns = err == ETIMEDOUT ? -1 : rtt_ns;
    if (s.fd >= 0) {
      if (err == 0 && opts_.keep_established) {
        epoll_ctl(epfd_, EPOLL_CTL_DEL, s.fd, nullptr);
        c.fd = s.fd;
      } else {
        ::close(s.fd);  // also removes it from the epoll set
      }
    }
    s.fd = -1;
    s.generation++;  // invalidates this attempt's pending deadline
    ready_.push(c);  // still in flight until reap() reports it
  }

  DialerOptions opts_;
  int epfd_ = -1;
  int syn_retries_ = 1;
  std::vector<Slot> slots_;
  std::vector<Deadline> deadlines_;
  size_t dl_head_ = 0, dl_size_ = 0;
  std::vector<epoll_event> events_;
  ReadyCompletions ready_;
  uint32_t in_flight_ = 0;
};

}  // namespace

std::unique_ptr<Dialer> make_epoll_dialer(const DialerOptions& options) {
  return std::make_unique<EpollDialer>(options);
}

}  // namespace swarmdial
