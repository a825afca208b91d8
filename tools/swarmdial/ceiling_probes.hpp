#pragma once
// The two things `ceiling` can step against: connections to a target set
// (the dial engine's shards in open-loop mode, one shard group per step) and
// announces to a tracker (the tracker-load generator, one run per step).
// Each step runs its warmup, then its measured window, and returns what the
// window saw.
#include <atomic>
#include <memory>
#include <optional>

#include "engine/ceiling_search.hpp"
#include "engine/exclude_list.hpp"
#include "engine/run_backend.hpp"
#include "engine/target_set.hpp"
#include "tools/swarmdial/options/ceiling_config.hpp"

namespace swarmdial {

class CeilingProbe {
 public:
  virtual ~CeilingProbe() = default;
  // Nothing when a signal stopped the step before its window closed.
  // Throws std::runtime_error when the step could not run at all.
  virtual std::optional<StepMeasure> run_step(double rate, std::atomic<bool>& stop,
                                              std::atomic<bool>& abort) = 0;
};

std::unique_ptr<CeilingProbe> make_dial_probe(const CeilingConfig& cfg, RunBackend& backend,
                                              const TargetSet& targets, const ExcludeList* exclude);
std::unique_ptr<CeilingProbe> make_tracker_probe(const CeilingConfig& cfg);

// The half-open slots per shard a dial step at `rate` gets: every attempt
// of a timeout's worth held at once, with room to spare, up to the cap.
uint32_t step_half_open(double rate, uint32_t shards, int64_t timeout_ms, uint32_t cap);

}  // namespace swarmdial
