#include "emulated_swarm.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "engine/mono_clock.hpp"

namespace swarmdial {

namespace {
constexpr uint64_t kListenerTag = uint64_t{1} << 63;
constexpr size_t kReadChunk = 64 * 1024;

[[noreturn]] void fail(const std::string& what, const Endpoint& ep) {
  throw std::runtime_error("swarm peer " + format_endpoint(ep) + ": " + what + ": " +
                           std::strerror(errno));
}

int listen_on(const Endpoint& ep, int backlog) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket", ep);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage sa;
  socklen_t len = to_sockaddr(ep, sa);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    ::close(fd);
    fail("bind", ep);
  }
  if (::listen(fd, backlog) != 0) {
    ::close(fd);
    fail("listen", ep);
  }
  return fd;
}

// Takes the black hole's one accept-queue slot, so the kernel drops every
// later SYN to it (the listener is never accepted from).
int fill_black_hole(const Endpoint& ep) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket", ep);
  sockaddr_storage sa;
  socklen_t len = to_sockaddr(ep, sa);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    ::close(fd);
    fail("filling the accept queue", ep);
  }
  return fd;
}
}  // namespace

struct EmulatedSwarm::Conn {
  Conn(int fd_, uint32_t peer_, const LeechConfig& cfg_, int64_t start)
      : fd(fd_), peer(peer_), cfg(cfg_), session(cfg), start_at(start), last_refill(start) {}
  int fd;
  uint32_t peer;
  LeechConfig cfg;  // per connection: each leecher starts at its own piece
  LeechSession session;
  int64_t start_at;
  int64_t last_refill;
  bool slow = false;
  bool started = false;
  bool closed = false;
  bool want_write = false;
  double read_tokens = 0;
  uint64_t counted_bytes = 0;
  std::string out;
  size_t out_off = 0;
};

EmulatedSwarm::EmulatedSwarm(SwarmOptions opts) : opts_(std::move(opts)) {
  leech_cfg_.meta = opts_.meta;
  leech_cfg_.pipeline = opts_.pipeline;
  results_.resize(opts_.peers.size());
  first_connect_ns_.assign(opts_.peers.size(), 0);
  for (size_t i = 0; i < opts_.peers.size(); ++i) results_[i].peer = opts_.peers[i];
}

EmulatedSwarm::~EmulatedSwarm() {
  stop();
}

uint32_t EmulatedSwarm::planned(PeerBehaviour b) const {
  uint32_t n = 0;
  for (const auto& p : opts_.peers) n += p.behaviour == b;
  return n;
}

uint64_t EmulatedSwarm::completed() const {
  return counters(PeerBehaviour::kLeecher).completed.get() +
         counters(PeerBehaviour::kSlow).completed.get();
}

void EmulatedSwarm::start() {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  listeners_.assign(opts_.peers.size(), -1);
  try {
    for (size_t i = 0; i < opts_.peers.size(); ++i) {
      const SwarmPeer& p = opts_.peers[i];
      switch (p.behaviour) {
        case PeerBehaviour::kDead:
          break;
        case PeerBehaviour::kBlackhole:
          listeners_[i] = listen_on(p.addr, 0);
          fillers_.push_back(fill_black_hole(p.addr));
          break;
        case PeerBehaviour::kLeecher:
        case PeerBehaviour::kSlow: {
          listeners_[i] = listen_on(p.addr, 64);
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = kListenerTag | i;
          if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, listeners_[i], &ev) != 0) fail("epoll_ctl", p.addr);
          break;
        }
      }
    }
  } catch (...) {
    stop();
    throw;
  }
  thread_ = std::thread([this] { run(); });
}

void EmulatedSwarm::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  for (auto& c : conns_)
    if (c && !c->closed) finish(*c, mono_ns());
  conns_.clear();
  for (int& fd : listeners_)
    if (fd >= 0) ::close(std::exchange(fd, -1));
  for (int fd : fillers_) ::close(fd);
  fillers_.clear();
  if (epfd_ >= 0) ::close(std::exchange(epfd_, -1));
}

std::vector<SwarmPeerResult> EmulatedSwarm::results() const {
  return results_;
}

