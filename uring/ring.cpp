#include "ring.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace swarmdial {

namespace {

// Every ring registers itself so /metrics can sum the kernel's overflow
// counters; only set-up, tear-down and a scrape take the lock.
struct Registry {
  std::mutex mu;
  std::vector<io_uring*> live;
  RingCounters retired;
};

Registry& registry() {
  static Registry r;
  return r;
}

RingCounters counters_of(const io_uring* r) {
  RingCounters c;
  // Kernel-written words in the shared ring memory.
  if (r->cq.koverflow) c.cq_overflow = __atomic_load_n(r->cq.koverflow, __ATOMIC_RELAXED);
  if (r->sq.kdropped) c.sq_dropped = __atomic_load_n(r->sq.kdropped, __ATOMIC_RELAXED);
  return c;
}

}  // namespace

RingCounters Ring::totals() {
  Registry& reg = registry();
  std::lock_guard lock(reg.mu);
  RingCounters t = reg.retired;
  for (const io_uring* r : reg.live) {
    RingCounters c = counters_of(r);
    t.cq_overflow += c.cq_overflow;
    t.sq_dropped += c.sq_dropped;
  }
  return t;
}

Ring::Ring(const RingSetup& setup) {
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE;
  if (setup.coop_taskrun) params.flags |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  if (setup.submit_all) params.flags |= IORING_SETUP_SUBMIT_ALL;
  params.cq_entries = setup.cq_entries;
  int rc = io_uring_queue_init_params(setup.sq_entries, &ring_, &params);
  if (rc == -EINVAL) {  // a kernel older than one of the optional flags
    params = io_uring_params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = setup.cq_entries;
    rc = io_uring_queue_init_params(setup.sq_entries, &ring_, &params);
  }
  if (rc < 0) throw std::runtime_error(std::string("io_uring setup failed: ") + strerror(-rc));
  Registry& reg = registry();
  std::lock_guard lock(reg.mu);
  reg.live.push_back(&ring_);
}

Ring::~Ring() {
  {
    Registry& reg = registry();
    std::lock_guard lock(reg.mu);
    RingCounters c = counters_of(&ring_);
    reg.retired.cq_overflow += c.cq_overflow;
    reg.retired.sq_dropped += c.sq_dropped;
    reg.live.erase(std::find(reg.live.begin(), reg.live.end(), &ring_));
  }
  io_uring_queue_exit(&ring_);
}

}  // namespace swarmdial
