#include "uring_dialer.hpp"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/mono_clock.hpp"
#include "engine/ready_completions.hpp"
#include "uring/ring.hpp"

namespace swarmdial {

namespace {
// Opcodes newer than the liburing headers Debian 12 ships.
constexpr uint8_t kOpFixedFdInstall = 54;
constexpr uint8_t kOpBind = 56;
constexpr uint32_t kSocketUringOpSetsockopt = 3;

enum Op : uint8_t { kSocket, kSetOpt, kBind, kConnect, kTimeout, kInstall, kClose };

uint64_t tag(uint32_t slot, Op op) {
  return (uint64_t{slot} << 8) | op;
}

enum class Phase : uint8_t { kIdle, kConnecting, kClosing };

struct SlotState {
  sockaddr_storage dst;
  sockaddr_storage src;
  socklen_t dst_len = 0;
  socklen_t src_len = 0;
  int64_t start_ns = 0;
  int64_t rtt_ns = -1;
  int err = 0;
  int fd = -1;  // plain mode socket, or the installed fd to hand off
  uint8_t waiting = 0;
  Phase phase = Phase::kIdle;
  bool has_socket = false;
};

class UringDialer final : public Dialer {
 public:
  UringDialer(const DialerOptions& opts, bool direct)
      : opts_(opts),
        direct_(direct),
        ring_(ring_setup(opts.half_open)),
        slots_(opts.half_open),
        ready_(opts.half_open) {
    if (direct_) {
      int rc = io_uring_register_files_sparse(ring_.get(), opts.half_open);
      if (rc < 0)
        throw std::runtime_error("io_uring could not register " + std::to_string(opts.half_open) +
                                 " direct descriptors: " + strerror(-rc) +
                                 " (raise the open-files limit)");
    }
    io_uring_register_ring_fd(ring_.get());  // optional speed-up; fine if it fails
    timeout_.tv_sec = opts.timeout_ns / 1'000'000'000;
    timeout_.tv_nsec = opts.timeout_ns % 1'000'000'000;
    syn_retries_ = syn_retries_for_timeout(opts.timeout_ns);
  }

  ~UringDialer() override {
    for (auto& s : slots_)
      if (!direct_ && s.fd >= 0) ::close(s.fd);
  }

  std::string_view name() const override { return direct_ ? "uring" : "uring(plain-fd)"; }
  uint32_t in_flight() const override { return in_flight_; }

  void start(uint32_t slot, const Endpoint& dst, const IpAddress* src, int64_t now) override {
    SlotState& s = slots_[slot];
    s = SlotState{};
    s.phase = Phase::kConnecting;
    s.start_ns = now;
    s.dst_len = to_sockaddr(dst, s.dst);
    if (src) s.src_len = to_sockaddr(Endpoint{*src, 0}, s.src);
    ++in_flight_;
    if (direct_)
      start_direct(slot, dst.ip.family);
    else
      start_plain(slot, dst.ip.family);
  }

  void submit() override {
    if (io_uring_sq_ready(ring_.get()) > 0) io_uring_submit(ring_.get());
  }

  size_t reap(std::span<DialCompletion> out, int64_t wait_ns) override {
    if (ready_.empty()) {
      if (wait_ns > 0 && in_flight_ > 0) {
        __kernel_timespec ts{wait_ns / 1'000'000'000, wait_ns % 1'000'000'000};
        io_uring_cqe* cqe = nullptr;
        io_uring_submit_and_wait_timeout(ring_.get(), &cqe, 1, &ts, nullptr);
      } else if (wait_ns > 0) {
        // Nothing can complete: just sleep (the shard is pacing or backing off).
        timespec ts{wait_ns / 1'000'000'000, wait_ns % 1'000'000'000};
        nanosleep(&ts, nullptr);
      } else {
        io_uring_submit_and_get_events(ring_.get());
      }
      drain_cqes();
      // Completions may have queued closes; send them without waiting.
      if (io_uring_sq_ready(ring_.get()) > 0) {
        io_uring_submit_and_get_events(ring_.get());
        drain_cqes();
      }
    }
    size_t n = ready_.take(out);
    in_flight_ -= static_cast<uint32_t>(n);
    return n;
  }

 private:
  static constexpr unsigned kSqEntries = 4096;

