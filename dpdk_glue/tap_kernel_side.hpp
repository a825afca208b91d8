#pragma once
// The kernel's side of the TAP exception path. The TAP interface holds the
// engine's addresses with ARP off (the engine answers ARP on the wire), and
// a source-address rule sends whatever a repaired socket transmits from
// those addresses out through the TAP, whatever the host's other routes say.
// Set through rtnetlink (libmnl); the rule is removed again on destruction,
// the addresses and the route leave with the interface.
#include <cstdint>
#include <string>

namespace swarmdial {

class RouteNetlink;

class TapKernelSide {
 public:
  // Throws std::runtime_error naming the step that failed.
  TapKernelSide(const std::string& ifname, uint32_t first_ip, uint32_t address_count,
                uint8_t prefix_len);
  ~TapKernelSide();
  TapKernelSide(const TapKernelSide&) = delete;
  TapKernelSide& operator=(const TapKernelSide&) = delete;

 private:
  void rule(RouteNetlink& nl, bool add);
  uint32_t pool_ip_;
  uint8_t pool_prefix_;
  uint32_t table_;
  bool rule_added_ = false;
};

}  // namespace swarmdial