void EmulatedSwarm::accept_all(uint32_t peer) {
  const SwarmPeer& p = opts_.peers[peer];
  for (;;) {
    int fd = ::accept4(listeners_[peer], nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a connection reset before we got to it
    int64_t now = mono_ns();
    bool slow = p.behaviour == PeerBehaviour::kSlow;
    LeechConfig cfg = leech_cfg_;
    cfg.peer_id = make_peer_id(opts_.seed * 1'000'003 + peer);
    cfg.first_piece = opts_.meta->num_pieces ? (peer * 7919u) % opts_.meta->num_pieces : 0;
    auto c = std::make_unique<Conn>(fd, peer, cfg, slow ? now + opts_.slow_accept_ns : now);
    c->slow = slow;
    if (!first_connect_ns_[peer]) first_connect_ns_[peer] = now;
    ++results_[peer].connections;
    counters_[static_cast<size_t>(p.behaviour)].connections.add();
    if (!slow) {
      // Slow peers are polled on the loop's tick instead, to pace their reads.
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = reinterpret_cast<uint64_t>(c.get());
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    }
    conns_.push_back(std::move(c));
  }
}

void EmulatedSwarm::service(Conn& c, int64_t now, bool readable) {
  if (c.closed) return;
  if (!c.started) {
    if (now < c.start_at) return;
    c.started = true;
    c.last_refill = now;
    c.session.start(c.out);
    readable = true;
  }
  bool alive = true;
  if (readable) {
    uint8_t buf[kReadChunk];
    size_t budget = SIZE_MAX;
    if (c.slow) {
      c.read_tokens = std::min<double>(
          c.read_tokens + opts_.slow_read_bytes_per_s * (now - c.last_refill) / 1e9, kReadChunk);
      c.last_refill = now;
      budget = static_cast<size_t>(c.read_tokens);
    }
    // Bounded per wake-up so one fast connection cannot starve the others.
    for (int i = 0; i < 8 && alive && budget > 0; ++i) {
      ssize_t n = ::recv(c.fd, buf, std::min(sizeof buf, budget), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        n = 0;  // a reset ends the session like a close
      }
      alive = c.session.on_receive({buf, static_cast<size_t>(n)}, c.out);
      if (n == 0) alive = false;
      if (c.slow) {
        c.read_tokens -= static_cast<double>(n);
        budget -= static_cast<size_t>(n);
      }
    }
    uint64_t verified = c.session.bytes_verified();
    counters_[static_cast<size_t>(opts_.peers[c.peer].behaviour)].bytes_verified.add(
        verified - c.counted_bytes);
    c.counted_bytes = verified;
  }
  while (c.out_off < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n <= 0) break;
    c.out_off += static_cast<size_t>(n);
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  }
  if (!alive) {
    finish(c, now);
    return;
  }
  bool want_write = !c.out.empty();
  if (!c.slow && want_write != c.want_write) {
    epoll_event ev{};
    ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
    ev.data.u64 = reinterpret_cast<uint64_t>(&c);
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_write = want_write;
  }
}

void EmulatedSwarm::finish(Conn& c, int64_t now) {
  if (c.closed) return;
  c.closed = true;
  ::close(c.fd);
  SwarmPeerResult& r = results_[c.peer];
  auto& k = counters_[static_cast<size_t>(r.peer.behaviour)];
  r.bytes_verified += c.session.bytes_verified();
  r.hash_failures += c.session.hash_failures();
  r.end = c.session.end() == LeechEnd::kNone ? LeechEnd::kPeerClosed : c.session.end();
  r.seeder_client = c.session.client();
  k.hash_failures.add(c.session.hash_failures());
  if (c.session.complete() && !r.completed) {
    r.completed = true;
    r.seconds_to_complete = (now - first_connect_ns_[c.peer]) / 1e9;
    k.completed.add();
  } else if (!c.session.complete()) {
    k.failed.add();
  }
}

void EmulatedSwarm::run() {
  epoll_event events[256];
  while (!stop_.load(std::memory_order_relaxed)) {
    int n = ::epoll_wait(epfd_, events, 256, 10);
    int64_t now = mono_ns();
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag & kListenerTag) {
        accept_all(static_cast<uint32_t>(tag & ~kListenerTag));
      } else {
        auto* c = reinterpret_cast<Conn*>(tag);
        service(*c, now, events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR));
      }
    }
    // The tick: slow peers read their allowance, late starters begin.
    for (auto& c : conns_)
      if (!c->closed && (c->slow || !c->started)) service(*c, now, c->slow);
    std::erase_if(conns_, [](const std::unique_ptr<Conn>& c) { return c->closed; });
  }
}

}  // namespace swarmdial