  // COOP_TASKRUN: completions are handled when we next enter the kernel
  // rather than by interrupting the shard. DEFER_TASKRUN was measured
  // 15-25% slower here (tools/bench/bench_dial.py): with thousands of
  // connects in flight its deferred work list grows long and is run in big
  // bursts inside io_uring_enter.
  static RingSetup ring_setup(uint32_t slots) {
    RingSetup r;
    r.sq_entries = kSqEntries;
    r.cq_entries = 4096;
    while (r.cq_entries < slots * 4u && r.cq_entries < (1u << 20)) r.cq_entries <<= 1;
    r.coop_taskrun = true;
    r.submit_all = true;
    return r;
  }

  io_uring_sqe* sqe() { return ring_.sqe(); }

  // A chain must not be split by an SQ wrap-around flush in a way the kernel
  // sees as two chains; reserve room for the whole chain up front.
  void reserve_sqes(unsigned n) {
    if (io_uring_sq_space_left(ring_.get()) < n) io_uring_submit_and_get_events(ring_.get());
  }

  void prep_setsockopt(uint32_t slot, int level, int optname, const void* val, uint32_t len) {
    io_uring_sqe* e = sqe();
    io_uring_prep_rw(IORING_OP_URING_CMD, e, static_cast<int>(slot), nullptr, 0, 0);
    e->cmd_op = kSocketUringOpSetsockopt;
    e->addr = static_cast<uint32_t>(level) | (uint64_t{static_cast<uint32_t>(optname)} << 32);
    e->file_index = len;  // the kernel reads optlen from this word
    e->addr3 = reinterpret_cast<uint64_t>(val);
    e->flags = IOSQE_FIXED_FILE | IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(e, tag(slot, kSetOpt));
  }

  void start_direct(uint32_t slot, int family) {
    SlotState& s = slots_[slot];
    reserve_sqes(8);
    io_uring_sqe* e = sqe();
    io_uring_prep_socket_direct(e, family, SOCK_STREAM, 0, slot, 0);
    e->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(e, tag(slot, kSocket));
    s.has_socket = true;
    prep_setsockopt(slot, IPPROTO_TCP, TCP_SYNCNT, &syn_retries_, sizeof syn_retries_);
    if (!opts_.keep_established)  // dial-only: close with RST, leave no TIME_WAIT behind
      prep_setsockopt(slot, SOL_SOCKET, SO_LINGER, &linger_abort_, sizeof linger_abort_);
    if (s.src_len) {
      // Let connect() pick the port per 4-tuple, so one source address serves
      // far more than 28k concurrent attempts.
      prep_setsockopt(slot, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one_, sizeof one_);
      e = sqe();
      io_uring_prep_rw(kOpBind, e, static_cast<int>(slot), &s.src, 0, s.src_len);
      e->flags = IOSQE_FIXED_FILE | IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
      io_uring_sqe_set_data64(e, tag(slot, kBind));
    }
    prep_connect_and_timeout(slot, static_cast<int>(slot), true);
  }

