#pragma once
// RLIMIT_NOFILE, raised to what a run needs when the hard limit allows it.
#include <cstdint>
#include <string>

namespace swarmdial {

// Raises the soft limit to at least `needed` (and the hard one, as root).
// Throws UsageError naming `why` (the flags that need the descriptors) when
// it cannot. Returns the soft limit in force afterwards.
uint64_t ensure_fd_limit(uint64_t needed, const std::string& why);

// Raises the soft limit to the hard limit; returns the soft limit after.
uint64_t raise_fd_limit_to_hard();

}  // namespace swarmdial
