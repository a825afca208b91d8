#include "tracker_load_driver.hpp"

// clang-format off
#include <utility>  // Boost 1.74's asio uses std::exchange without including this
// clang-format on
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <random>

#include "engine/mono_clock.hpp"
#include "engine/tracker/http_announce.hpp"
#include "engine/tracker/udp_messages.hpp"

namespace swarmdial {

namespace http = boost::beast::http;

std::string_view load_error_name(LoadError e) {
  switch (e) {
    case LoadError::kTimeout:
      return "timeout";
    case LoadError::kTrackerError:
      return "tracker_error";
    case LoadError::kBadReply:
      return "bad_reply";
    case LoadError::kHttpStatus:
      return "http_status";
    case LoadError::kConnection:
      return "connection";
    case LoadError::kSendFailed:
      return "send_failed";
    case LoadError::kOverload:
      return "overload";
    case LoadError::kCount:
      break;
  }
  return "?";
}

namespace {
constexpr uint32_t kSlotBits = 22;  // transaction id = generation << 22 | slot
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
constexpr uint64_t kUdpTag = 1ull << 32, kHttpTag = 2ull << 32;
constexpr int64_t kCidRenewNs = 50'000'000'000;  // renew before the tracker's 60 s
constexpr int64_t kMinSleepNs = 100'000;

sockaddr_storage resolve(const TrackerUrl& u, bool udp, socklen_t& len) {
  addrinfo hints{};
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(u.host.c_str(), std::to_string(u.port).c_str(), &hints, &res) != 0 || !res)
    throw std::runtime_error(u.text + ": cannot resolve " + u.host);
  sockaddr_storage sa{};
  std::memcpy(&sa, res->ai_addr, res->ai_addrlen);
  len = res->ai_addrlen;
  freeaddrinfo(res);
  return sa;
}
}  // namespace

struct TrackerLoadDriver::Impl {
  struct Pending {
    int64_t due = 0;
    uint64_t k = 0;
    uint32_t gen = 0;
    int32_t http_channel = -1;  // the connection carrying it, -1 while queued or UDP
    bool used = false;
    bool resent = false;  // already re-sent once after a kept-alive connection closed under it
  };
  // Announces staged for one sendmmsg per socket per loop pass.
  static constexpr int kBatch = 64;
  struct UdpBatch {
    std::array<std::array<uint8_t, kUdpAnnounceSize>, kBatch> pkts;
    std::array<iovec, kBatch> iov;
    std::array<mmsghdr, kBatch> msgs;
    std::array<uint32_t, kBatch> slots;
    int n = 0;
  };
  struct UdpChannel {
    std::unique_ptr<UdpBatch> batch = std::make_unique<UdpBatch>();
    int fd = -1;
    uint64_t cid = 0;
    int64_t cid_at = 0;
    bool have_cid = false;
    uint32_t connect_tid = 0;
    int64_t connect_sent = 0;  // 0: no connect in flight
  };
  struct HttpChannel {
    enum State { kClosed, kConnecting, kIdle, kBusy } state = kClosed;
    int fd = -1;
    int64_t retry_at = 0;
    std::string out, in;
    size_t out_off = 0;
    uint32_t slot = 0, gen = 0;
    std::optional<http::response_parser<http::string_body>> parser;
  };

  Impl(const TrackerLoadOptions& c, LoadCounters& k)
      : cfg(c), counters(k), plan(c.torrents, c.peers, c.numwant), rng(std::random_device{}()) {
    size_t inflight = static_cast<size_t>(cfg.rate * (cfg.timeout_ms / 1000.0) * 1.5) + 4096;
    pend.resize(std::min<size_t>(inflight, kSlotMask + 1));
    free_slots.reserve(pend.size());
    for (size_t i = pend.size(); i-- > 0;) free_slots.push_back(static_cast<uint32_t>(i));
  }

