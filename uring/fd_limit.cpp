#include "fd_limit.hpp"

#include <sys/resource.h>

#include "engine/usage_error.hpp"

namespace swarmdial {

uint64_t ensure_fd_limit(uint64_t needed, const std::string& why) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur >= needed) return lim.rlim_cur;
  rlimit want = lim;
  want.rlim_cur = needed;
  if (want.rlim_max < needed) want.rlim_max = needed;  // only root may raise the hard limit
  if (setrlimit(RLIMIT_NOFILE, &want) == 0) return needed;
  if (lim.rlim_max >= needed) {
    want.rlim_max = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) return needed;
  }
  throw UsageError(why + " needs " + std::to_string(needed) + " open files, but the limit is " +
                   std::to_string(lim.rlim_max) + " (raise it: ulimit -n " +
                   std::to_string(needed) + ")");
}

uint64_t raise_fd_limit_to_hard() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit want = lim;
    want.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) return want.rlim_cur;
  }
  return lim.rlim_cur;
}

}  // namespace swarmdial
