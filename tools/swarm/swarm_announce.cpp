#include "swarm_announce.hpp"

// clang-format off
#include <utility>  // Boost 1.74's asio uses std::exchange without including this
// clang-format on
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <random>

#include "engine/tracker/http_announce.hpp"
#include "engine/tracker/udp_messages.hpp"
#include "uring/tracker/tracker_http_parser.hpp"

namespace swarmdial {

namespace http = boost::beast::http;

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Opens a socket bound to `as` and connected to the tracker.
std::string open_bound(const TrackerUrl& url, const IpAddress& as, int type, int timeout_ms,
                       Fd& s) {
  addrinfo hints{};
  hints.ai_socktype = type;
  hints.ai_family = as.family;
  addrinfo* res = nullptr;
  if (getaddrinfo(url.host.c_str(), std::to_string(url.port).c_str(), &hints, &res) != 0 || !res)
    return "cannot resolve " + url.host;
  s.fd = ::socket(res->ai_family, type | SOCK_CLOEXEC, 0);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_storage local;
  socklen_t llen = to_sockaddr(Endpoint{as, 0}, local);
  std::string err;
  if (::bind(s.fd, reinterpret_cast<sockaddr*>(&local), llen) != 0)
    err = errno_text("bind " + format_ip(as));
  else if (::connect(s.fd, res->ai_addr, res->ai_addrlen) != 0)
    err = errno_text("connect");
  freeaddrinfo(res);
  return err;
}

std::variant<AnnounceResponse, std::string> udp_once(const TrackerUrl& url, const IpAddress& as,
                                                     const AnnounceRequest& r, int timeout_ms) {
  Fd s;
  if (auto err = open_bound(url, as, SOCK_DGRAM, timeout_ms, s); !err.empty()) return err;
  std::mt19937 rng(std::random_device{}());
  uint8_t buf[2048];
  auto exchange = [&](const std::string& pkt, uint32_t tid,
                      UdpAction expect) -> std::variant<UdpReply, std::string> {
    // Two tries: loopback loses nothing, but a busy tracker may drop one.
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (::send(s.fd, pkt.data(), pkt.size(), 0) < 0) return errno_text("send");
      for (;;) {
        ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
        if (n < 0) break;  // timeout (or ICMP refusal): try again
        UdpReply reply = parse_udp_reply({buf, static_cast<size_t>(n)}, tid, expect);
        if (!std::holds_alternative<UdpIgnored>(reply)) return reply;
      }
    }
    return std::string("no reply within " + std::to_string(timeout_ms) + " ms (twice)");
  };
  uint32_t tid = rng();
  auto c = exchange(udp_connect_request(tid), tid, UdpAction::kConnect);
  if (auto* e = std::get_if<std::string>(&c)) return *e;
  auto& cr = std::get<UdpReply>(c);
  if (auto* f = std::get_if<TrackerFailure>(&cr)) return "tracker error: " + f->text;
  uint64_t cid = std::get<UdpConnectReply>(cr).connection_id;
  tid = rng();
  auto a = exchange(udp_announce_request(cid, tid, r), tid, UdpAction::kAnnounce);
  if (auto* e = std::get_if<std::string>(&a)) return *e;
  auto& ar = std::get<UdpReply>(a);
  if (auto* f = std::get_if<TrackerFailure>(&ar)) return "tracker error: " + f->text;
  return std::get<AnnounceResponse>(std::move(ar));
}

std::variant<AnnounceResponse, std::string> http_once(const TrackerUrl& url, const IpAddress& as,
                                                      const AnnounceRequest& r, int timeout_ms) {
  Fd s;
  if (auto err = open_bound(url, as, SOCK_STREAM, timeout_ms, s); !err.empty()) return err;
  std::string req = "GET " + http_announce_target(url, r) + " HTTP/1.1\r\nHost: " + url.host +
                    "\r\nUser-Agent: swarmdial/0.1\r\nConnection: close\r\n\r\n";
  if (::send(s.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    return errno_text("send");
  TrackerResponseParser parser;
  limit_tracker_reply(parser);
  std::string in;
  char buf[16384];
  while (!parser.is_done()) {
    ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n < 0) return errno_text("recv");
    boost::system::error_code ec;
    if (n == 0) {
      parser.put_eof(ec);
      if (ec) return "connection closed mid-reply";
      break;
    }
    in.append(buf, static_cast<size_t>(n));
    size_t used = parser.put(boost::asio::buffer(in), ec);
    if (ec && ec != http::error::need_more) return "http: " + ec.message();
    in.erase(0, used);
  }
  if (parser.get().result_int() != 200) return "HTTP " + std::to_string(parser.get().result_int());
  auto parsed = parse_http_announce(parser.get().body());
  if (auto* f = std::get_if<TrackerFailure>(&parsed)) return f->text;
  return std::get<AnnounceResponse>(std::move(parsed));
}

}  // namespace

std::variant<AnnounceResponse, std::string> announce_as_peer(const TrackerUrl& url,
                                                             const IpAddress& as,
                                                             const AnnounceRequest& r,
                                                             int timeout_ms) {
  return url.scheme == TrackerUrl::Scheme::kUdp ? udp_once(url, as, r, timeout_ms)
                                                : http_once(url, as, r, timeout_ms);
}

}  // namespace swarmdial
