#pragma once
// --partition K/N | auto and --partitions N: this node's share of a target
// set (or a synthetic swarm) split over N nodes. K counts from 0, as a
// Kubernetes Indexed Job's JOB_COMPLETION_INDEX does; `auto` reads that
// variable, and N from --partitions or SWARMDIAL_PARTITIONS.
#include <boost/program_options.hpp>
#include <optional>

#include "engine/target_set.hpp"

namespace swarmdial {

void add_partition_options(boost::program_options::options_description& group);
// Throws UsageError naming the flag: a malformed K/N, K >= N, auto without
// the environment it reads, or N > 1 without --seed (every node must walk
// the same order for the slices to fit together).
Partition read_partition_flags(const boost::program_options::variables_map& vm, bool seed_given);

}  // namespace swarmdial
