#pragma once
// --half-open N | auto, --half-open-min, --half-open-max: shared by `dial`
// and `seed`. With auto, half_open is the ceiling the budget may grow to.
#include <boost/program_options.hpp>
#include <cstdint>
#include <string>

namespace swarmdial {

struct HalfOpenFlags {
  uint32_t half_open = 64;  // fixed budget per shard, or with auto its maximum
  bool adaptive = false;    // --half-open auto
  uint32_t half_open_min = 8;
};

void add_half_open_options(boost::program_options::options_description& group,
                           uint32_t default_budget, uint32_t default_max);
// Throws UsageError naming the flag.
HalfOpenFlags read_half_open_flags(const boost::program_options::variables_map& vm);

}  // namespace swarmdial
