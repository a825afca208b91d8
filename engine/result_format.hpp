#pragma once
// Result rows as CSV or JSONL. Both carry the same keys, in this order:
// target,port,outcome,rtt_us,attempts,shard,t_us (+ bt,client).
#include <fmt/format.h>

#include <string>

#include "result_row.hpp"

namespace swarmdial {

std::string_view bt_result_name(BtResult bt);

class RowFormatter {
 public:
  RowFormatter(bool jsonl, bool with_bt) : jsonl_(jsonl), with_bt_(with_bt) {}
  // The CSV header line (empty for JSONL).
  std::string header() const;
  // Appends one row, newline included.
  void append(const ResultRow& row, fmt::memory_buffer& out) const;

 private:
  bool jsonl_, with_bt_;
};

}  // namespace swarmdial
