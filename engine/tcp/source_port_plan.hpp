#pragma once
// Which local (address, port) each shard's slot dials from. Every shard owns
// a disjoint port range on every source address, and slot i of a shard always
// uses the same local endpoint, so a reply's destination address and port
// name both its shard and its slot with two divisions: no lookup, no hash.
#include <cstdint>
#include <optional>
#include <string>

namespace swarmdial {

struct LocalEndpoint {
  uint32_t ip = 0;  // host order
  uint16_t port = 0;
};

struct SlotRef {
  uint32_t shard = 0;
  uint32_t slot = 0;
};

class SourcePortPlan {
 public:
  // first_ip..first_ip+address_count-1 are the engine's addresses. Fails
  // (with a reason) when budget × shards does not fit in the port space.
  static std::optional<SourcePortPlan> make(uint32_t first_ip, uint32_t address_count,
                                            uint32_t shards, uint32_t budget, uint16_t port_base,
                                            std::string& why);

  LocalEndpoint local(uint32_t shard, uint32_t slot) const {
    uint32_t addr = slot / ports_per_shard_;
    uint32_t offset = slot % ports_per_shard_;
    return {first_ip_ + addr,
            static_cast<uint16_t>(port_base_ + shard * ports_per_shard_ + offset)};
  }

  // The slot a packet addressed to (ip, port) belongs to, if any.
  std::optional<SlotRef> owner(uint32_t ip, uint16_t port) const {
    if (ip - first_ip_ >= address_count_ || port < port_base_) return std::nullopt;
    uint32_t rel = port - port_base_;
    uint32_t shard = rel / ports_per_shard_;
    if (shard >= shards_) return std::nullopt;
    uint32_t slot = (ip - first_ip_) * ports_per_shard_ + rel % ports_per_shard_;
    if (slot >= budget_) return std::nullopt;
    return SlotRef{shard, slot};
  }

  bool is_local_address(uint32_t ip) const { return ip - first_ip_ < address_count_; }
  uint32_t first_ip() const { return first_ip_; }
  uint32_t address_count() const { return address_count_; }
  uint16_t port_base() const { return port_base_; }
  uint32_t ports_per_shard() const { return ports_per_shard_; }
  // One past the highest port any shard uses.
  uint32_t port_end() const { return port_base_ + shards_ * ports_per_shard_; }

 private:
  uint32_t first_ip_ = 0, address_count_ = 1, shards_ = 1, budget_ = 1;
  uint16_t port_base_ = 0;
  uint32_t ports_per_shard_ = 1;
};

}  // namespace swarmdial
