#pragma once
// Opens the dpdk backend for a dial run: checks the source pool against the
// port space, starts EAL and the port, and makes each shard's dialer. In a
// build without DPDK it refuses with a one-line reason.
#include <memory>

#include "engine/shard.hpp"
#include "tools/swarmdial/options/dial_config.hpp"

namespace swarmdial {

class DpdkRun {
 public:
  virtual ~DpdkRun() = default;
  virtual DialerFactory factory() = 0;
  // One shard per queue pair: fewer than asked when --shards was defaulted
  // and the port has fewer queues.
  virtual uint32_t shards() const = 0;
};

// Throws UsageError (a flag's value cannot work) or std::runtime_error.
std::unique_ptr<DpdkRun> open_dpdk(const DialConfig& cfg);

}  // namespace swarmdial
