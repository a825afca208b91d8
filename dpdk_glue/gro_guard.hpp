#pragma once
// A packet socket sees a frame after GRO has merged it, with the first
// segment's TCP checksum left in place (the kernel already verified the
// parts, and passes the merge on as CHECKSUM_UNNECESSARY, which a packet
// socket cannot tell us under DPDK 22.11's net_af_packet). Such a frame
// fails every check the engine makes. So for a run that forwards a wire
// port's frames to the kernel (the TAP path), GRO is off on the kernel
// interface under the port, and back on at the end if it was on before.
#include <string>

namespace swarmdial {

class GroGuard {
 public:
  // Throws std::runtime_error when GRO is on and cannot be turned off.
  explicit GroGuard(const std::string& ifname);
  ~GroGuard();
  GroGuard(const GroGuard&) = delete;
  GroGuard& operator=(const GroGuard&) = delete;

  bool turned_off() const { return turned_off_; }
  // GRO back on, for a killed run that had turned it off.
  static std::string undo_leftover(const std::string& ifname);

 private:
  std::string ifname_;
  bool turned_off_ = false;
};

}  // namespace swarmdial