  const TrackerLoadOptions& cfg;
  LoadCounters& counters;
  LoadPlan plan;
  std::mt19937 rng;
  int epfd = -1;
  const TrackerUrl* udp_url = nullptr;
  const TrackerUrl* http_url = nullptr;
  sockaddr_storage udp_addr{}, http_addr{};
  socklen_t udp_len = 0, http_len = 0;
  std::vector<UdpChannel> udp;
  std::vector<std::unique_ptr<HttpChannel>> hc;  // the Beast parser does not move
  std::vector<uint32_t> idle_http;
  std::vector<Pending> pend;
  std::vector<uint32_t> free_slots;
  std::deque<std::pair<uint32_t, uint32_t>> fifo;  // (slot, gen) in due order, for timeouts
  std::deque<uint32_t> http_wait;                  // slots waiting for a free connection
  uint64_t inflight = 0;
  int64_t last_done = 0;
  int64_t realtime_offset = 0;  // CLOCK_REALTIME - CLOCK_MONOTONIC, for kernel timestamps

  void error(LoadError e) { counters.errors[static_cast<size_t>(e)].add(); }

  void release(uint32_t slot) {
    pend[slot].used = false;
    pend[slot].http_channel = -1;
    free_slots.push_back(slot);
    --inflight;
  }

  // A reply (or a failure) for the request in `slot` of generation `gen`.
  void finish(uint32_t slot, uint32_t gen, std::optional<LoadError> err, int64_t now) {
    Pending& p = pend[slot];
    if (!p.used || p.gen != gen) {
      counters.stray_replies.add();
      return;
    }
    if (err) {
      error(*err);
    } else {
      counters.ok.add();
      counters.latency.record(static_cast<uint64_t>(std::max<int64_t>(0, now - p.due) / 1000));
    }
    // The run lasts until the last answer; waiting out timeouts is not load.
    if (err != LoadError::kTimeout) last_done = now;
    release(slot);
  }

