#pragma once
// A connection's outgoing bytes. Unlike std::vector, growing it does not
// zero the new space: piece data is read straight over it, and zeroing 64 KiB
// before every pread showed up in the seeding profile.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

namespace swarmdial {

class SendBuffer {
 public:
  uint8_t* data() { return buf_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  void release() {
    buf_.reset();
    size_ = cap_ = 0;
  }
  // Appends n uninitialised bytes and returns where they start.
  uint8_t* grow(size_t n) {
    if (size_ + n > cap_) {
      size_t cap = std::max(size_ + n, cap_ * 2);
      std::unique_ptr<uint8_t[]> bigger(new uint8_t[cap]);
      if (size_) std::memcpy(bigger.get(), buf_.get(), size_);
      buf_ = std::move(bigger);
      cap_ = cap;
    }
    uint8_t* at = buf_.get() + size_;
    size_ += n;
    return at;
  }
  void append(const void* p, size_t n) {
    if (n) std::memcpy(grow(n), p, n);
  }
  // Takes back the last n bytes grow() handed out (a read that failed).
  void shrink(size_t n) { size_ -= std::min(n, size_); }

 private:
  std::unique_ptr<uint8_t[]> buf_;
  size_t size_ = 0, cap_ = 0;
};

}  // namespace swarmdial
