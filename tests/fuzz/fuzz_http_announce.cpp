// An HTTP tracker's announce reply body (bencode, compact and dict peers),
// through the seeder's parser and the load generator's reply checks.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/tracker/http_announce.hpp"
#include "engine/tracker/load_reply_check.hpp"

using namespace swarmdial;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = parse_http_announce(std::string_view(reinterpret_cast<const char*>(data), size));
  if (auto* a = std::get_if<AnnounceResponse>(&r)) {
    if (a->peers.size() > TrackerReplyLimits{}.max_peers) std::abort();
  } else if (std::get<TrackerFailure>(r).text.empty()) {
    std::abort();
  }
  std::string_view body(reinterpret_cast<const char*>(data), size);
  ReplyFacts f = check_http_announce_body(body);
  if (f.verdict == ReplyVerdict::kOk && f.interval_s <= 0) std::abort();
  for (size_t asked : {size_t{0}, size_t{1}, size_t{10}}) (void)check_http_scrape_body(body, asked);
  return 0;
}
