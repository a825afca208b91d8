#pragma once
// Keeps the kernel's IP stack away from the wire-side interface while the
// engine's addresses live on the TAP. A DPDK port over a kernel interface
// (net_af_packet, net_af_xdp) still hands every frame to the kernel too;
// now that the engine's address is local in this namespace, the kernel
// would answer each SYN-ACK it sees there with a RST before the repaired
// socket exists. An nftables netdev ingress chain drops them: packet
// sockets receive frames before that hook, so DPDK still sees everything.
// A port without a kernel interface (a PCI NIC on vfio) needs no guard.
#include <string>

struct nft_ctx;

namespace swarmdial {

class WireIngressGuard {
 public:
  // Throws std::runtime_error when the rule cannot be installed.
  explicit WireIngressGuard(const std::string& ifname);
  ~WireIngressGuard();
  WireIngressGuard(const WireIngressGuard&) = delete;
  WireIngressGuard& operator=(const WireIngressGuard&) = delete;
  const std::string& table() const { return table_; }
  // Deletes a killed run's table (netdev family).
  static std::string undo_leftover(const std::string& table);

 private:
  nft_ctx* ctx_ = nullptr;
  std::string table_;
};

}  // namespace swarmdial
