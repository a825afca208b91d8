#pragma once
// The load generator's UDP side (BEP 15): `connections` sockets, each with
// its own connection id (renewed before the tracker's 60 s), requests
// (announces, scrapes, connects) staged and sent with one sendmmsg per
// socket per loop pass, replies read with recvmmsg, timed by the kernel's
// receive timestamp, and checked before they count. Within a batch, a run
// of equal-sized requests is one UDP GSO message (UDP_SEGMENT): the kernel
// routes and builds headers once per run, not once per datagram.
#include <sys/socket.h>

#include <array>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "engine/tracker/load_plan.hpp"
#include "engine/tracker/tracker_url.hpp"
#include "engine/tracker/udp_messages.hpp"
#include "load_pending.hpp"

namespace swarmdial {

class UdpLoadChannels {
 public:
  // Opens the sockets and adds them to epfd with tag | index; throws
  // std::runtime_error naming the tracker.
  UdpLoadChannels(const TrackerUrl& url, uint32_t connections, int epfd, uint64_t tag,
                  PendingTable& pending, const LoadPlan& plan);
  ~UdpLoadChannels();
  UdpLoadChannels(const UdpLoadChannels&) = delete;
  UdpLoadChannels& operator=(const UdpLoadChannels&) = delete;

  const TrackerUrl& url() const { return url_; }
  void set_gso(bool on) { gso_ = on; }
  // Connect requests for sockets without a connection id (all, at first).
  void connect_missing(int64_t now);
  bool all_connected() const;
  // Stages the request in `slot`; it goes out with flush().
  void submit(uint32_t slot, int64_t now);
  void flush(int64_t now);
  // Connection ids about to expire are renewed.
  void renew(int64_t now);
  void on_readable(uint32_t channel, int64_t fallback_now);

 private:
  static constexpr int kBatch = 64;
  static constexpr size_t kMaxRequest = 16 + 20 * LoadPlan::kMaxScrapeHashes;
  // Whole replies, so each can be checked: an announce reply for numwant
  // 1000 is 6,020 bytes. Shared by the sockets: one thread reads them.
  static constexpr size_t kMaxReply = 8192;
  // A GSO segment must fit the path's MTU with its headers; bigger scrapes
  // (which fragment anyway) go one datagram per message.
  static constexpr uint16_t kMaxGsoSegment = 1200;
  static constexpr size_t kMaxGsoBytes = 60000;  // one GSO send is one IP packet
  struct Batch {
    std::array<std::array<uint8_t, kMaxRequest>, kBatch> pkts;
    std::array<uint16_t, kBatch> lens;
    std::array<iovec, kBatch> iov;
    std::array<mmsghdr, kBatch> msgs;
    std::array<std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))>, kBatch> ctrl;
    std::array<uint8_t, kBatch> first;     // per message: its first request
    std::array<uint8_t, kBatch> segments;  // per message: its requests
    std::array<uint32_t, kBatch> slots;
    int n = 0;
  };
  struct Channel {
    std::unique_ptr<Batch> batch = std::make_unique<Batch>();
    int fd = -1;
    uint64_t cid = 0;
    int64_t cid_at = 0;
    bool have_cid = false;
    uint32_t connect_tid = 0;
    int64_t connect_sent = 0;  // 0: no connect in flight
  };

  void send_connect(Channel& c, int64_t now);
  void flush(Channel& c, int64_t now);
  int build_messages(Batch& b, int from) const;
  void on_datagram(Channel& c, std::span<const uint8_t> d, int64_t now);
  int64_t arrival(msghdr& h, int64_t fallback) const;

  const TrackerUrl& url_;
  PendingTable& pending_;
  const LoadPlan& plan_;
  std::vector<Channel> channels_;
  size_t turn_ = 0;  // the socket whose turn it is to send
  std::vector<uint8_t> replies_ = std::vector<uint8_t>(size_t{kBatch} * kMaxReply);
  std::mt19937 rng_{std::random_device{}()};
  int64_t realtime_offset_ = 0;  // CLOCK_REALTIME - CLOCK_MONOTONIC, for kernel timestamps
  bool url_is_v6_ = false;       // BEP 15 over IPv6: 18-byte peer records
  // Off after the kernel refuses a GSO send (before 4.18, or a device
  // without it); every request then is a message of its own.
  bool gso_ = true;
};

}  // namespace swarmdial
