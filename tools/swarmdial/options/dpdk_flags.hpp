#pragma once
// The flags that give the engine its own addresses and, with --backend dpdk,
// its port: --source, --dpdk, --gateway. Shared by `dial` and `seed`.
#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/endpoint.hpp"

namespace swarmdial {

struct EngineAddressFlags {
  std::vector<IpAddress> sources;    // --source CIDR, expanded
  std::string dpdk_args;             // --dpdk "EAL ARGS"
  std::optional<IpAddress> gateway;  // --gateway IP
};

void add_engine_address_options(boost::program_options::options_description& group);

// --backend uring | epoll | dpdk; throws UsageError naming the flag.
Backend read_backend_flag(const boost::program_options::variables_map& vm);

// Throws UsageError naming the flag: a bad value, a dpdk-only flag without
// --backend dpdk, or dpdk without its EAL arguments or its own addresses.
EngineAddressFlags read_engine_address_flags(const boost::program_options::variables_map& vm,
                                             Backend backend);

}  // namespace swarmdial
