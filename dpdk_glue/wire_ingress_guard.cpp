#include "wire_ingress_guard.hpp"

#include <nftables/libnftables.h>
#include <unistd.h>

#include <stdexcept>

namespace swarmdial {

WireIngressGuard::WireIngressGuard(const std::string& ifname)
    : table_("swarmdial_wire_" + std::to_string(getpid())) {
  ctx_ = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx_) throw std::runtime_error("exception path: nftables context");
  nft_ctx_buffer_error(ctx_);
  std::string rules = "add table netdev " + table_ + "\n" + "add chain netdev " + table_ +
                      " wire { type filter hook ingress device \"" + ifname +
                      "\" priority -500; policy drop; }\n";
  if (nft_run_cmd_from_buffer(ctx_, rules.c_str()) != 0) {
    std::string why = nft_ctx_get_error_buffer(ctx_);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    if (auto nl = why.find('\n'); nl != std::string::npos) why.resize(nl);
    nft_ctx_free(ctx_);
    ctx_ = nullptr;
    throw std::runtime_error("exception path: cannot keep the kernel off " + ifname + ": " + why);
  }
}

std::string WireIngressGuard::undo_leftover(const std::string& table) {
  // Only ever one of ours: the name is checked before it reaches nft.
  if (table.rfind("swarmdial_wire_", 0) != 0 ||
      table.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789") != std::string::npos)
    return "nftables table '" + table + "' left alone: not a name swarmdial makes";
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return "nftables table " + table + " not removed: no nftables context";
  nft_ctx_buffer_error(ctx);
  std::string cmd = "delete table netdev " + table + "\n";
  bool ok = nft_run_cmd_from_buffer(ctx, cmd.c_str()) == 0;
  nft_ctx_free(ctx);
  return ok ? "nftables table netdev " + table : "nftables table " + table + " was already gone";
}

WireIngressGuard::~WireIngressGuard() {
  if (!ctx_) return;
  std::string cmd = "delete table netdev " + table_ + "\n";
  nft_run_cmd_from_buffer(ctx_, cmd.c_str());
  nft_ctx_free(ctx_);
}

}  // namespace swarmdial
