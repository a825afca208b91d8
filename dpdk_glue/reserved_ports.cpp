#include "reserved_ports.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace swarmdial {
namespace {

constexpr const char* kSysctl = "/proc/sys/net/ipv4/ip_local_reserved_ports";

bool write_sysctl(const std::string& value) {
  std::ofstream out(kSysctl);
  out << (value.empty() ? "\n" : value + "\n");
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

std::string ReservedPorts::add_range(const std::string& previous, uint32_t first, uint32_t last) {
  std::string range = std::to_string(first) + "-" + std::to_string(last);
  std::string trimmed = previous;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) trimmed.pop_back();
  return trimmed.empty() ? range : trimmed + "," + range;
}

std::string ReservedPorts::remove_range(const std::string& current, uint32_t first, uint32_t last) {
  std::string range = std::to_string(first) + "-" + std::to_string(last), out;
  size_t at = 0;
  while (at <= current.size()) {
    size_t end = current.find(',', at);
    if (end == std::string::npos) end = current.size();
    std::string item = current.substr(at, end - at);
    while (!item.empty() && (item.back() == '\n' || item.back() == ' ')) item.pop_back();
    if (!item.empty() && item != range) out += (out.empty() ? "" : ",") + item;
    at = end + 1;
  }
  return out;
}

std::string ReservedPorts::undo_leftover(uint32_t first, uint32_t last) {
  std::ifstream in(kSysctl);
  std::string current;
  if (!in || !std::getline(in, current))
    return std::string("reserved ports: cannot read ") + kSysctl;
  std::string range = std::to_string(first) + "-" + std::to_string(last);
  if (!write_sysctl(remove_range(current, first, last)))
    return "reserved ports " + range + " not released: cannot write " + kSysctl;
  return "reserved ports " + range + " (" + kSysctl + ")";
}

ReservedPorts::ReservedPorts(uint32_t first, uint32_t last) {
  std::ifstream in(kSysctl);
  if (!in)
    throw std::runtime_error(std::string("af_xdp exception path: ") + kSysctl + ": " +
                             std::strerror(errno));
  std::getline(in, previous_);
  if (!write_sysctl(add_range(previous_, first, last)))
    throw std::runtime_error(std::string("af_xdp exception path: cannot reserve ports ") +
                             std::to_string(first) + "-" + std::to_string(last) + " in " + kSysctl);
}

ReservedPorts::~ReservedPorts() {
  write_sysctl(previous_);
}

}  // namespace swarmdial
