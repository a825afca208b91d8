#pragma once
// Port lists as written on the command line: "80", "6881-6889", "80,443,6881-6889".
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace swarmdial {

// Returns the ports sorted and deduplicated, or nullopt when any element is
// not a port or a well-formed ascending range.
std::optional<std::vector<uint16_t>> parse_port_list(std::string_view text);

}  // namespace swarmdial
