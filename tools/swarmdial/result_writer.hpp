#pragma once
// The thread that drains every producer's row ring into the output file.
// Rows are formatted in batches and written with large writes; nothing is
// dropped, and everything is flushed before the writer returns.
//
// When a write fails (a full disk, a closed pipe) the error is printed at
// once and the file is left as it is: later rows are not written after a
// gap, they are counted as lost so the summary can say how many.
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/result_format.hpp"
#include "engine/spsc_queue.hpp"

namespace swarmdial {

class ResultWriter {
 public:
  // `label` names the output in the error line ("--output results.csv").
  ResultWriter(std::FILE* out, RowFormatter formatter, std::vector<SpscQueue<ResultRow>*> inputs,
               std::string label);
  // Runs until producers_done is set and every input is empty.
  void run(const std::atomic<bool>& producers_done);
  // Closes the output (unless it is stdout) and reports a failure of that
  // last flush too. Call once, after run() returned.
  void close();
  uint64_t rows_written() const { return rows_ - lost_; }
  uint64_t rows_lost() const { return lost_; }
  bool write_failed() const { return failed_; }
  const std::string& error() const { return error_; }

 private:
  bool drain_once(fmt::memory_buffer& buf);
  void flush(fmt::memory_buffer& buf);
  void fail(int err);

  std::FILE* out_;
  RowFormatter formatter_;
  std::vector<SpscQueue<ResultRow>*> inputs_;
  std::string label_;
  uint64_t rows_ = 0;      // formatted
  uint64_t buf_rows_ = 0;  // of them, still in the buffer
  uint64_t lost_ = 0;
  uint64_t bytes_ = 0;       // in the file
  size_t header_lines_ = 0;  // in the buffer, not rows
  bool failed_ = false;
  std::string error_;
};

}  // namespace swarmdial
