#include "dialer.hpp"

namespace swarmdial {

int syn_retries_for_timeout(int64_t timeout_ns) {
  int64_t timeout_ms = timeout_ns / 1'000'000;
  int retries = 0;
  int64_t next_send_ms = 1000;  // initial RTO
  int64_t rto_ms = 1000;
  while (next_send_ms < timeout_ms && retries < 127) {
    ++retries;
    rto_ms *= 2;
    next_send_ms += rto_ms;
  }
  return retries < 1 ? 1 : retries;
}

}  // namespace swarmdial
