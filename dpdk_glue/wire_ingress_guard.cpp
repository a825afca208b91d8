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

WireIngressGuard::~WireIngressGuard() {
  if (!ctx_) return;
  std::string cmd = "delete table netdev " + table_ + "\n";
  nft_run_cmd_from_buffer(ctx_, cmd.c_str());
  nft_ctx_free(ctx_);
}

}  // namespace swarmdial
