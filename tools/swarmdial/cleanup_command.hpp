#pragma once
#include <string>
#include <vector>

namespace swarmdial {

// `swarmdial cleanup [--dry-run]`: undoes what DPDK runs that were killed
// (SIGKILL, OOM) left on this host in this network namespace: XDP program,
// nftables table, GRO setting, reserved ports, source rule and addresses.
// Says what it removed; exit 0 (also when there was nothing), 2 on a bad flag.
int run_cleanup_command(const std::vector<std::string>& args);

}  // namespace swarmdial