  void setup() {
    timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    realtime_offset = rt.tv_sec * 1'000'000'000LL + rt.tv_nsec - mono_ns();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    for (const auto& u : cfg.trackers)
      (u.scheme == TrackerUrl::Scheme::kUdp ? udp_url : http_url) = &u;
    if (udp_url) {
      udp_addr = resolve(*udp_url, true, udp_len);
      udp.resize(cfg.connections);
      for (size_t i = 0; i < udp.size(); ++i) {
        int fd = socket(udp_addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&udp_addr), udp_len) != 0)
          throw std::runtime_error(udp_url->text + ": " + std::strerror(errno));
        int buf = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        // Replies are read in batches between sends; the kernel's receive
        // timestamp keeps each latency exact anyway.
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        udp[i].fd = fd;
        epoll_event ev{EPOLLIN, {.u64 = kUdpTag | i}};
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
      }
    }
    if (http_url) {
      http_addr = resolve(*http_url, false, http_len);
      for (uint32_t i = 0; i < cfg.connections; ++i) hc.push_back(std::make_unique<HttpChannel>());
    }
  }

  void send_connect(UdpChannel& c, int64_t now) {
    c.connect_tid = rng();
    std::string pkt = udp_connect_request(c.connect_tid);
    if (send(c.fd, pkt.data(), pkt.size(), 0) >= 0) counters.udp_connects.add();
    c.connect_sent = now;
  }

  // When the kernel received the datagram, on the monotonic clock.
  int64_t arrival(msghdr& h, int64_t fallback) const {
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec - realtime_offset;
      }
    return fallback;
  }

  void on_udp_readable(uint32_t ch, int64_t fallback_now) {
    UdpChannel& c = udp[ch];
    uint8_t bufs[kBatch][128];
    alignas(cmsghdr) uint8_t ctrl[kBatch][CMSG_SPACE(sizeof(timespec))];
    iovec iov[kBatch];
    mmsghdr msgs[kBatch];
    for (;;) {
      for (int i = 0; i < kBatch; ++i) {
        iov[i] = {bufs[i], sizeof bufs[i]};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = ctrl[i];
        msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i];
      }
      int n = recvmmsg(c.fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;  // EAGAIN, or ECONNREFUSED: requests then time out
      for (int i = 0; i < n; ++i) {
        const uint8_t* d = bufs[i];
        size_t len = msgs[i].msg_len;
        int64_t now = arrival(msgs[i].msg_hdr, fallback_now);
        // Replies longer than the buffer are truncated by the kernel; only
        // the header matters here, the peer list is not kept.
        if (len < 8) {
          counters.stray_replies.add();
          continue;
        }
        uint32_t action = uint32_t{d[0]} << 24 | d[1] << 16 | d[2] << 8 | d[3];
        uint32_t tid = uint32_t{d[4]} << 24 | d[5] << 16 | d[6] << 8 | d[7];
        if (action == 0) {
          if (tid == c.connect_tid && c.connect_sent && len >= 16) {
            uint64_t cid = 0;
            for (int b = 0; b < 8; ++b) cid = cid << 8 | d[8 + b];
            c.cid = cid;
            c.cid_at = now;
            c.have_cid = true;
            c.connect_sent = 0;
          } else {
            counters.stray_replies.add();
          }
          continue;
        }
        uint32_t slot = tid & kSlotMask;
        if (slot >= pend.size()) {
          counters.stray_replies.add();
          continue;
        }
        std::optional<LoadError> err;
        if (action == 3)
          err = LoadError::kTrackerError;
        else if (action != 1 || len < 20)
          err = LoadError::kBadReply;
        finish(slot, tid >> kSlotBits, err, now);
      }
    }
  }

  void issue(uint64_t k, int64_t now, int64_t due) {
    if (free_slots.empty()) {
      error(LoadError::kOverload);
      return;
    }
    uint32_t slot = free_slots.back();
    free_slots.pop_back();
    Pending& p = pend[slot];
    p.due = due;
    p.k = k;
    p.gen = (p.gen + 1) & ((1u << (32 - kSlotBits)) - 1);
    p.used = true;
    p.resent = false;
    p.http_channel = -1;
    ++inflight;
    fifo.emplace_back(slot, p.gen);
    bool to_udp = udp_url && (!http_url || k % 2 == 0);
    if (!to_udp) {
      http_wait.push_back(slot);
      dispatch_http(now);
      return;
    }
    // Round-robin over sockets that hold a connection id.
    UdpChannel* c = nullptr;
    for (size_t tries = 0; tries < udp.size() && !c; ++tries) {
      UdpChannel& cand = udp[(k + tries) % udp.size()];
      if (cand.have_cid) c = &cand;
    }
    if (!c) {
      finish(slot, p.gen, LoadError::kSendFailed, now);
      return;
    }
    UdpBatch& b = *c->batch;
    udp_announce_request_into(b.pkts[b.n].data(), c->cid, p.gen << kSlotBits | slot,
                              plan.request(k));
    b.slots[b.n++] = slot;
    if (b.n == kBatch) flush_udp(*c, now);
  }

  // One sendmmsg for the staged announces; what the kernel refuses fails.
  void flush_udp(UdpChannel& c, int64_t now) {
    UdpBatch& b = *c.batch;
    int done = 0;
    while (done < b.n) {
      for (int i = done; i < b.n; ++i) {
        b.iov[i] = {b.pkts[i].data(), kUdpAnnounceSize};
        b.msgs[i] = {};
        b.msgs[i].msg_hdr.msg_iov = &b.iov[i];
        b.msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int sent = sendmmsg(c.fd, &b.msgs[done], static_cast<unsigned>(b.n - done), 0);
      if (sent <= 0) break;
      for (int i = done; i < done + sent; ++i) {
        const Pending& p = pend[b.slots[i]];
        counters.sent.add();
        counters.udp_sent.add();
        counters.send_lag.record(static_cast<uint64_t>(std::max<int64_t>(0, now - p.due) / 1000));
      }
      done += sent;
    }
    for (int i = done; i < b.n; ++i)
      finish(b.slots[i], pend[b.slots[i]].gen, LoadError::kSendFailed, now);
    b.n = 0;
  }

  void open_http(uint32_t i, int64_t now) {
    HttpChannel& h = *hc[i];
    h.fd = socket(http_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(h.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    h.state = HttpChannel::kConnecting;
    h.in.clear();
    counters.http_connects.add();
    int rc = connect(h.fd, reinterpret_cast<sockaddr*>(&http_addr), http_len);
    if (rc != 0 && errno != EINPROGRESS) {
      close_http(i, now);
      return;
    }
    // On loopback the handshake usually completes inside connect(): take
    // the connection at once instead of waking up again for EPOLLOUT.
    pollfd pfd{h.fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT) &&
        getsockopt(h.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
      h.state = HttpChannel::kIdle;
      epoll_event ev{EPOLLIN, {.u64 = kHttpTag | i}};
      epoll_ctl(epfd, EPOLL_CTL_ADD, h.fd, &ev);
      idle_http.push_back(i);
      return;
    }
    epoll_event ev{EPOLLIN | EPOLLOUT, {.u64 = kHttpTag | i}};
    epoll_ctl(epfd, EPOLL_CTL_ADD, h.fd, &ev);
  }

  // `failed`: the connection broke (reopened after a pause, not spun on);
  // otherwise the server just ended a keep-alive connection (reopened now).
  void close_http(uint32_t i, int64_t now, bool failed = true) {
    HttpChannel& h = *hc[i];
    if (h.state == HttpChannel::kBusy) finish(h.slot, h.gen, LoadError::kConnection, now);
    if (h.state == HttpChannel::kIdle) std::erase(idle_http, i);
    if (h.fd >= 0) close(h.fd);
    h.fd = -1;
    h.state = HttpChannel::kClosed;
    h.retry_at = failed ? now + 50'000'000 : now;
  }

  void dispatch_http(int64_t now) {
    // Reopen closed connections whose back-off has passed.
    for (uint32_t i = 0; i < hc.size(); ++i)
      if (hc[i]->state == HttpChannel::kClosed && now >= hc[i]->retry_at) open_http(i, now);
    while (!http_wait.empty() && !idle_http.empty()) {
      uint32_t slot = http_wait.front();
      http_wait.pop_front();
      Pending& p = pend[slot];
      if (!p.used) continue;  // timed out while queued
      uint32_t i = idle_http.back();
      idle_http.pop_back();
      HttpChannel& h = *hc[i];
      AnnounceRequest r = plan.request(p.k);
      h.out.clear();
      h.out += "GET ";
      h.out += http_announce_target(*http_url, r);
      h.out += " HTTP/1.1\r\nHost: ";
      h.out += http_url->host;
      h.out += "\r\nUser-Agent: swarmdial/0.1\r\n\r\n";
      h.out_off = 0;
      h.slot = slot;
      h.gen = p.gen;
      h.state = HttpChannel::kBusy;
      h.parser.emplace();
      h.parser->body_limit(TrackerReplyLimits{}.max_body);
      h.parser->eager(true);
      p.http_channel = static_cast<int32_t>(i);
      if (!p.resent) {  // a re-send is the same request
        counters.sent.add();
        counters.http_sent.add();
        counters.send_lag.record(static_cast<uint64_t>(std::max<int64_t>(0, now - p.due) / 1000));
      }
      write_http(i, now);
    }
  }

  void write_http(uint32_t i, int64_t now) {
    HttpChannel& h = *hc[i];
    while (h.out_off < h.out.size()) {
      ssize_t n = send(h.fd, h.out.data() + h.out_off, h.out.size() - h.out_off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) return;
        close_http(i, now);
        return;
      }
      h.out_off += static_cast<size_t>(n);
    }
  }

  void on_http_event(uint32_t i, uint32_t events, int64_t now) {
    HttpChannel& h = *hc[i];
    if (h.state == HttpChannel::kConnecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(h.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        close_http(i, now);
        return;
      }
      h.state = HttpChannel::kIdle;
      epoll_event ev{EPOLLIN, {.u64 = kHttpTag | i}};
      epoll_ctl(epfd, EPOLL_CTL_MOD, h.fd, &ev);
      idle_http.push_back(i);
      dispatch_http(now);
      return;
    }
    if (h.state == HttpChannel::kBusy && h.out_off < h.out.size()) write_http(i, now);
    if (h.fd < 0 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    char buf[16384];
    for (;;) {
      ssize_t n = recv(h.fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EAGAIN) return;
      if (n == 0 && h.state == HttpChannel::kIdle) {
        close_http(i, now, false);  // the server closed a kept-alive connection
        dispatch_http(now);
        return;
      }
      if (n == 0 && h.state == HttpChannel::kBusy && h.in.empty() && !pend[h.slot].resent &&
          pend[h.slot].used && pend[h.slot].gen == h.gen) {
        // Closed before answering: the request may never have been read (a
        // server that ignores keep-alive, like opentracker). A GET is safe to
        // send again, once, on a fresh connection; it keeps its scheduled time.
        Pending& p = pend[h.slot];
        p.resent = true;
        p.http_channel = -1;
        http_wait.push_front(h.slot);
        h.state = HttpChannel::kIdle;
        close_http(i, now, false);
        dispatch_http(now);
        return;
      }
      if (n <= 0) {
        close_http(i, now);
        return;
      }
      if (h.state != HttpChannel::kBusy) {  // bytes nobody asked for
        close_http(i, now);
        return;
      }
      h.in.append(buf, static_cast<size_t>(n));
      boost::system::error_code ec;
      size_t used = h.parser->put(boost::asio::buffer(h.in), ec);
      if (ec == http::error::need_more) ec = {};
      h.in.erase(0, used);
      if (ec) {
        finish(h.slot, h.gen, LoadError::kBadReply, now);
        h.state = HttpChannel::kIdle;  // so close_http does not count it twice
        close_http(i, now);
        return;
      }
      if (!h.parser->is_done()) continue;
      auto& res = h.parser->get();
      std::optional<LoadError> err;
      if (res.result_int() != 200)
        err = LoadError::kHttpStatus;
      else if (res.body().empty() || res.body()[0] != 'd')
        err = LoadError::kBadReply;
      else if (res.body().find("14:failure reason") != std::string::npos)
        err = LoadError::kTrackerError;
      bool keep = res.keep_alive();
      finish(h.slot, h.gen, err, now);
      h.state = HttpChannel::kIdle;
      if (!keep) {
        close_http(i, now);
        return;
      }
      idle_http.push_back(i);
      dispatch_http(now);
      return;
    }
  }

  void expire(int64_t now) {
    int64_t timeout = cfg.timeout_ms * 1'000'000;
    while (!fifo.empty()) {
      auto [slot, gen] = fifo.front();
      Pending& p = pend[slot];
      if (p.used && p.gen == gen) {
        if (now - p.due < timeout) return;
        int32_t ch = p.http_channel;
        finish(slot, gen, LoadError::kTimeout, now);
        // The late response would be taken for the next request: drop the connection.
        if (ch >= 0) {
          hc[static_cast<uint32_t>(ch)]->state = HttpChannel::kIdle;
          close_http(static_cast<uint32_t>(ch), now);
        }
      }
      fifo.pop_front();
    }
  }

  void poll_events(int64_t wait_ns) {
    epoll_event evs[256];
    timespec ts{wait_ns / 1'000'000'000, wait_ns % 1'000'000'000};
    int n = epoll_pwait2(epfd, evs, 256, &ts, nullptr);
    int64_t now = mono_ns();
    for (int i = 0; i < n; ++i) {
      uint64_t tag = evs[i].data.u64;
      auto idx = static_cast<uint32_t>(tag & 0xffffffff);
      if ((tag & ~0xffffffffull) == kUdpTag)
        on_udp_readable(idx, now);
      else
        on_http_event(idx, evs[i].events, now);
    }
  }

  // Gets every UDP socket a connection id and opens the HTTP connections
  // before the clock starts, so the timetable measures announces only.
  std::string warm_up(const std::atomic<bool>& stop) {
    int64_t start = mono_ns(), limit = start + cfg.timeout_ms * 1'000'000;
    for (auto& c : udp) send_connect(c, start);
    for (uint32_t i = 0; i < hc.size(); ++i) open_http(i, start);
    int64_t resend = start + 1'000'000'000;
    while (!stop.load(std::memory_order_relaxed)) {
      int64_t now = mono_ns();
      bool udp_ok = std::all_of(udp.begin(), udp.end(), [](auto& c) { return c.have_cid; });
      bool http_ok = hc.empty() || !idle_http.empty();
      if (udp_ok && http_ok) return {};
      if (now >= limit) {
        if (!udp_ok && udp_url)
          return udp_url->text + ": no connect reply within " + std::to_string(cfg.timeout_ms) +
                 " ms";
        return http_url->text + ": no connection within " + std::to_string(cfg.timeout_ms) + " ms";
      }
      if (now >=
          resend) {  // a lost connect: BEP 15 would wait 15 s; the warm-up retries each second
        for (auto& c : udp)
          if (!c.have_cid) send_connect(c, now);
        resend = now + 1'000'000'000;
      }
      for (uint32_t i = 0; i < hc.size(); ++i)
        if (hc[i]->state == HttpChannel::kClosed && now >= hc[i]->retry_at) open_http(i, now);
      poll_events(10'000'000);
    }
    return "interrupted";
  }

  LoadResult run(const std::atomic<bool>& stop, const std::atomic<bool>& abort) {
    LoadResult result;
    try {
      setup();
    } catch (const std::exception& e) {
      result.fatal = e.what();
      return result;
    }
    if (std::string err = warm_up(stop); !err.empty()) {
      result.fatal = err;
      return result;
    }
    rusage before{};
    getrusage(RUSAGE_THREAD, &before);
    OpenLoopSchedule sched(cfg.rate, cfg.duration_s, mono_ns() + 1'000'000);
    uint64_t next = 0;
    int64_t stop_seen = 0;
    last_done = sched.start();
    while (true) {
      int64_t now = mono_ns();
      bool stopping = stop.load(std::memory_order_relaxed);
      if (stopping && !stop_seen) stop_seen = now;
      if (!stopping) {
        for (uint64_t due = sched.due_by(now); next < due; ++next)
          issue(next, now, sched.due_at(next));
        for (auto& c : udp)
          if (c.batch->n) flush_udp(c, now);
        for (auto& c : udp)
          if (c.have_cid && !c.connect_sent && now - c.cid_at > kCidRenewNs) send_connect(c, now);
      }
      expire(now);
      if ((next >= sched.total() || stopping) && inflight == 0) break;
      if (abort.load(std::memory_order_relaxed))
        break;  // forced exit: in-flight replies are not awaited
      if (stopping && now - std::max(last_done, stop_seen) > cfg.timeout_ms * 1'000'000) break;
      // Sleep until the next request is due, but at least 100 µs: at high
      // rates a pass then sends a batch (late by at most that, which the
      // latency, measured from the timetable, includes).
      int64_t wait = 5'000'000;
      if (!stopping && next < sched.total())
        wait = std::clamp<int64_t>(sched.due_at(next) - now, kMinSleepNs, wait);
      poll_events(wait);
    }
    // Requests still queued at a stop never went out: they are not counted.
    rusage after{};
    getrusage(RUSAGE_THREAD, &after);
    auto secs = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    result.cpu_s =
        secs(after.ru_utime) - secs(before.ru_utime) + secs(after.ru_stime) - secs(before.ru_stime);
    result.duration_s =
        (std::max(last_done, sched.due_at(next ? next - 1 : 0)) - sched.start()) / 1e9;
    return result;
  }

  ~Impl() {
    for (auto& c : udp)
      if (c.fd >= 0) close(c.fd);
    for (auto& h : hc)
      if (h->fd >= 0) close(h->fd);
    if (epfd >= 0) close(epfd);
  }
};

TrackerLoadDriver::TrackerLoadDriver(const TrackerLoadOptions& cfg, LoadCounters& counters)
    : impl_(new Impl(cfg, counters)) {}
TrackerLoadDriver::~TrackerLoadDriver() {
  delete impl_;
}
LoadResult TrackerLoadDriver::run(const std::atomic<bool>& stop, const std::atomic<bool>& abort) {
  return impl_->run(stop, abort);
}

}  // namespace swarmdial
