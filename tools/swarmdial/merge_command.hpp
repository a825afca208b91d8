#pragma once
#include <string>
#include <vector>

namespace swarmdial {

// `swarmdial merge S1.json S2.json ... -o TOTAL.json`: the partitions of one
// `dial --partition K/N` run added up exactly (totals, and percentiles from
// the merged histograms), their result rows concatenated with a partition
// column.
int run_merge_command(const std::vector<std::string>& args);

}  // namespace swarmdial
