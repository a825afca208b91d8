#pragma once
// Serves GET /metrics (Prometheus text format) with Boost.Beast on its own
// thread. The page is rendered on demand by the callback.
#include <functional>
#include <memory>
#include <string>

#include "engine/endpoint.hpp"

namespace swarmdial {

class MetricsHttpServer {
 public:
  using Render = std::function<std::string()>;
  // Throws std::runtime_error when it cannot listen.
  MetricsHttpServer(const Endpoint& listen, Render render);
  ~MetricsHttpServer();
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace swarmdial
