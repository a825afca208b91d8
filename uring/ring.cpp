#include "ring.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace swarmdial {

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
}

Ring::~Ring() {
  io_uring_queue_exit(&ring_);
}

}  // namespace swarmdial
