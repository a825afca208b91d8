#include "tracker_announcer.hpp"

// clang-format off
#include <utility>  // Boost 1.74's asio uses std::exchange without including this
// clang-format on
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <random>
#include <set>
#include <variant>

#include "engine/mono_clock.hpp"
#include "engine/tracker/http_announce.hpp"
#include "engine/tracker/tracker_tiers.hpp"
#include "engine/tracker/udp_exchange.hpp"
#include "tracker_http_parser.hpp"

namespace swarmdial {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

namespace {
using Outcome = std::variant<AnnounceResponse, std::string>;  // the response or why not

}  // namespace

struct TrackerAnnouncer::Impl {
  explicit Impl(AnnouncerOptions o)
      : opts(std::move(o)), tiers(opts.tiers, std::random_device{}()) {
    for (const auto& t : opts.tiers)
      for (const auto& u : t) states.push_back({u});
  }

  AnnouncerOptions opts;
  TrackerTiers tiers;
  asio::io_context io;
  asio::steady_timer wake{io};
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> grace_ns{3'000'000'000};
  mutable std::mutex mu;  // guards `states`: read by the status line, not a hot path
  std::vector<TrackerState> states;
  std::map<std::string, std::unique_ptr<beast::tcp_stream>> http_conns;  // keep-alive per host:port
  std::map<std::string, std::unique_ptr<UdpAnnounceExchange>> udp_exchanges;  // conn ids per URL
  std::string tracker_id;
  // How trackers see us (our socket's local address, the announced port):
  // their peer lists may include that entry, and dialing ourselves is waste.
  std::vector<Endpoint> self;
  void note_self(const asio::ip::address& local) {
    auto ip = parse_ip(local.to_string());
    if (!ip) return;
    Endpoint e{*ip, opts.request.port};
    if (std::find(self.begin(), self.end(), e) == self.end()) self.push_back(e);
  }
  udp::socket* active_udp = nullptr;  // the UDP exchange in flight, for stop() to interrupt

  TrackerState& state_of(const std::string& url) {
    for (auto& s : states)
      if (s.url == url) return s;
    return states.front();
  }

  void record(const std::string& url, const Outcome& out) {
    std::lock_guard lock(mu);
    TrackerState& s = state_of(url);
    if (auto* r = std::get_if<AnnounceResponse>(&out)) {
      ++s.ok;
      s.peers += r->peers.size();
      s.interval_s = r->interval_s;
      s.warning = r->warning;
      s.working = true;
    } else {
      ++s.failed;
      s.last_error = std::get<std::string>(out);
      s.working = false;
    }
  }

  AnnounceRequest request(AnnounceEvent ev) {
    AnnounceRequest r = opts.request;
    r.event = ev;
    r.uploaded = opts.uploaded ? opts.uploaded() : 0;
    r.tracker_id = tracker_id;
    if (ev == AnnounceEvent::kStopped) r.numwant = 0;
    return r;
  }

  awaitable<Outcome> http_announce(std::string url_text, const AnnounceRequest& r,
                                   int64_t give_up_at) {
    auto timeout = [&] {
      return std::chrono::nanoseconds(
          std::max<int64_t>(1, std::min(opts.http_timeout_ns, give_up_at - mono_ns())));
    };
    std::set<std::string> seen;
    for (int hop = 0; hop <= opts.max_redirects; ++hop) {
      if (!seen.insert(url_text).second) co_return Outcome("redirect loop at " + url_text);
      std::string err;
      auto url = parse_tracker_url(url_text, err);
      if (!url) co_return Outcome("redirect to a bad URL: " + err);
      if (url->scheme != TrackerUrl::Scheme::kHttp)
        co_return Outcome("redirect to a non-http URL " + url_text);
      std::string key = url->host + ":" + std::to_string(url->port);
      auto& conn = http_conns[key];
      std::optional<TrackerResponseParser> parser;
      // A kept-alive connection may have been closed by the tracker: one
      // fresh connection is tried before giving up.
      for (int attempt = 0; attempt < 2; ++attempt) {
        parser.emplace();
        limit_tracker_reply(*parser);
        try {
          auto ex = co_await asio::this_coro::executor;
          if (!conn || !conn->socket().is_open()) {
            conn = std::make_unique<beast::tcp_stream>(ex);
            tcp::resolver resolver(ex);
            conn->expires_after(timeout());
            auto eps = co_await resolver.async_resolve(url->host, std::to_string(url->port),
                                                       use_awaitable);
            co_await conn->async_connect(eps, use_awaitable);
            note_self(conn->socket().local_endpoint().address());
          }
          http::request<http::empty_body> req(http::verb::get, http_announce_target(*url, r), 11);
          req.set(http::field::host, url->authority());
          req.set(http::field::user_agent, "swarmdial/0.1");
          req.keep_alive(true);
          conn->expires_after(timeout());
          co_await http::async_write(*conn, req, use_awaitable);
          beast::flat_buffer buf;
          co_await http::async_read(*conn, buf, *parser, use_awaitable);
          break;
        } catch (const boost::system::system_error& e) {
          conn.reset();
          bool retryable = attempt == 0 && e.code() != beast::error::timeout &&
                           e.code() != http::error::body_limit &&
                           e.code() != http::error::header_limit;
          if (!retryable) co_return Outcome("http: " + e.code().message());
        }
      }
      auto& res = parser->get();
      if (!res.keep_alive()) conn.reset();
      unsigned code = res.result_int();
      if (code >= 300 && code < 400) {
        auto loc = res[http::field::location];
        if (loc.empty()) co_return Outcome("HTTP " + std::to_string(code) + " without Location");
        std::string next(loc);
        if (next.starts_with("/")) next = "http://" + url->authority() + next;
        url_text = next;
        continue;
      }
      if (code != 200) co_return Outcome("HTTP " + std::to_string(code));
      auto parsed = parse_http_announce(res.body());
      if (auto* f = std::get_if<TrackerFailure>(&parsed))
        co_return Outcome((f->from_tracker ? "failure reason: " : "malformed reply: ") + f->text);
      co_return Outcome(std::get<AnnounceResponse>(std::move(parsed)));
    }
    co_return Outcome("more than " + std::to_string(opts.max_redirects) + " redirects");
  }

  awaitable<Outcome> udp_announce(const TrackerUrl& url, const AnnounceRequest& r,
                                  int64_t give_up_at) {
    auto ex = co_await asio::this_coro::executor;
    udp::resolver resolver(ex);
    udp::endpoint dest;
    try {
      auto eps = co_await resolver.async_resolve(url.host, std::to_string(url.port), use_awaitable);
      dest = *eps.begin();
    } catch (const boost::system::system_error& e) {
      co_return Outcome("resolve " + url.host + ": " + e.code().message());
    }
    auto& x = udp_exchanges[url.text];
    if (!x) {
      UdpExchangeOptions o;
      o.base_timeout_ns = opts.udp_base_timeout_ns;
      o.max_exponent = opts.udp_max_exponent;
      o.v6 = dest.address().is_v6();
      x = std::make_unique<UdpAnnounceExchange>(o, std::random_device{}());
    }
    udp::socket sock(ex, dest.protocol());
    sock.connect(dest);
    note_self(sock.local_endpoint().address());
    active_udp = &sock;
    x->begin(r, mono_ns());
    std::array<uint8_t, 2048> buf;
    asio::steady_timer timer(ex);
    while (x->state() == UdpAnnounceExchange::State::kConnecting ||
           x->state() == UdpAnnounceExchange::State::kAnnouncing) {
      int64_t now = mono_ns();
      if (now >= give_up_at || (stopping.load() && r.event != AnnounceEvent::kStopped)) {
        active_udp = nullptr;
        co_return Outcome("udp: interrupted by shutdown");
      }
      if (auto pkt = x->poll(now)) {
        boost::system::error_code ec;
        sock.send(asio::buffer(*pkt), 0,
                  ec);  // a failed send is a lost datagram: the timer retries
        continue;
      }
      if (x->state() == UdpAnnounceExchange::State::kFailed) break;
      int64_t until = std::min(x->next_deadline(), give_up_at);
      timer.expires_after(std::chrono::nanoseconds(std::max<int64_t>(0, until - now)));
      timer.async_wait([&sock](boost::system::error_code ec) {
        if (!ec) sock.cancel();
      });
      boost::system::error_code ec;
      size_t n =
          co_await sock.async_receive(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
      timer.cancel();
      if (!ec) {
        x->on_datagram({buf.data(), n}, mono_ns());
        std::lock_guard lock(mu);
        TrackerState& st = state_of(url.text);
        st.ignored_datagrams = x->ignored();
        st.last_ignored = x->last_ignored();
      }
      // ECONNREFUSED (ICMP port unreachable) and cancellation both fall
      // through to poll(), whose timer decides when to try again.
    }
    active_udp = nullptr;
    if (x->state() == UdpAnnounceExchange::State::kDone) co_return Outcome(x->response());
    co_return Outcome("udp: " + x->error());
  }

  awaitable<Outcome> announce(const std::string& url_text, AnnounceEvent ev, int64_t give_up_at) {
    std::string err;
    auto url = parse_tracker_url(url_text, err);
    if (!url) co_return Outcome(err);
    AnnounceRequest r = request(ev);
    if (url->scheme == TrackerUrl::Scheme::kUdp)
      co_return co_await udp_announce(*url, r, give_up_at);
    co_return co_await http_announce(url_text, r, give_up_at);
  }

  awaitable<void> sleep_ns(int64_t ns) {
    wake.expires_after(std::chrono::nanoseconds(ns));
    boost::system::error_code ec;
    co_await wake.async_wait(asio::redirect_error(use_awaitable, ec));
  }

  awaitable<void> run() {
    AnnounceEvent ev = AnnounceEvent::kStarted;
    int64_t retry = opts.retry_base_ns;
    std::string registered;  // the tracker that last took our announce: it gets `stopped`
    while (!stopping.load()) {
      std::string url = tiers.current();
      Outcome out = co_await announce(url, ev, INT64_MAX);
      record(url, out);
      if (stopping.load()) break;
      if (auto* r = std::get_if<AnnounceResponse>(&out)) {
        tiers.on_success();
        registered = url;
        ev = AnnounceEvent::kNone;
        retry = opts.retry_base_ns;
        if (!r->tracker_id.empty()) tracker_id = r->tracker_id;
        std::erase_if(r->peers, [&](const Endpoint& e) {
          return std::find(self.begin(), self.end(), e) != self.end();
        });
        if (opts.on_peers && !r->peers.empty()) opts.on_peers(r->peers);
        int64_t interval = std::max(r->interval_s, r->min_interval_s);
        co_await sleep_ns(interval * 1'000'000'000);
      } else if (!tiers.on_failure()) {
        // Every tracker failed this round: back off, doubling to 30 min.
        co_await sleep_ns(retry);
        retry = std::min<int64_t>(retry * 2, 1800'000'000'000);
      }
    }
    if (!registered.empty()) {
      Outcome out =
          co_await announce(registered, AnnounceEvent::kStopped, mono_ns() + grace_ns.load());
      record(registered, out);
    }
  }
};

TrackerAnnouncer::TrackerAnnouncer(AnnouncerOptions opts)
    : impl_(std::make_unique<Impl>(std::move(opts))) {}

TrackerAnnouncer::~TrackerAnnouncer() {
  stop(0);
}

void TrackerAnnouncer::start() {
  if (impl_->tiers.empty()) return;
  thread_ = std::thread([this] {
    asio::co_spawn(impl_->io, impl_->run(), asio::detached);
    impl_->io.run();
  });
}

void TrackerAnnouncer::stop(int64_t grace_ns) {
  if (!thread_.joinable()) return;
  request_stop(grace_ns);
  thread_.join();
}

void TrackerAnnouncer::request_stop(int64_t grace_ns) {
  if (!thread_.joinable()) return;
  impl_->grace_ns.store(grace_ns);
  asio::post(impl_->io, [this, grace_ns] {
    impl_->stopping.store(true);
    impl_->wake.cancel();
    if (impl_->active_udp) impl_->active_udp->cancel();
    // An in-flight announce finishes (or times out) on its own; then the
    // stopped event goes out, bounded by the grace period.
    for (auto& [k, c] : impl_->http_conns)
      if (c) c->expires_after(std::chrono::nanoseconds(std::max<int64_t>(grace_ns, 1)));
  });
}

std::vector<TrackerState> TrackerAnnouncer::states() const {
  std::lock_guard lock(impl_->mu);
  return impl_->states;
}

}  // namespace swarmdial
