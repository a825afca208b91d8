#pragma once
// One rtnetlink socket (libmnl) and its message buffer, shared by all of an
// object's requests (one socket per address of a big --source pool would
// otherwise mean thousands).
#include <cstddef>
#include <cstdint>
#include <vector>

struct mnl_socket;
struct nlmsghdr;

namespace swarmdial {

class RouteNetlink {
 public:
  // nonblocking: for fire-and-forget updates from a shard's loop.
  explicit RouteNetlink(bool nonblocking = false);
  ~RouteNetlink();
  RouteNetlink(const RouteNetlink&) = delete;
  RouteNetlink& operator=(const RouteNetlink&) = delete;

  bool ok() const { return nl_ != nullptr; }
  // A fresh message in the shared buffer, to fill and pass on. ack: the
  // kernel answers it (request() waits for that answer).
  nlmsghdr* message(uint16_t type, uint16_t flags, bool ack = true);
  // Sends and waits for the kernel's acknowledgement: 0 or -errno.
  int request(nlmsghdr* nlh);
  // Sends messages the caller built (one or a batch) without waiting:
  // 0 or -errno (EAGAIN when the socket is full).
  int send(const void* messages, size_t length);
  // Reads what the kernel sent back without waiting; returns how many of
  // the messages were errors.
  uint32_t drain_errors();

 private:
  mnl_socket* nl_;
  std::vector<char> buf_;
  uint32_t seq_ = 0;
};

}  // namespace swarmdial
