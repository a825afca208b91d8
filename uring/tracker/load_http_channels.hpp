#pragma once
// The load generator's HTTP side: a fixed pool of `connections` keep-alive
// connections. Requests queue for an idle connection; a request the server
// closed on without answering (a tracker that ignores keep-alive, like
// opentracker) is sent again, once, on a fresh connection.
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/tracker/load_plan.hpp"
#include "engine/tracker/tracker_url.hpp"
#include "load_pending.hpp"
#include "tracker_http_parser.hpp"

namespace swarmdial {

class HttpLoadChannels {
 public:
  // Resolves the tracker; throws std::runtime_error naming it.
  HttpLoadChannels(const TrackerUrl& url, uint32_t connections, int epfd, uint64_t tag,
                   PendingTable& pending, const LoadPlan& plan);
  ~HttpLoadChannels();
  HttpLoadChannels(const HttpLoadChannels&) = delete;
  HttpLoadChannels& operator=(const HttpLoadChannels&) = delete;

  const TrackerUrl& url() const { return url_; }
  // Opens every connection that is closed and whose back-off has passed.
  void reopen(int64_t now);
  bool any_idle() const { return !idle_.empty(); }
  // Queues the request in `slot` and sends what idle connections can take.
  void submit(uint32_t slot, int64_t now);
  void on_event(uint32_t channel, uint32_t events, int64_t now);
  // A request timed out on this connection: its late reply would be taken
  // for the next request, so the connection goes.
  void drop(uint32_t channel, int64_t now);

 private:
  struct Channel {
    enum State { kClosed, kConnecting, kIdle, kBusy } state = kClosed;
    int fd = -1;
    int64_t retry_at = 0;
    std::string out, in;
    size_t out_off = 0;
    uint32_t slot = 0, gen = 0;
    std::optional<TrackerResponseParser> parser;
  };

  void open(uint32_t i, int64_t now);
  void became_idle(uint32_t i, int op);
  void close(uint32_t i, int64_t now, bool failed = true);
  void dispatch(int64_t now);
  void write(uint32_t i, int64_t now);
  // Returns false when the connection was closed or the reply is complete.
  bool read_reply(uint32_t i, int64_t now);
  void on_reply(uint32_t i, int64_t now);

  const TrackerUrl& url_;
  int epfd_;
  uint64_t tag_;
  PendingTable& pending_;
  const LoadPlan& plan_;
  std::string scrape_path_;  // BEP 48, from the announce URL (the options check it has one)
  std::string host_header_;  // url_.authority(), built once rather than per request
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  std::vector<std::unique_ptr<Channel>> channels_;  // the Beast parser does not move
  std::vector<uint32_t> idle_;
  std::deque<uint32_t> waiting_;  // slots waiting for a free connection
};

}  // namespace swarmdial
