#pragma once
// The thread that drains every producer's row ring into the output file.
// Rows are formatted in batches and written with large writes; nothing is
// dropped, and everything is flushed before the writer returns.
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/result_format.hpp"
#include "engine/spsc_queue.hpp"

namespace swarmdial {

class ResultWriter {
 public:
  ResultWriter(std::FILE* out, RowFormatter formatter, std::vector<SpscQueue<ResultRow>*> inputs);
  // Runs until producers_done is set and every input is empty.
  void run(const std::atomic<bool>& producers_done);
  uint64_t rows_written() const { return rows_; }
  bool write_failed() const { return failed_; }

 private:
  bool drain_once(fmt::memory_buffer& buf);
  void flush(fmt::memory_buffer& buf);

  std::FILE* out_;
  RowFormatter formatter_;
  std::vector<SpscQueue<ResultRow>*> inputs_;
  uint64_t rows_ = 0;
  bool failed_ = false;
};

}  // namespace swarmdial
