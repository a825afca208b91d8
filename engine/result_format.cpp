#include "result_format.hpp"

#include <iterator>

namespace swarmdial {

std::string_view bt_result_name(BtResult bt) {
  switch (bt) {
    case BtResult::kOk:
      return "bt_ok";
    case BtResult::kMismatch:
      return "bt_mismatch";
    case BtResult::kTimeout:
      return "bt_timeout";
    case BtResult::kClosed:
      return "bt_closed";
    case BtResult::kInvalid:
      return "bt_invalid";
    case BtResult::kNone:
      break;
  }
  return "";
}

std::string RowFormatter::header() const {
  if (jsonl_) return {};
  return with_bt_ ? "target,port,outcome,rtt_us,attempts,shard,t_us,bt,client\n"
                  : "target,port,outcome,rtt_us,attempts,shard,t_us\n";
}

namespace {
// Client names come from peer bytes; keep them CSV- and JSON-safe.
std::string sanitize(const char* s) {
  std::string out;
  for (; *s; ++s) {
    char c = *s;
    out += (c == ',' || c == '"' || c == '\\' || c < 0x20 || c > 0x7e) ? '_' : c;
  }
  return out;
}
}  // namespace

void RowFormatter::append(const ResultRow& row, fmt::memory_buffer& out) const {
  auto it = std::back_inserter(out);
  std::string ip = format_ip(row.target.ip);
  std::string outcome = outcome_label(row.outcome, row.err);
  if (jsonl_) {
    fmt::format_to(it, R"({{"target":"{}","port":{},"outcome":"{}","rtt_us":)", ip, row.target.port,
                   outcome);
    if (row.rtt_us >= 0)
      fmt::format_to(it, "{}", row.rtt_us);
    else
      fmt::format_to(it, "null");
    fmt::format_to(it, R"(,"attempts":{},"shard":{},"t_us":{})", row.attempts, row.shard, row.t_us);
    if (with_bt_) {
      if (row.bt == BtResult::kNone)
        fmt::format_to(it, R"(,"bt":null,"client":null)");
      else
        fmt::format_to(it, R"(,"bt":"{}","client":"{}")", bt_result_name(row.bt),
                       sanitize(row.client));
    }
    fmt::format_to(it, "}}\n");
    return;
  }
  fmt::format_to(it, "{},{},{},", ip, row.target.port, outcome);
  if (row.rtt_us >= 0) fmt::format_to(it, "{}", row.rtt_us);
  fmt::format_to(it, ",{},{},{}", row.attempts, row.shard, row.t_us);
  if (with_bt_) fmt::format_to(it, ",{},{}", bt_result_name(row.bt), sanitize(row.client));
  fmt::format_to(it, "\n");
}

}  // namespace swarmdial
