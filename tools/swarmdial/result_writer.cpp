#include "result_writer.hpp"

#include <chrono>
#include <thread>

namespace swarmdial {

ResultWriter::ResultWriter(std::FILE* out, RowFormatter formatter,
                           std::vector<SpscQueue<ResultRow>*> inputs)
    : out_(out), formatter_(formatter), inputs_(std::move(inputs)) {}

bool ResultWriter::drain_once(fmt::memory_buffer& buf) {
  bool any = false;
  for (auto* q : inputs_) {
    while (auto row = q->try_pop()) {
      formatter_.append(*row, buf);
      ++rows_;
      any = true;
      if (buf.size() > (1 << 20)) flush(buf);
    }
  }
  return any;
}

void ResultWriter::flush(fmt::memory_buffer& buf) {
  if (buf.size() == 0) return;
  if (std::fwrite(buf.data(), 1, buf.size(), out_) != buf.size()) failed_ = true;
  std::fflush(out_);
  buf.clear();
}

void ResultWriter::run(const std::atomic<bool>& producers_done) {
  fmt::memory_buffer buf;
  std::string header = formatter_.header();
  buf.append(header.data(), header.data() + header.size());
  auto last_flush = std::chrono::steady_clock::now();
  for (;;) {
    bool done = producers_done.load(std::memory_order_acquire);
    bool any = drain_once(buf);
    auto now = std::chrono::steady_clock::now();
    if (now - last_flush > std::chrono::milliseconds(200)) {
      flush(buf);
      last_flush = now;
    }
    if (done && !any) {
      drain_once(buf);  // rows pushed just before the flag was set
      break;
    }
    if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  flush(buf);
}

}  // namespace swarmdial
