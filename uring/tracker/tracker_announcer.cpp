#include "tracker_announcer.hpp"

// clang-format off
#include <utility>  // Boost 1.74's asio uses std::exchange without including this
// clang-format on
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <variant>

#include "announce_service.hpp"
#include "engine/mono_clock.hpp"
#include "engine/thread_name.hpp"
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

// Everything here runs on the service's one thread, except the atomics.
struct AnnounceService::Impl {
  explicit Impl(AnnounceLimits limits) : gate(limits) {}

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  AnnounceGate gate;
  std::unordered_map<AnnounceGate::Ticket, asio::steady_timer*> sleepers;  // waiting for a slot
  struct UdpId {
    uint64_t id;
    int64_t at;
  };
  std::map<std::string, UdpId> udp_ids;  // by the tracker's address:port
  // Trackers a BEP 15 connect is out to, and the announces waiting for its
  // id: 300 torrents starting at once would otherwise send one connect per
  // admitted announce instead of one.
  std::map<std::string, std::vector<asio::steady_timer*>> connecting;

  void publish_udp_id(const std::string& key, uint64_t id, int64_t at) {
    auto it = udp_ids.find(key);
    if (it == udp_ids.end() || it->second.at < at) udp_ids[key] = {id, at};
  }
  // The connect to `key` is over (an id came, or it failed): wake the
  // waiters, who adopt the id or connect themselves.
  void end_connect(const std::string& key) {
    auto it = connecting.find(key);
    if (it == connecting.end()) return;
    for (auto* t : it->second) t->cancel();
    connecting.erase(it);
  }
  std::map<std::string, std::vector<std::unique_ptr<beast::tcp_stream>>> idle_http;  // host:port
  std::atomic<uint64_t> queued{0}, in_flight{0}, started{0}, late{0}, udp_connects{0};

  void publish() {
    queued.store(gate.queued(), std::memory_order_relaxed);
    in_flight.store(gate.in_flight(), std::memory_order_relaxed);
    started.store(gate.started(), std::memory_order_relaxed);
    late.store(gate.late(), std::memory_order_relaxed);
  }

  void wake_admitted() {
    for (auto t : gate.admit(mono_ns()))
      if (auto it = sleepers.find(t); it != sleepers.end()) it->second->cancel();
    publish();
  }

  // Waits for a slot to `tracker` until `give_up_at`, or until `interrupt`
  // (set by the torrent's stop) is cancelled; nullopt when none came.
  awaitable<std::optional<AnnounceGate::Ticket>> acquire(const std::string& tracker, int64_t due_ns,
                                                         int64_t give_up_at,
                                                         asio::steady_timer*& interrupt) {
    AnnounceGate::Ticket t = gate.enqueue(tracker, due_ns);
    wake_admitted();
    if (!gate.admitted(t)) {
      asio::steady_timer timer(io);
      timer.expires_after(std::chrono::nanoseconds(
          give_up_at == INT64_MAX ? INT64_MAX / 2 : std::max<int64_t>(0, give_up_at - mono_ns())));
      sleepers[t] = &timer;
      interrupt = &timer;
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
      interrupt = nullptr;
      sleepers.erase(t);
    }
    if (gate.admitted(t)) co_return t;
    gate.cancel(t);
    publish();
    co_return std::nullopt;
  }

  void release(AnnounceGate::Ticket t) {
    gate.finish(t);
    wake_admitted();
  }

  std::unique_ptr<beast::tcp_stream> take_http(const std::string& key) {
    auto& idle = idle_http[key];
    while (!idle.empty()) {
      auto c = std::move(idle.back());
      idle.pop_back();
      if (c && c->socket().is_open()) return c;
    }
    return nullptr;
  }
  void give_back_http(const std::string& key, std::unique_ptr<beast::tcp_stream> c) {
    if (c && c->socket().is_open()) idle_http[key].push_back(std::move(c));
  }
};

AnnounceService::AnnounceService(AnnounceLimits limits) : impl_(std::make_unique<Impl>(limits)) {
  thread_ = std::thread([this] {
    name_this_thread("sd-announce");
    impl_->io.run();
  });
}

AnnounceService::~AnnounceService() {
  asio::post(impl_->io, [this] {
    impl_->idle_http.clear();
    impl_->work.reset();
  });
  thread_.join();
}

AnnounceServiceStats AnnounceService::stats() const {
  return {impl_->queued.load(std::memory_order_relaxed),
          impl_->in_flight.load(std::memory_order_relaxed),
          impl_->started.load(std::memory_order_relaxed),
          impl_->late.load(std::memory_order_relaxed),
          impl_->udp_connects.load(std::memory_order_relaxed)};
}

struct TrackerAnnouncer::Impl {
  Impl(AnnounceService::Impl& svc, AnnouncerOptions o)
      : svc(svc), opts(std::move(o)), tiers(opts.tiers, std::random_device{}()) {
    for (const auto& t : opts.tiers)
      for (const auto& u : t) states.push_back({u});
  }

