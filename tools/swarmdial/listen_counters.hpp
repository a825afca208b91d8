#pragma once
// What the kernel turned away at the listen socket before swarmdial ever saw
// a connection: SYNs answered with cookies because the SYN queue was full,
// and connections dropped because the accept queue was. The counters are
// the network namespace's (TcpExt in /proc/net/netstat), so a seeder reports
// the change over its run; other listeners in the namespace count too.
#include <cstdint>
#include <optional>
#include <string_view>

namespace swarmdial {

struct ListenCounters {
  uint64_t syncookies_sent = 0;
  uint64_t listen_overflows = 0;  // accept queue full
  uint64_t listen_drops = 0;      // every drop at a listener, overflows included
};

// Parses the text of /proc/net/netstat; nullopt when TcpExt is missing.
std::optional<ListenCounters> parse_listen_counters(std::string_view netstat);
// This network namespace's counters now; nullopt when unreadable.
std::optional<ListenCounters> read_listen_counters();

}  // namespace swarmdial
