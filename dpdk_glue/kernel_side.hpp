#pragma once
// The kernel's side of an exception path: an interface that holds the
// engine's addresses, and a source-address rule that sends whatever a
// repaired socket transmits from them out through that interface, whatever
// the host's other routes say.
// - TAP path: the TAP, with ARP off (the engine answers ARP on the wire).
// - AF_XDP path: the wire interface itself, ARP on: the kernel owns the
//   addresses there, and XDP takes only the engine's handshakes from it.
// Set through rtnetlink (libmnl). On destruction the rule, the route and
// the addresses this object added are removed again (an address that was
// already there stays).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace swarmdial {

class RouteNetlink;

class KernelSide {
 public:
  // Throws std::runtime_error naming the step that failed.
  KernelSide(const std::string& ifname, uint32_t first_ip, uint32_t address_count,
             uint8_t prefix_len, bool arp_off);
  ~KernelSide();
  KernelSide(const KernelSide&) = delete;
  KernelSide& operator=(const KernelSide&) = delete;

  // What a killed run would leave: for the run journal, and to undo it.
  nlohmann::json leftover() const;
  static std::string undo_leftover(const nlohmann::json& entry);

 private:
  KernelSide() = default;
  void rule(RouteNetlink& nl, bool add);
  void route(RouteNetlink& nl, bool add);
  void undo(RouteNetlink& nl);
  unsigned index_ = 0;
  uint32_t pool_ip_ = 0;
  uint8_t pool_prefix_ = 32;
  uint32_t table_ = 0;
  bool rule_added_ = false, route_added_ = false;
  std::vector<uint32_t> added_;  // addresses that were not there before
};

}  // namespace swarmdial
