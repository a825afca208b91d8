#include "load_http_channels.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <cerrno>

#include "engine/tracker/http_announce.hpp"
#include "engine/tracker/http_scrape.hpp"
#include "load_resolve.hpp"

namespace swarmdial {

namespace http = boost::beast::http;

HttpLoadChannels::HttpLoadChannels(const TrackerUrl& url, uint32_t connections, int epfd,
                                   uint64_t tag, PendingTable& pending, const LoadPlan& plan)
    : url_(url),
      epfd_(epfd),
      tag_(tag),
      pending_(pending),
      plan_(plan),
      scrape_path_(http_scrape_path(url).value_or(url.target)),
      host_header_(url.authority()) {
  addr_ = resolve_tracker(url, false, addr_len_);
  for (uint32_t i = 0; i < connections; ++i) channels_.push_back(std::make_unique<Channel>());
}

HttpLoadChannels::~HttpLoadChannels() {
  for (auto& h : channels_)
    if (h->fd >= 0) ::close(h->fd);
}

void HttpLoadChannels::reopen(int64_t now) {
  for (uint32_t i = 0; i < channels_.size(); ++i)
    if (channels_[i]->state == Channel::kClosed && now >= channels_[i]->retry_at) open(i, now);
}

void HttpLoadChannels::became_idle(uint32_t i, int op) {
  Channel& h = *channels_[i];
  h.state = Channel::kIdle;
  epoll_event ev{EPOLLIN, {.u64 = tag_ | i}};
  epoll_ctl(epfd_, op, h.fd, &ev);
  idle_.push_back(i);
}

void HttpLoadChannels::open(uint32_t i, int64_t now) {
  Channel& h = *channels_[i];
  h.fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(h.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  h.state = Channel::kConnecting;
  h.in.clear();
  pending_.counters().http_connects.add();
  int rc = connect(h.fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_);
  if (rc != 0 && errno != EINPROGRESS) return close(i, now);
  // On loopback the handshake usually completes inside connect(): take the
  // connection at once instead of waking up again for EPOLLOUT.
  pollfd pfd{h.fd, POLLOUT, 0};
  int err = 0;
  socklen_t len = sizeof err;
  if (::poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT) &&
      getsockopt(h.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
    return became_idle(i, EPOLL_CTL_ADD);
  epoll_event ev{EPOLLIN | EPOLLOUT, {.u64 = tag_ | i}};
  epoll_ctl(epfd_, EPOLL_CTL_ADD, h.fd, &ev);
}

// `failed`: the connection broke (reopened after a pause, not spun on);
// otherwise the server just ended a keep-alive connection (reopened now).
void HttpLoadChannels::close(uint32_t i, int64_t now, bool failed) {
  Channel& h = *channels_[i];
  if (h.state == Channel::kBusy) pending_.finish(h.slot, h.gen, LoadError::kConnection, now);
  if (h.state == Channel::kIdle) std::erase(idle_, i);
  if (h.fd >= 0) ::close(h.fd);
  h.fd = -1;
  h.state = Channel::kClosed;
  h.retry_at = failed ? now + 50'000'000 : now;
}

void HttpLoadChannels::drop(uint32_t channel, int64_t now) {
  channels_[channel]->state = Channel::kIdle;  // its request is already finished
  close(channel, now);
}

void HttpLoadChannels::submit(uint32_t slot, int64_t now) {
  waiting_.push_back(slot);
  dispatch(now);
}

void HttpLoadChannels::dispatch(int64_t now) {
  reopen(now);
  LoadCounters& counters = pending_.counters();
  while (!waiting_.empty() && !idle_.empty()) {
    uint32_t slot = waiting_.front();
    waiting_.pop_front();
    PendingRequest& p = pending_.at(slot);
    if (!p.used) continue;  // timed out while queued
    uint32_t i = idle_.back();
    idle_.pop_back();
    Channel& h = *channels_[i];
    h.out.clear();
    h.out += "GET ";
    LoadStep step = plan_.step(p.k);
    if (step.kind == LoadKind::kScrape) {
      std::array<InfoHash, LoadPlan::kMaxScrapeHashes> hashes;
      size_t n = plan_.scrape_hashes(step.index, hashes);
      p.hashes = static_cast<uint8_t>(n);
      h.out += http_scrape_target(scrape_path_, std::span(hashes.data(), n));
    } else {  // the options leave connects to UDP
      h.out += http_announce_target(url_, plan_.request(step.index));
    }
    h.out += " HTTP/1.1\r\nHost: ";
    h.out += host_header_;
    h.out += "\r\nUser-Agent: swarmdial/0.1\r\n\r\n";
    h.out_off = 0;
    h.slot = slot;
    h.gen = p.gen;
    h.state = Channel::kBusy;
    limit_tracker_reply(h.parser.emplace());
    p.http_channel = static_cast<int32_t>(i);
    if (!p.resent) {  // a re-send is the same request
      pending_.sent(slot, now);
      counters.http_sent.add();
      counters.scrape_hashes.add(p.hashes);
    }
    write(i, now);
  }
}

void HttpLoadChannels::write(uint32_t i, int64_t now) {
  Channel& h = *channels_[i];
  while (h.out_off < h.out.size()) {
    ssize_t n = send(h.fd, h.out.data() + h.out_off, h.out.size() - h.out_off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN) close(i, now);
      return;
    }
    h.out_off += static_cast<size_t>(n);
  }
}

void HttpLoadChannels::on_event(uint32_t i, uint32_t events, int64_t now) {
  Channel& h = *channels_[i];
  if (h.state == Channel::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(h.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) return close(i, now);
    became_idle(i, EPOLL_CTL_MOD);
    return dispatch(now);
  }
  if (h.state == Channel::kBusy && h.out_off < h.out.size()) write(i, now);
  if (h.fd < 0 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  while (read_reply(i, now)) {
  }
}

bool HttpLoadChannels::read_reply(uint32_t i, int64_t now) {
  Channel& h = *channels_[i];
  char buf[16384];
  ssize_t n = recv(h.fd, buf, sizeof buf, 0);
  if (n < 0 && errno == EAGAIN) return false;
  if (n == 0 && h.state == Channel::kIdle) {
    close(i, now, false);  // the server closed a kept-alive connection
    dispatch(now);
    return false;
  }
  if (n == 0 && h.state == Channel::kBusy && h.in.empty() && pending_.live(h.slot, h.gen) &&
      !pending_.at(h.slot).resent) {
    // Closed before answering: the request may never have been read. A GET
    // is safe to send again, once, on a fresh connection; it keeps its
    // scheduled time.
    PendingRequest& p = pending_.at(h.slot);
    p.resent = true;
    p.http_channel = -1;
    waiting_.push_front(h.slot);
    h.state = Channel::kIdle;
    close(i, now, false);
    dispatch(now);
    return false;
  }
  if (n <= 0 || h.state != Channel::kBusy) {  // broken, or bytes nobody asked for
    close(i, now);
    return false;
  }
  h.in.append(buf, static_cast<size_t>(n));
  boost::system::error_code ec;
  size_t used = h.parser->put(boost::asio::buffer(h.in), ec);
  if (ec == http::error::need_more) ec = {};
  h.in.erase(0, used);
  if (ec) {
    pending_.finish(h.slot, h.gen, LoadError::kBadReply, now);
    h.state = Channel::kIdle;  // so close() does not count it twice
    close(i, now);
    return false;
  }
  if (!h.parser->is_done()) return true;
  on_reply(i, now);
  return false;
}

void HttpLoadChannels::on_reply(uint32_t i, int64_t now) {
  Channel& h = *channels_[i];
  auto& res = h.parser->get();
  bool keep = res.keep_alive();
  if (res.result_int() != 200) {
    pending_.finish(h.slot, h.gen, LoadError::kHttpStatus, now);
  } else if (pending_.live(h.slot, h.gen)) {
    const PendingRequest& p = pending_.at(h.slot);
    ReplyFacts f = p.kind == LoadKind::kScrape ? check_http_scrape_body(res.body(), p.hashes)
                                               : check_http_announce_body(res.body());
    pending_.finish(h.slot, h.gen, f, now);
  } else {
    pending_.finish(h.slot, h.gen, std::nullopt, now);  // counted as stray
  }
  h.state = Channel::kIdle;
  if (!keep) return close(i, now);
  idle_.push_back(i);
  dispatch(now);
}

}  // namespace swarmdial
