#include "metrics_http_server.hpp"

#include "engine/thread_name.hpp"

// clang-format off
#include <utility>  // Boost 1.74's asio uses std::exchange without including this
// clang-format on
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>
#include <thread>

namespace swarmdial {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
// Connections served at once. Prometheus keeps one or two; past this a new
// connection is closed at once, so that a flood of idle ones (each held up
// to the 10 s read timeout) cannot take the descriptors the peers need.
constexpr int kMaxSessions = 32;
// An accept that fails (out of descriptors) is tried again this much later,
// rather than never, or at once in a loop.
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

// One connection: read a request, answer it, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const MetricsHttpServer::Render& render, int& live)
      : stream_(std::move(socket)), render_(render), live_(live) {
    ++live_;
  }
  ~Session() { --live_; }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  void start() { read(); }

 private:
  void read() {
    req_ = {};
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, req_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec) self->respond();
                     });
  }
  void respond() {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(req_.version());
    res->keep_alive(req_.keep_alive());
    if (req_.method() != http::verb::get) {
      res->result(http::status::method_not_allowed);
      res->body() = "GET only\n";
    } else if (req_.target() != "/metrics") {
      res->result(http::status::not_found);
      res->body() = "try /metrics\n";
    } else {
      res->result(http::status::ok);
      res->set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res->body() = render_();
    }
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (!ec && res->keep_alive()) self->read();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8192};
  http::request<http::string_body> req_;
  const MetricsHttpServer::Render& render_;
  int& live_;
};
}  // namespace

struct MetricsHttpServer::Impl {
  int sessions = 0;  // before io: the sessions io still owns count down into it as it goes
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer retry{io};
  Render render;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        retry.expires_after(kAcceptRetry);
        retry.async_wait([this](beast::error_code e) {
          if (!e) accept();
        });
        return;
      }
      if (sessions < kMaxSessions)
        std::make_shared<Session>(std::move(socket), render, sessions)->start();
      // else: the socket closes as it goes out of scope.
      accept();
    });
  }
};

MetricsHttpServer::MetricsHttpServer(const Endpoint& listen, Render render)
    : impl_(std::make_unique<Impl>()) {
  impl_->render = std::move(render);
  auto addr = asio::ip::make_address(format_ip(listen.ip));
  tcp::endpoint ep(addr, listen.port);
  beast::error_code ec;
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("--metrics " + format_endpoint(listen) +
                             ": cannot listen: " + ec.message());
  impl_->accept();
  impl_->thread = std::thread([this] {
    name_this_thread("sd-metrics");
    impl_->io.run();
  });
}

MetricsHttpServer::~MetricsHttpServer() {
  impl_->io.stop();
  impl_->thread.join();
}

uint16_t MetricsHttpServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

}  // namespace swarmdial