  void start_plain(uint32_t slot, int family) {
    SlotState& s = slots_[slot];
    int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      s.err = errno;
      finish(slot);
      return;
    }
    s.fd = fd;
    s.has_socket = true;
    ::setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syn_retries_, sizeof syn_retries_);
    if (!opts_.keep_established)
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger_abort_, sizeof linger_abort_);
    if (s.src_len) {
      ::setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one_, sizeof one_);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&s.src), s.src_len) < 0) {
        s.err = errno;
        begin_close(slot);
        return;
      }
    }
    reserve_sqes(2);
    prep_connect_and_timeout(slot, fd, false);
  }

  void prep_connect_and_timeout(uint32_t slot, int fd, bool fixed) {
    SlotState& s = slots_[slot];
    io_uring_sqe* e = sqe();
    io_uring_prep_connect(e, fd, reinterpret_cast<sockaddr*>(&s.dst), s.dst_len);
    e->flags |= IOSQE_IO_LINK | (fixed ? IOSQE_FIXED_FILE : 0);
    io_uring_sqe_set_data64(e, tag(slot, kConnect));
    e = sqe();
    io_uring_prep_link_timeout(e, &timeout_, 0);
    io_uring_sqe_set_data64(e, tag(slot, kTimeout));
    s.waiting = 2;
  }

  void drain_cqes() {
    unsigned head, seen = 0;
    io_uring_cqe* cqe;
    int64_t now = 0;
    io_uring_for_each_cqe(ring_.get(), head, cqe) {
      ++seen;
      if (now == 0) now = mono_ns();
      on_cqe(cqe->user_data, cqe->res, now);
    }
    io_uring_cq_advance(ring_.get(), seen);
  }

  void on_cqe(uint64_t user_data, int res, int64_t now) {
    uint32_t slot = static_cast<uint32_t>(user_data >> 8);
    Op op = static_cast<Op>(user_data & 0xff);
    SlotState& s = slots_[slot];
    switch (op) {
      case kSocket:
      case kSetOpt:
      case kBind:
        // Only failures arrive here (CQE_SKIP_SUCCESS). A failed request
        // that carried CQE_SKIP_SUCCESS also suppresses the CQEs of the rest
        // of its chain (connect and link timeout), so the attempt is over.
        if (res >= 0) return;
        if (s.err == 0) s.err = -res;
        if (op == kSocket) s.has_socket = false;
        s.waiting = 0;
        begin_close(slot);
        return;
      case kConnect:
        if (res == -ECANCELED && s.err == 0) {
          s.err = ETIMEDOUT;  // the link timeout fired
        } else if (s.err == 0 && res < 0) {
          s.err = -res;
          s.rtt_ns = now - s.start_ns;
        } else if (s.err == 0) {
          s.rtt_ns = now - s.start_ns;
        }
        break;
      case kTimeout:
        break;
      case kInstall:
        if (res >= 0) {
          s.fd = res;
        } else if (s.err == 0) {
          s.err = -res;
        }
        break;
      case kClose:
        if (!direct_) s.fd = -1;
        break;
    }
    if (--s.waiting > 0) return;
    if (s.phase == Phase::kConnecting) {
      begin_close(slot);
    } else {
      finish(slot);
    }
  }

  void begin_close(uint32_t slot) {
    SlotState& s = slots_[slot];
    s.phase = Phase::kClosing;
    bool keep = opts_.keep_established && s.err == 0;
    if (!s.has_socket) {
      finish(slot);
      return;
    }
    if (!direct_) {
      if (keep) {
        finish(slot);  // the plain fd itself is handed over
        return;
      }
      io_uring_sqe* e = sqe();
      io_uring_prep_close(e, s.fd);
      io_uring_sqe_set_data64(e, tag(slot, kClose));
      s.waiting = 1;
      return;
    }
    reserve_sqes(2);
    if (keep) {
      // Turn the direct descriptor into a normal fd for the consumer, then
      // free the fixed-table slot.
      io_uring_sqe* e = sqe();
      io_uring_prep_rw(kOpFixedFdInstall, e, static_cast<int>(slot), nullptr, 0, 0);
      e->flags = IOSQE_FIXED_FILE | IOSQE_IO_LINK;
      io_uring_sqe_set_data64(e, tag(slot, kInstall));
      s.waiting = 2;
    } else {
      s.waiting = 1;
    }
    io_uring_sqe* e = sqe();
    io_uring_prep_close_direct(e, slot);
    io_uring_sqe_set_data64(e, tag(slot, kClose));
  }

  void finish(uint32_t slot) {
    SlotState& s = slots_[slot];
    DialCompletion c;
    c.slot = slot;
    c.err = s.err;
    c.rtt_ns = s.err == ETIMEDOUT ? -1 : s.rtt_ns;
    if (s.err == 0 && opts_.keep_established) {
      c.fd = s.fd;
    } else if (s.fd >= 0 && direct_) {
      ::close(s.fd);  // installed, but the attempt failed after all
    }
    s.fd = -1;
    s.phase = Phase::kIdle;
    ready_.push(c);  // still in flight until reap() reports it
  }

  DialerOptions opts_;
  bool direct_;
  Ring ring_;
  std::vector<SlotState> slots_;
  ReadyCompletions ready_;
  uint32_t in_flight_ = 0;
  __kernel_timespec timeout_{};
  int syn_retries_ = 1;
  int one_ = 1;
  linger linger_abort_{1, 0};
};
}  // namespace

UringFeatures probe_uring_features() {
  UringFeatures f;
  io_uring_probe* probe = io_uring_get_probe();
  if (!probe) return f;
  f.direct_chain = io_uring_opcode_supported(probe, IORING_OP_SOCKET) &&
                   io_uring_opcode_supported(probe, IORING_OP_URING_CMD) &&
                   io_uring_opcode_supported(probe, kOpBind) &&
                   io_uring_opcode_supported(probe, kOpFixedFdInstall);
  io_uring_free_probe(probe);
  return f;
}

std::unique_ptr<Dialer> make_uring_dialer(const DialerOptions& options, bool allow_direct) {
  bool direct = allow_direct && probe_uring_features().direct_chain;
  return std::make_unique<UringDialer>(options, direct);
}

}  // namespace swarmdial
