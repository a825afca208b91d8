#pragma once
// The dpdk backend, opened for a run: checks the source pool against the
// port space, starts EAL and the port, sets up the exception path when
// established flows must become kernel sockets, and makes each shard's
// dialer. A build without DPDK refuses with a one-line reason.
#include <memory>
#include <string>
#include <vector>

#include "engine/run_backend.hpp"

namespace swarmdial {

// Throws UsageError (a flag's value cannot work) or std::runtime_error.
std::unique_ptr<RunBackend> open_dpdk_backend(const BackendOptions& options);

// `swarmdial cleanup`: undoes what DPDK runs that were killed left on this
// host (this network namespace). Returns one line per change undone (or,
// dry_run, that would be); notes says what was left alone and why.
std::vector<std::string> clean_dpdk_leftovers(bool dry_run, std::vector<std::string>& notes);

}  // namespace swarmdial
