#pragma once
// The one io_uring helper: set-up with this project's flags and their
// fallbacks on older kernels, and an SQE getter that never returns null.
#include <liburing.h>

#include "engine/metrics_text.hpp"

namespace swarmdial {

struct RingSetup {
  unsigned sq_entries = 1024;
  unsigned cq_entries = 4096;
  // COOP_TASKRUN (+ TASKRUN_FLAG): completions are handled when we next
  // enter the kernel rather than by interrupting the thread. Pre-5.19
  // kernels refuse the flag; the ring is then set up without it.
  bool coop_taskrun = true;
  // SUBMIT_ALL: one bad SQE in a batch does not stop the rest.
  bool submit_all = false;
};

class Ring {
 public:
  // Throws std::runtime_error naming what failed.
  explicit Ring(const RingSetup& setup);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  io_uring* get() { return &ring_; }
  // Over every Ring alive or gone in this process (for /metrics).
  static RingCounters totals();
  // A free SQE; when the queue is full, what is queued is submitted first.
  io_uring_sqe* sqe() {
    io_uring_sqe* e = io_uring_get_sqe(&ring_);
    while (!e) {
      io_uring_submit_and_get_events(&ring_);  // task work too (COOP_TASKRUN)
      e = io_uring_get_sqe(&ring_);
    }
    return e;
  }

 private:
  io_uring ring_{};
};

}  // namespace swarmdial
