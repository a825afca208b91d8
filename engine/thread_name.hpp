#pragma once
// Threads named for `top -H`, `perf` and /proc/PID/task/*/comm: which of a
// node's threads is busy (or wakes when it should sleep) shows by name.
#include <pthread.h>

#include <cstdint>
#include <cstdio>

namespace swarmdial {

// name, then index if one is given; the kernel keeps 15 characters.
inline void name_this_thread(const char* name, int64_t index = -1) {
  char buf[40];
  if (index >= 0)
    std::snprintf(buf, sizeof buf, "%s%lld", name, static_cast<long long>(index));
  else
    std::snprintf(buf, sizeof buf, "%s", name);
  buf[15] = '\0';
  pthread_setname_np(pthread_self(), buf);
}

}  // namespace swarmdial
