#include "source_port_plan.hpp"

namespace swarmdial {

std::optional<SourcePortPlan> SourcePortPlan::make(uint32_t first_ip, uint32_t address_count,
                                                   uint32_t shards, uint32_t budget,
                                                   uint16_t port_base, std::string& why) {
  if (address_count == 0 || shards == 0 || budget == 0 || port_base == 0) {
    why = "needs at least one address, shard, slot and a port base above 0";
    return std::nullopt;
  }
  SourcePortPlan p;
  p.first_ip_ = first_ip;
  p.address_count_ = address_count;
  p.shards_ = shards;
  p.budget_ = budget;
  p.port_base_ = port_base;
  // Spread each shard's slots over all addresses: fewest ports per shard.
  p.ports_per_shard_ = (budget + address_count - 1) / address_count;
  uint64_t end = uint64_t{port_base} + uint64_t{shards} * p.ports_per_shard_;
  if (end > 65536) {
    why = std::to_string(shards) + " shards x " + std::to_string(budget) + " slots need " +
          std::to_string(uint64_t{shards} * p.ports_per_shard_) +
          " source ports per address from " + std::to_string(port_base) +
          ", more than there are; add source addresses (--source) or lower --half-open";
    return std::nullopt;
  }
  return p;
}

}  // namespace swarmdial
