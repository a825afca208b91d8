#include "handoff_consumer.hpp"

#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "engine/mono_clock.hpp"
#include "uring/ring.hpp"

namespace swarmdial {

namespace {
enum Op : uint8_t { kSend, kRecv, kTimeout };
uint64_t tag(uint32_t conn, Op op) {
  return (uint64_t{conn} << 8) | op;
}

struct Conn {
  Handoff h;
  int64_t deadline_ns = 0;
  uint32_t got = 0;
  uint8_t waiting = 0;
  bool closed = false;
  bool timed_out = false;
  __kernel_timespec ts{};
  std::array<uint8_t, kBtHandshakeSize> in{};
};
}  // namespace

struct HandoffConsumer::Impl {
  HandoffConsumerOptions opts;
  std::vector<HandoffQueue*> inputs;
  SpscQueue<ResultRow>& rows;
  HandoffConsumerStats& stats;
  std::unique_ptr<Ring> ring;  // only when a BitTorrent handshake is asked for
  std::vector<Conn> conns;
  std::vector<uint32_t> free_conns;
  std::vector<int> held;
  std::array<uint8_t, kBtHandshakeSize> hello{};

  Impl(HandoffConsumerOptions o, std::vector<HandoffQueue*> in, SpscQueue<ResultRow>& r,
       HandoffConsumerStats& s)
      : opts(std::move(o)), inputs(std::move(in)), rows(r), stats(s) {
    held.reserve(opts.max_held);
    if (opts.info_hash) {
      hello = build_bt_handshake(*opts.info_hash, opts.peer_id);
      conns.resize(opts.max_concurrent);
      for (uint32_t i = 0; i < opts.max_concurrent; ++i)
        free_conns.push_back(opts.max_concurrent - 1 - i);
      RingSetup rs;
      rs.sq_entries = 1024;
      rs.cq_entries = opts.max_concurrent * 4;
      rs.coop_taskrun = false;
      ring = std::make_unique<Ring>(rs);
    }
  }
  ~Impl() {
    for (int fd : held) ::close(fd);
  }

  io_uring_sqe* sqe() { return ring->sqe(); }

  void emit(const ResultRow& row, const std::atomic<bool>& abort) {
    while (!rows.try_push(row)) {
      if (abort.load(std::memory_order_relaxed)) return;
      std::this_thread::yield();
    }
  }

  void keep_or_close(int fd) {
    if (opts.hold && held.size() < opts.max_held) {
      held.push_back(fd);
      stats.held.add();
      return;
    }
    if (opts.hold) stats.hold_overflow.add();
    ::close(fd);
  }

  void begin_handshake(const Handoff& h) {
    uint32_t id = free_conns.back();
    free_conns.pop_back();
    Conn& c = conns[id];
    c = Conn{};
    c.h = h;
    c.deadline_ns = mono_ns() + opts.bt_timeout_ns;
    if (io_uring_sq_space_left(ring->get()) < 3) io_uring_submit(ring->get());
    io_uring_sqe* e = sqe();
    io_uring_prep_send(e, h.fd, hello.data(), hello.size(), MSG_NOSIGNAL);
    io_uring_sqe_set_data64(e, tag(id, kSend));
    c.waiting = 1;
    arm_recv(id);
  }

  void arm_recv(uint32_t id) {
    Conn& c = conns[id];
    int64_t left = std::max<int64_t>(1, c.deadline_ns - mono_ns());
    c.ts = {left / 1'000'000'000, left % 1'000'000'000};
    if (io_uring_sq_space_left(ring->get()) < 2) io_uring_submit(ring->get());
    io_uring_sqe* e = sqe();
    io_uring_prep_recv(e, c.h.fd, c.in.data() + c.got, kBtHandshakeSize - c.got, 0);
    e->flags |= IOSQE_IO_LINK;
    io_uring_sqe_set_data64(e, tag(id, kRecv));
    e = sqe();
    io_uring_prep_link_timeout(e, &c.ts, 0);
    io_uring_sqe_set_data64(e, tag(id, kTimeout));
    c.waiting += 2;
  }

  void on_cqe(uint64_t ud, int res, const std::atomic<bool>& abort) {
    uint32_t id = static_cast<uint32_t>(ud >> 8);
    Op op = static_cast<Op>(ud & 0xff);
    Conn& c = conns[id];
    if (op == kRecv) {
      if (res > 0)
        c.got += static_cast<uint32_t>(res);
      else if (res == -ECANCELED)
        c.timed_out = true;
      else
        c.closed = true;  // EOF or reset
    }
    if (--c.waiting > 0) return;
    if (!c.closed && !c.timed_out && c.got < kBtHandshakeSize) {
      arm_recv(id);  // partial read: wait for the rest within the same deadline
      return;
    }
    ResultRow row = c.h.row;
    if (c.got == kBtHandshakeSize) {
      auto hs = parse_bt_handshake(c.in);
      if (!hs) {
        row.bt = BtResult::kInvalid;
        stats.invalid.add();
      } else {
        row.bt = hs->info_hash == *opts.info_hash ? BtResult::kOk : BtResult::kMismatch;
        (row.bt == BtResult::kOk ? stats.ok : stats.mismatch).add();
        std::string client = client_from_peer_id(hs->peer_id);
        std::strncpy(row.client, client.c_str(), sizeof row.client - 1);
      }
    } else if (c.timed_out) {
      row.bt = BtResult::kTimeout;
      stats.timeout.add();
    } else {
      row.bt = BtResult::kClosed;
      stats.closed.add();
    }
    emit(row, abort);
    if (row.bt == BtResult::kOk)
      keep_or_close(c.h.fd);
    else
      ::close(c.h.fd);
    free_conns.push_back(id);
  }

  void run(const std::atomic<bool>& producers_done, const std::atomic<bool>& abort) {
    for (;;) {
      if (abort.load(std::memory_order_relaxed)) return;
      bool done = producers_done.load(std::memory_order_acquire);
      bool took = false;
      for (HandoffQueue* q : inputs) {
        while (!opts.info_hash || !free_conns.empty()) {
          auto h = q->try_pop();
          if (!h) break;
          took = true;
          if (opts.info_hash) {
            begin_handshake(*h);
          } else {
            emit(h->row, abort);
            keep_or_close(h->fd);
          }
        }
      }
      bool active = opts.info_hash && free_conns.size() < conns.size();
      if (!active) {
        if (done && !took &&
            std::all_of(inputs.begin(), inputs.end(), [](auto* q) { return q->empty(); }))
          break;
        if (!took) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      __kernel_timespec ts{0, 2'000'000};
      io_uring_cqe* cqe;
      io_uring_submit_and_wait_timeout(ring->get(), &cqe, 1, &ts, nullptr);
      unsigned head, seen = 0;
      io_uring_for_each_cqe(ring->get(), head, cqe) {
        ++seen;
        on_cqe(cqe->user_data, cqe->res, abort);
      }
      io_uring_cq_advance(ring->get(), seen);
    }
  }
};

HandoffConsumer::HandoffConsumer(HandoffConsumerOptions opts, std::vector<HandoffQueue*> inputs,
                                 SpscQueue<ResultRow>& rows, HandoffConsumerStats& stats)
    : impl_(std::make_unique<Impl>(std::move(opts), std::move(inputs), rows, stats)) {}
HandoffConsumer::~HandoffConsumer() = default;

void HandoffConsumer::run(const std::atomic<bool>& producers_done, const std::atomic<bool>& abort) {
  impl_->run(producers_done, abort);
}

}  // namespace swarmdial
