#include "tcp_repair.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace swarmdial {
namespace {

// From <linux/tcp.h>, which cannot be included beside <netinet/tcp.h>.
constexpr int kTcpRepair = 19, kTcpRepairQueue = 20, kTcpQueueSeq = 21, kTcpRepairOptions = 22,
              kTcpTimestamp = 24, kTcpRepairWindow = 29;
constexpr int kRecvQueue = 1, kSendQueue = 2;
constexpr uint32_t kOptMss = 2, kOptWindow = 3, kOptSackPerm = 4, kOptTimestamp = 8;

struct RepairOpt {
  uint32_t code, value;
};
struct RepairWindow {
  uint32_t snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup;
};

sockaddr_in inet(uint32_t ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(ip);
  a.sin_port = htons(port);
  return a;
}

template <typename T>
bool set(int fd, int level, int name, const T& value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0;
}

}  // namespace

bool tcp_repair_available(std::string& why) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  bool ok = set(fd, IPPROTO_TCP, kTcpRepair, 1);
  if (!ok) why = std::string("TCP_REPAIR: ") + std::strerror(errno);
  close(fd);
  return ok;
}

int repair_finish(int fd) {
  if (set(fd, IPPROTO_TCP, kTcpRepair, 0)) return fd;
  int e = errno;
  close(fd);
  return -e;
}

int repair_begin(const EstablishedFlow& f) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  // The order matters; each step was checked against this kernel.
  auto fail = [fd] {
    int e = errno;
    close(fd);
    return -e;
  };
  if (!set(fd, IPPROTO_TCP, kTcpRepair, 1)) return fail();
  if (!set(fd, IPPROTO_TCP, kTcpRepairQueue, kRecvQueue) ||
      !set(fd, IPPROTO_TCP, kTcpQueueSeq, f.irs + 1))
    return fail();
  if (!set(fd, IPPROTO_TCP, kTcpRepairQueue, kSendQueue) ||
      !set(fd, IPPROTO_TCP, kTcpQueueSeq, f.iss + 1))
    return fail();
  // A slot's source port outlives each attempt, so several repaired flows
  // (to different remotes) share it. SO_REUSEADDR alone still refuses a
  // second bind to the same address and port on this kernel; SO_REUSEPORT
  // allows it, and each flow's 4-tuple stays unique.
  if (!set(fd, SOL_SOCKET, SO_REUSEADDR, 1) || !set(fd, SOL_SOCKET, SO_REUSEPORT, 1)) return fail();
  sockaddr_in local = inet(f.local.ip, f.local.port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return fail();
  sockaddr_in remote = inet(f.remote_ip, f.remote_port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) return fail();

  std::array<RepairOpt, 4> opts{};
  size_t n = 0;
  if (f.sack_permitted) opts[n++] = {kOptSackPerm, 0};
  if (f.peer_window_scale >= 0)
    opts[n++] = {kOptWindow,
                 static_cast<uint32_t>(f.peer_window_scale) | (uint32_t{f.our_window_scale} << 16)};
  if (f.timestamps) opts[n++] = {kOptTimestamp, 0};
  opts[n++] = {kOptMss, f.peer_mss};
  if (setsockopt(fd, IPPROTO_TCP, kTcpRepairOptions, opts.data(),
                 static_cast<socklen_t>(n * sizeof(RepairOpt))) != 0)
    return fail();
  // Continue our timestamp clock. Bit 0 must be clear: since Linux 6.7 an
  // odd value switches the socket to microsecond timestamps, and a clock
  // the peer has not seen fails its PAWS check and every segment is dropped.
  if (f.timestamps && !set(fd, IPPROTO_TCP, kTcpTimestamp, f.ts_now & ~1u)) return fail();
  RepairWindow w{};
  w.snd_wl1 = f.irs;
  w.snd_wnd = f.peer_window;  // a SYN-ACK's window is never scaled
  w.max_window = f.peer_window;
  w.rcv_wnd = f.our_window;
  w.rcv_wup = f.irs + 1;
  if (!set(fd, IPPROTO_TCP, kTcpRepairWindow, w)) return fail();
  return fd;
}

}  // namespace swarmdial
