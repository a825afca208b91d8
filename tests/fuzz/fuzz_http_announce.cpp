// An HTTP tracker's announce reply body (bencode, compact and dict peers).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/tracker/http_announce.hpp"

using namespace swarmdial;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = parse_http_announce(std::string_view(reinterpret_cast<const char*>(data), size));
  if (auto* a = std::get_if<AnnounceResponse>(&r)) {
    if (a->peers.size() > TrackerReplyLimits{}.max_peers) std::abort();
  } else if (std::get<TrackerFailure>(r).text.empty()) {
    std::abort();
  }
  return 0;
}