  AnnounceService::Impl& svc;
  AnnouncerOptions opts;
  TrackerTiers tiers;
  asio::steady_timer wake{svc.io};
  asio::steady_timer* waiting_slot = nullptr;  // set while queued for an announce slot
  std::mt19937 jitter{std::random_device{}()};
  std::atomic<bool> stopping{false};
  std::atomic<bool> stop_requested{false};
  std::atomic<int64_t> grace_ns{3'000'000'000};
  std::promise<void> finished;
  mutable std::mutex mu;  // guards `states`: read by the status line, not a hot path
  std::vector<TrackerState> states;
  std::map<std::string, std::unique_ptr<UdpAnnounceExchange>> udp_exchanges;  // per URL
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
  udp::socket* active_udp = nullptr;         // the UDP exchange in flight, for stop() to interrupt
  beast::tcp_stream* active_http = nullptr;  // the HTTP exchange in flight, for stop() to bound

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
      int64_t limit = std::min(opts.http_timeout_ns, give_up_at - mono_ns());
      if (stopping.load() && r.event != AnnounceEvent::kStopped)
        limit = std::min(limit, grace_ns.load());
      return std::chrono::nanoseconds(std::max<int64_t>(1, limit));
    };
    std::set<std::string> seen;
    struct ClearActive {
      beast::tcp_stream*& p;
      ~ClearActive() { p = nullptr; }
    } clear_active{active_http};
    for (int hop = 0; hop <= opts.max_redirects; ++hop) {
      if (!seen.insert(url_text).second) co_return Outcome("redirect loop at " + url_text);
      std::string err;
      auto url = parse_tracker_url(url_text, err);
      if (!url) co_return Outcome("redirect to a bad URL: " + err);
      if (url->scheme != TrackerUrl::Scheme::kHttp)
        co_return Outcome("redirect to a non-http URL " + url_text);
      std::string key = url->host + ":" + std::to_string(url->port);
      std::unique_ptr<beast::tcp_stream> conn = svc.take_http(key);
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
            active_http = conn.get();
            tcp::resolver resolver(ex);
            conn->expires_after(timeout());
            auto eps = co_await resolver.async_resolve(url->host, std::to_string(url->port),
                                                       use_awaitable);
            co_await conn->async_connect(eps, use_awaitable);
            note_self(conn->socket().local_endpoint().address());
          }
          active_http = conn.get();
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
          active_http = nullptr;
          conn.reset();
          bool retryable = attempt == 0 && e.code() != beast::error::timeout &&
                           e.code() != http::error::body_limit &&
                           e.code() != http::error::header_limit;
          if (!retryable) co_return Outcome("http: " + e.code().message());
        }
      }
      auto& res = parser->get();
      if (res.keep_alive()) svc.give_back_http(key, std::move(conn));
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
    std::string id_key = dest.address().to_string() + "#" + std::to_string(dest.port());
    auto fresh_id = [&] {
      auto it = svc.udp_ids.find(id_key);
      return it != svc.udp_ids.end() &&
             mono_ns() - it->second.at < UdpExchangeOptions{}.connection_id_ttl_ns;
    };
    if (!fresh_id() && svc.connecting.contains(id_key)) {
      // Another announce is connecting to this tracker: wait for its id, at
      // most one retransmission interval.
      asio::steady_timer wait(ex);
      wait.expires_after(std::chrono::nanoseconds(
          std::max<int64_t>(0, std::min(give_up_at - mono_ns(), opts.udp_base_timeout_ns))));
      svc.connecting[id_key].push_back(&wait);
      boost::system::error_code wec;
      co_await wait.async_wait(asio::redirect_error(use_awaitable, wec));
      if (auto it = svc.connecting.find(id_key); it != svc.connecting.end())
        std::erase(it->second, &wait);
    }
    if (auto it = svc.udp_ids.find(id_key); it != svc.udp_ids.end())
      x->adopt_connection_id(it->second.id, it->second.at);
    // Whoever finds no id (and nobody connecting) connects for everyone.
    struct ConnectClaim {
      AnnounceService::Impl* svc = nullptr;
      std::string key;
      ~ConnectClaim() {
        if (svc) svc->end_connect(key);
      }
    } claim;
    if (!fresh_id() && !svc.connecting.contains(id_key)) {
      svc.connecting[id_key];
      claim.svc = &svc;
      claim.key = id_key;
    }
    udp::socket sock(ex, dest.protocol());
    boost::system::error_code cec;
    sock.connect(dest, cec);
    if (cec) co_return Outcome("udp: " + cec.message());
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
        if (x->state() == UdpAnnounceExchange::State::kConnecting)
          svc.udp_connects.fetch_add(1, std::memory_order_relaxed);
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
        uint64_t cid;
        int64_t cat;
        if (claim.svc && x->state() != UdpAnnounceExchange::State::kConnecting &&
            x->connection_id(cid, cat)) {
          svc.publish_udp_id(id_key, cid, cat);
          svc.end_connect(id_key);
          claim.svc = nullptr;
        }
        std::lock_guard lock(mu);
        TrackerState& st = state_of(url.text);
        st.ignored_datagrams = x->ignored();
        st.last_ignored = x->last_ignored();
      }
      // ECONNREFUSED (ICMP port unreachable) and cancellation both fall
      // through to poll(), whose timer decides when to try again.
    }
    active_udp = nullptr;
    uint64_t id;
    int64_t at;
    if (x->tracker_said_no())
      svc.udp_ids.erase(id_key);  // the id may be what it refused: the next one connects
    else if (x->connection_id(id, at))
      svc.publish_udp_id(id_key, id, at);
    if (x->state() == UdpAnnounceExchange::State::kDone) co_return Outcome(x->response());
    co_return Outcome("udp: " + x->error());
  }

  // due_ns: when the schedule wanted this announce (for the late count).
  awaitable<Outcome> announce(const std::string& url_text, AnnounceEvent ev, int64_t due_ns,
                              int64_t give_up_at) {
    std::string err;
    auto url = parse_tracker_url(url_text, err);
    if (!url) co_return Outcome(err);
    std::string tracker = (url->scheme == TrackerUrl::Scheme::kUdp ? "udp://" : "http://") +
                          url->host + ":" + std::to_string(url->port);
    auto slot = co_await svc.acquire(tracker, due_ns, give_up_at, waiting_slot);
    if (!slot) {
      co_return Outcome(stopping.load() && ev != AnnounceEvent::kStopped
                            ? "interrupted by shutdown"
                            : "no announce slot before the deadline");
    }
    struct Release {
      AnnounceService::Impl& svc;
      AnnounceGate::Ticket t;
      ~Release() { svc.release(t); }
    } release{svc, *slot};
    if (stopping.load() && ev != AnnounceEvent::kStopped)
      co_return Outcome("interrupted by shutdown");
    AnnounceRequest r = request(ev);
    if (url->scheme == TrackerUrl::Scheme::kUdp)
      co_return co_await udp_announce(*url, r, give_up_at);
    co_return co_await http_announce(url_text, r, give_up_at);
  }

  // A node that started thousands of torrents at once would otherwise
  // re-announce them all in the same second, interval after interval: each
  // waits somewhat less than the interval (never less than min interval).
  int64_t next_interval_ns(const AnnounceResponse& r) {
    int64_t interval = std::max(r.interval_s, r.min_interval_s) * 1'000'000'000;
    int64_t floor = std::max<int64_t>(r.min_interval_s, 1) * 1'000'000'000;
    std::uniform_int_distribution<int64_t> spread(0, interval / 10);
    return std::max(floor, interval - spread(jitter));
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
    int64_t due = mono_ns();
    while (!stopping.load()) {
      std::string url = tiers.current();
      Outcome out = co_await announce(url, ev, due, INT64_MAX);
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
        int64_t wait = next_interval_ns(*r);
        due = mono_ns() + wait;
        co_await sleep_ns(wait);
      } else if (!tiers.on_failure()) {
        // Every tracker failed this round: back off, doubling to 30 min.
        due = mono_ns() + retry;
        co_await sleep_ns(retry);
        retry = std::min<int64_t>(retry * 2, 1800'000'000'000);
      } else {
        due = mono_ns();
      }
    }
    if (!registered.empty()) {
      int64_t now = mono_ns();
      Outcome out =
          co_await announce(registered, AnnounceEvent::kStopped, now, now + grace_ns.load());
      record(registered, out);
    }
  }
};

