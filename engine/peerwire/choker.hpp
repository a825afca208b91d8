#pragma once
// Seed-mode unchoking: every interval, the N-1 interested peers we upload to
// fastest stay unchoked (they make the best use of our upload), plus one
// optimistic unchoke rotated every 30 s so newcomers get a chance. Pure:
// the pool feeds it peers and applies its decisions.
#include <cstdint>
#include <vector>

namespace swarmdial {

struct ChokerPeer {
  uint32_t id;  // the pool's connection id
  bool interested;
  uint64_t upload_rate;  // bytes/s we sent this peer over the last interval
};

class Choker {
 public:
  explicit Choker(uint32_t slots, int64_t optimistic_interval_ns = 30'000'000'000)
      : slots_(slots), optimistic_interval_ns_(optimistic_interval_ns) {}

  // Returns the ids to unchoke; everyone else is choked.
  std::vector<uint32_t> decide(std::vector<ChokerPeer> peers, int64_t now_ns);

 private:
  uint32_t slots_;
  int64_t optimistic_interval_ns_;
  int64_t last_rotation_ns_ = INT64_MIN;
  uint32_t optimistic_id_ = UINT32_MAX;
  uint64_t rotation_ = 0;
};

}  // namespace swarmdial
