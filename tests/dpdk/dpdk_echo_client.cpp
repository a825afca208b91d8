// Test client for the dpdk backend's handoff: dials ONE target through the
// real DpdkPort + DpdkDialer with the port's exception path (the TAP, or
// swarmdial's XDP program on net_af_xdp), takes the repaired kernel socket,
// pushes BYTES of data through an echo server and checks every byte that
// comes back, while a second thread keeps the shard's loop running. With --plain it does the same
// over an ordinary connect() from SOURCE, the baseline. Prints one JSON line.
//
// usage: dpdk_echo_client [--plain] EAL_ARGS SOURCE_IP TARGET_IP PORT BYTES
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "dpdk_glue/dpdk_dialer.hpp"
#include "dpdk_glue/dpdk_port.hpp"
#include "dpdk_glue/exception_path.hpp"
#include "engine/mono_clock.hpp"

using namespace swarmdial;

namespace {

uint32_t host_ip(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return ntohl(a.s_addr);
}

uint8_t pattern(size_t i) {
  return static_cast<uint8_t>((i * 2654435761u) >> 13);
}

// Sends `bytes` of the pattern while reading the echo back; returns the
// number of bytes that matched (== bytes on success).
size_t echo(int fd, size_t bytes) {
  std::vector<uint8_t> out(1 << 16), in(1 << 16);
  size_t sent = 0, got = 0, good = 0;
  bool mismatch = false;
  while (got < bytes && !mismatch) {
    pollfd p{fd, static_cast<short>(POLLIN | (sent < bytes ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 10000) <= 0) {
      std::fprintf(stderr, "echo: no progress for 10 s (sent %zu, got %zu): %s\n", sent, got,
                   std::strerror(errno));
      break;
    }
    if ((p.revents & POLLOUT) && sent < bytes) {
      size_t n = std::min(out.size(), bytes - sent);
      for (size_t i = 0; i < n; ++i) out[i] = pattern(sent + i);
      ssize_t w = send(fd, out.data(), n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) sent += static_cast<size_t>(w);
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = recv(fd, in.data(), in.size(), MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        std::fprintf(stderr, "echo: %s after %zu of %zu bytes\n",
                     r == 0 ? "the peer closed" : std::strerror(errno), got, bytes);
        break;
      }
      for (ssize_t i = 0; i < r; ++i) {
        if (in[static_cast<size_t>(i)] != pattern(got + static_cast<size_t>(i))) {
          mismatch = true;
          std::fprintf(stderr, "echo: byte %zu differs\n", got + static_cast<size_t>(i));
          break;
        }
        ++good;
      }
      if (r > 0) got += static_cast<size_t>(r);
    }
  }
  return good;
}

}  // namespace

int main(int argc, char** argv) {
  bool plain = argc > 1 && std::string(argv[1]) == "--plain";
  int a = plain ? 2 : 1;
  if (argc - a != 5) {
    std::fprintf(stderr, "usage: dpdk_echo_client [--plain] EAL_ARGS SOURCE TARGET PORT BYTES\n");
    return 2;
  }
  std::string eal = argv[a];
  uint32_t source = host_ip(argv[a + 1]), target = host_ip(argv[a + 2]);
  uint16_t port = static_cast<uint16_t>(std::stoi(argv[a + 3]));
  size_t bytes = std::stoull(argv[a + 4]);

  if (plain) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in s{}, d{};
    s.sin_family = d.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(source);
    d.sin_addr.s_addr = htonl(target);
    d.sin_port = htons(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&s), sizeof s) != 0 ||
        connect(fd, reinterpret_cast<sockaddr*>(&d), sizeof d) != 0) {
      std::printf("{\"established\": false, \"error\": \"%s\"}\n", std::strerror(errno));
      return 1;
    }
    int64_t t0 = mono_ns();
    size_t good = echo(fd, bytes);
    double secs = static_cast<double>(mono_ns() - t0) / 1e9;
    close(fd);
    std::printf("{\"established\": true, \"echoed\": %zu, \"seconds\": %.4f}\n", good, secs);
    return good == bytes ? 0 : 1;
  }

  try {
    DpdkPortConfig pc;
    pc.eal_args = eal;
    pc.half_open = 64;
    pc.exception_path = true;
    pc.tap_name = "sdtap" + std::to_string(getpid() % 100000);
    auto dpdk = DpdkPort::open(pc);
    std::string why;
    DpdkDialerConfig dc;
    dc.ports = *SourcePortPlan::make(source, 1, 1, 64, 20000, why);
    auto exception = ExceptionPath::open(*dpdk, dc.ports, 64, /*handoff=*/true, nullptr);
    dc.steal = exception->handshake_table();

    std::promise<DialCompletion> result;
    std::atomic<bool> done{false};
    WireCounts counts{};
    // The shard's role: this thread owns the dialer and forwards for the
    // repaired socket until the echo is over.
    std::thread shard([&] {
      DialerOptions o;
      o.half_open = 64;
      o.timeout_ns = 3'000'000'000;
      o.keep_established = true;
      auto dialer = make_dpdk_dialer(*dpdk, dc, o);
      Endpoint dst;
      dst.ip.family = AF_INET;
      for (int i = 0; i < 4; ++i) dst.ip.bytes[i] = static_cast<uint8_t>(target >> (24 - 8 * i));
      dst.port = port;
      dialer->start(0, dst, nullptr, mono_ns());
      dialer->submit();
      std::array<DialCompletion, 4> c;
      size_t n = 0;
      while (n == 0) n = dialer->reap(c, 100'000'000);
      result.set_value(c[0]);
      // The TAP path's flow travels through this loop; the AF_XDP path's
      // does not, and the shard is free to stop, as a real run's would.
      while (!done.load() && dialer->forwards_for_kernel()) dialer->reap(c, 1'000'000);
      dialer->wire_counts(counts);
    });
    DialCompletion c = result.get_future().get();
    size_t good = 0;
    double secs = 0;
    if (c.err == 0 && c.fd >= 0) {
      int64_t t0 = mono_ns();
      good = echo(c.fd, bytes);
      secs = static_cast<double>(mono_ns() - t0) / 1e9;
      close(c.fd);
      // Let the FIN/ACK exchange pass through the loop before it stops.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    done = true;
    shard.join();
    std::printf(
        "{\"established\": %s, \"error\": %d, \"echoed\": %zu, \"seconds\": %.4f, "
        "\"to_kernel\": %lu, \"from_kernel\": %lu, \"repair_failed\": %lu}\n",
        c.err == 0 ? "true" : "false", c.err, good, secs,
        static_cast<unsigned long>(counts[static_cast<int>(WireCounter::kToKernel)]),
        static_cast<unsigned long>(counts[static_cast<int>(WireCounter::kFromKernel)]),
        static_cast<unsigned long>(counts[static_cast<int>(WireCounter::kRepairFailed)]));
    return c.err == 0 && good == bytes ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dpdk_echo_client: %s\n", e.what());
    return 1;
  }
}
