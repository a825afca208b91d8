#pragma once
// On the AF_XDP path the kernel owns the engine's addresses, so it could
// pick one of the engine's source ports for a connect() of its own, and a
// handshake's replies would then be its. The engine's range is added to
// net.ipv4.ip_local_reserved_ports (this network namespace's) for the run,
// and the previous value is put back at the end.
#include <cstdint>
#include <string>

namespace swarmdial {

class ReservedPorts {
 public:
  // Throws std::runtime_error when the sysctl cannot be written.
  ReservedPorts(uint32_t first, uint32_t last);
  ~ReservedPorts();
  ReservedPorts(const ReservedPorts&) = delete;
  ReservedPorts& operator=(const ReservedPorts&) = delete;

  // The kernel's list after `previous` gains first-last (pure, for tests).
  static std::string add_range(const std::string& previous, uint32_t first, uint32_t last);
  // The list without first-last (whatever else was added since stays).
  static std::string remove_range(const std::string& current, uint32_t first, uint32_t last);
  // Takes a killed run's range out of the sysctl again.
  static std::string undo_leftover(uint32_t first, uint32_t last);

 private:
  std::string previous_;
};

}  // namespace swarmdial
