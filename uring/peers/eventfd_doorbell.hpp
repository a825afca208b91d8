#pragma once
// A Doorbell whose ring is an eventfd write; the consumer keeps a read of
// the eventfd armed in its io_uring, so a ring ends its wait.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/doorbell.hpp"

namespace swarmdial {

class EventfdDoorbell final : public Doorbell {
 public:
  EventfdDoorbell() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  }
  ~EventfdDoorbell() override { ::close(fd_); }
  EventfdDoorbell(const EventfdDoorbell&) = delete;
  EventfdDoorbell& operator=(const EventfdDoorbell&) = delete;
  int fd() const { return fd_; }

 protected:
  void wake() override {
    uint64_t one = 1;
    // Only EAGAIN can fail here (the counter at its maximum): it is rung already.
    [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
  }

 private:
  int fd_;
};

}  // namespace swarmdial