TrackerAnnouncer::TrackerAnnouncer(AnnounceService& service, AnnouncerOptions opts)
    : impl_(std::make_shared<Impl>(service.impl(), std::move(opts))) {}

TrackerAnnouncer::~TrackerAnnouncer() {
  stop(0);
}

void TrackerAnnouncer::start() {
  if (impl_->tiers.empty() || started_) return;
  started_ = true;
  done_ = impl_->finished.get_future();
  // The completion handler holds the state until the coroutine is over, so
  // a handler still queued on the loop never outlives what it points at.
  asio::co_spawn(impl_->svc.io, impl_->run(),
                 [s = impl_](std::exception_ptr) { s->finished.set_value(); });
}

void TrackerAnnouncer::stop(int64_t grace_ns) {
  if (!started_) return;
  request_stop(grace_ns);
  done_.wait();
  started_ = false;
}

void TrackerAnnouncer::request_stop(int64_t grace_ns) {
  if (!started_ || impl_->stop_requested.exchange(true)) return;
  impl_->grace_ns.store(grace_ns);
  asio::post(impl_->svc.io, [s = impl_, grace_ns] {
    s->stopping.store(true);
    s->wake.cancel();
    if (s->waiting_slot) s->waiting_slot->cancel();
    if (s->active_udp) s->active_udp->cancel();
    // An in-flight HTTP announce finishes (or times out) within the grace
    // period; then the stopped event goes out, bounded by it too.
    if (s->active_http)
      s->active_http->expires_after(std::chrono::nanoseconds(std::max<int64_t>(grace_ns, 1)));
  });
}

std::vector<TrackerState> TrackerAnnouncer::states() const {
  std::lock_guard lock(impl_->mu);
  return impl_->states;
}

}  // namespace swarmdial
