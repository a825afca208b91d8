#include "kernel_backend.hpp"

#include "epoll_dialer.hpp"
#include "uring/fd_limit.hpp"
#include "uring_dialer.hpp"

namespace swarmdial {

namespace {

constexpr uint64_t kFdHeadroom = 64;  // stdio, ring fds, metrics, output files

class KernelBackend final : public RunBackend {
 public:
  explicit KernelBackend(const BackendOptions& o)
      : kind_(o.kind), shards_(o.shards), sources_(o.sources) {
    // With io_uring direct descriptors, in-flight sockets live in each
    // ring's own table: only one shard's budget must fit under
    // RLIMIT_NOFILE (the kernel checks it per registration). Plain fds
    // (epoll, or uring on a kernel without the direct chain) need the sum.
    bool direct = kind_ == Backend::kUring && probe_uring_features().direct_chain;
    uint64_t dial_fds = (direct ? o.half_open : uint64_t{o.shards} * o.half_open) + kFdHeadroom;
    std::string why = "--half-open " + std::to_string(o.half_open);
    if (!direct) why += " x --shards " + std::to_string(o.shards);
    if (o.consumer_fds) why += " and " + o.consumer_fds_why;
    uint64_t limit = ensure_fd_limit(dial_fds + o.consumer_fds, why);
    // Consumers get whatever the hard limit allows beyond the dialer's share.
    if (o.consumer_fds) limit = raise_fd_limit_to_hard();
    spare_ = limit > dial_fds ? limit - dial_fds : 0;
  }

  DialerFactory factory() override {
    Backend kind = kind_;
    return [kind](const DialerOptions& o) -> std::unique_ptr<Dialer> {
      return kind == Backend::kEpoll ? make_epoll_dialer(o) : make_uring_dialer(o);
    };
  }
  uint32_t shards() const override { return shards_; }
  std::vector<IpAddress> shard_sources() const override { return sources_; }
  uint64_t spare_fds() const override { return spare_; }

 private:
  Backend kind_;
  uint32_t shards_;
  std::vector<IpAddress> sources_;
  uint64_t spare_ = 0;
};

}  // namespace

std::unique_ptr<RunBackend> open_kernel_backend(const BackendOptions& options) {
  return std::make_unique<KernelBackend>(options);
}

}  // namespace swarmdial
