#include "dpdk_flags.hpp"

#include "cli_parse.hpp"
#include "dial_config.hpp"
#include "engine/cidr.hpp"

namespace swarmdial {

namespace po = boost::program_options;

namespace {
[[noreturn]] void fail(const std::string& flag, const std::string& why) {
  throw UsageError("--" + flag + ": " + why);
}
}  // namespace

void add_engine_address_options(po::options_description& group) {
  group.add_options()("source", po::value<std::string>(),
                      "the engine's source addresses, CIDR (with dpdk: its own, not the "
                      "kernel's)")("dpdk", po::value<std::string>(),
                                   "EAL arguments for --backend dpdk")(
      "gateway", po::value<std::string>(),
      "--backend dpdk: next hop for every target (default: targets are on-link)");
}

EngineAddressFlags read_engine_address_flags(const po::variables_map& vm, Backend backend) {
  EngineAddressFlags f;
  if (vm.count("source")) {
    auto text = vm["source"].as<std::string>();
    auto block = parse_cidr(text);
    if (!block) fail("source", "'" + text + "' is not an address or CIDR");
    if (block->size() > kMaxSourcePool)
      fail("source", "'" + text + "' has more than 65536 addresses");
    for (uint64_t i = 0; i < block->size(); ++i) f.sources.push_back(block->at(i));
  }
  if (vm.count("dpdk")) {
    f.dpdk_args = vm["dpdk"].as<std::string>();
    if (backend != Backend::kDpdk) fail("dpdk", "needs --backend dpdk");
  }
  if (vm.count("gateway")) {
    auto text = vm["gateway"].as<std::string>();
    f.gateway = parse_ip(text);
    if (!f.gateway || !f.gateway->is_v4()) fail("gateway", "'" + text + "' is not an IPv4 address");
    if (backend != Backend::kDpdk) fail("gateway", "needs --backend dpdk");
  }
  if (backend == Backend::kDpdk) {
    // The engine owns its addresses outright: the kernel must not hold them.
    if (f.dpdk_args.empty()) fail("backend", "dpdk needs --dpdk \"EAL ARGS\"");
    if (f.sources.empty()) fail("backend", "dpdk needs --source CIDR, the engine's own addresses");
    if (!f.sources.front().is_v4()) fail("source", "the dpdk backend speaks IPv4 only");
  }
  return f;
}

Backend read_backend_flag(const po::variables_map& vm) {
  auto backend = vm["backend"].as<std::string>();
  if (backend == "uring") return Backend::kUring;
  if (backend == "epoll") return Backend::kEpoll;
  if (backend == "dpdk") return Backend::kDpdk;
  throw UsageError("--backend: '" + backend + "' is not one of uring, epoll, dpdk");
}

}  // namespace swarmdial
