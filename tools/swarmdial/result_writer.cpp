#include "result_writer.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <thread>

namespace swarmdial {

ResultWriter::ResultWriter(std::FILE* out, RowFormatter formatter,
                           std::vector<SpscQueue<ResultRow>*> inputs, std::string label)
    : out_(out), formatter_(formatter), inputs_(std::move(inputs)), label_(std::move(label)) {
  // Rows are already batched here; unbuffered stdio makes a failed write's
  // return value say exactly how much of the batch reached the file.
  std::setvbuf(out_, nullptr, _IONBF, 0);
}

bool ResultWriter::drain_once(fmt::memory_buffer& buf) {
  bool any = false;
  for (auto* q : inputs_) {
    while (auto row = q->try_pop()) {
      formatter_.append(*row, buf);
      ++rows_;
      ++buf_rows_;
      any = true;
      if (buf.size() > (1 << 20)) flush(buf);
    }
  }
  return any;
}

void ResultWriter::fail(int err) {
  failed_ = true;
  error_ = std::strerror(err);
  std::fprintf(stderr, "swarmdial: %s: write failed: %s; later rows are counted as lost\n",
               label_.c_str(), error_.c_str());
}

void ResultWriter::flush(fmt::memory_buffer& buf) {
  if (buf.size() == 0) return;
  if (!failed_) {
    errno = 0;
    size_t n = std::fwrite(buf.data(), 1, buf.size(), out_);
    if (n != buf.size()) {
      int err = errno ? errno : EIO;
      // Rows are lines: the complete ones reached the file; a partial last
      // one is cut off again so the file ends on a row boundary.
      std::string_view done(buf.data(), n);
      size_t lines = static_cast<size_t>(std::count(done.begin(), done.end(), '\n'));
      size_t header = std::min(lines, header_lines_);
      size_t keep = done.rfind('\n') == std::string_view::npos ? 0 : done.rfind('\n') + 1;
      struct stat st {};
      if (fstat(fileno(out_), &st) == 0 && S_ISREG(st.st_mode))
        (void)!ftruncate(fileno(out_), static_cast<off_t>(bytes_ + keep));
      lost_ += buf_rows_ - (lines - header);
      fail(err);
    } else {
      bytes_ += n;
    }
  } else {
    lost_ += buf_rows_;
  }
  header_lines_ = 0;
  buf_rows_ = 0;
  buf.clear();
}

void ResultWriter::close() {
  if (out_ == stdout) {
    if (std::fflush(out_) != 0 && !failed_) fail(errno ? errno : EIO);
    return;
  }
  if (std::fclose(out_) != 0 && !failed_) fail(errno ? errno : EIO);
  out_ = nullptr;
}

void ResultWriter::run(const std::atomic<bool>& producers_done) {
  fmt::memory_buffer buf;
  std::string header = formatter_.header();
  buf.append(header.data(), header.data() + header.size());
  header_lines_ = static_cast<size_t>(std::count(header.begin(), header.end(), '\n'));
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
