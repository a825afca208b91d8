#pragma once
// The completions a kernel-socket dialer has found and not yet handed to
// its shard: appended as attempts finish, taken in order by reap(). The
// storage is reserved for the whole budget up front, so the hot path never
// allocates.
#include <algorithm>
#include <span>
#include <vector>

#include "dialer.hpp"

namespace swarmdial {

class ReadyCompletions {
 public:
  explicit ReadyCompletions(size_t budget) { ready_.reserve(budget); }

  void push(const DialCompletion& c) { ready_.push_back(c); }
  bool empty() const { return ready_.empty(); }

  // Moves up to out.size() completions into out; returns how many.
  size_t take(std::span<DialCompletion> out) {
    size_t n = std::min(out.size(), ready_.size() - head_);
    std::copy_n(ready_.begin() + static_cast<std::ptrdiff_t>(head_), n, out.begin());
    head_ += n;
    if (head_ == ready_.size()) {
      ready_.clear();
      head_ = 0;
    }
    return n;
  }

 private:
  std::vector<DialCompletion> ready_;
  size_t head_ = 0;
};

}  // namespace swarmdial
