// --targets / --peers-file bodies: addr:port and [v6]:port lines.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/target_set.hpp"

using namespace swarmdial;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = parse_target_text(std::string_view(reinterpret_cast<const char*>(data), size));
  if (auto* err = std::get_if<TargetParseError>(&r)) {
    if (err->line < 1 || err->text.empty()) std::abort();  // errors name their line
  } else {
    for (const auto& ep : std::get<std::vector<Endpoint>>(r))
      if (ep.port == 0) std::abort();
  }
  auto range = parse_target_range(std::string_view(reinterpret_cast<const char*>(data), size));
  if (range) (void)TargetSet::from_range(*range);
  return 0;
}
