#pragma once
// How a run is asked to end. `stop`: stop new work, settle what is in flight,
// report. `abort`: a forced exit; skip the settling and the goodbyes.
#include <atomic>

namespace swarmdial {

struct RunFlags {
  std::atomic<bool>& stop;
  std::atomic<bool>& abort;
};

}  // namespace swarmdial
