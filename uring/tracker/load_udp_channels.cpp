#include "load_udp_channels.hpp"

#include <netdb.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "engine/mono_clock.hpp"
#include "load_resolve.hpp"

namespace swarmdial {

namespace {
constexpr int64_t kCidRenewNs = 50'000'000'000;  // renew before the tracker's 60 s
}

UdpLoadChannels::UdpLoadChannels(const TrackerUrl& url, uint32_t connections, int epfd,
                                 uint64_t tag, PendingTable& pending, const LoadPlan& plan)
    : url_(url), pending_(pending), plan_(plan), channels_(connections) {
  timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  realtime_offset_ = rt.tv_sec * 1'000'000'000LL + rt.tv_nsec - mono_ns();
  socklen_t len = 0;
  sockaddr_storage addr = resolve_tracker(url, true, len);
  url_is_v6_ = addr.ss_family == AF_INET6;
  for (size_t i = 0; i < channels_.size(); ++i) {
    int fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    channels_[i].fd = fd;
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0)
      throw std::runtime_error(url.text + ": " + std::strerror(errno));
    int buf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    // Replies are read in batches between sends; the kernel's receive
    // timestamp keeps each latency exact anyway.
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    epoll_event ev{EPOLLIN, {.u64 = tag | i}};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
  }
}

UdpLoadChannels::~UdpLoadChannels() {
  for (auto& c : channels_)
    if (c.fd >= 0) close(c.fd);
}

void UdpLoadChannels::send_connect(Channel& c, int64_t now) {
  c.connect_tid = rng_();
  std::string pkt = udp_connect_request(c.connect_tid);
  if (send(c.fd, pkt.data(), pkt.size(), 0) >= 0) pending_.counters().udp_connects.add();
  c.connect_sent = now;
}

void UdpLoadChannels::connect_missing(int64_t now) {
  for (auto& c : channels_)
    if (!c.have_cid) send_connect(c, now);
}

bool UdpLoadChannels::all_connected() const {
  return std::all_of(channels_.begin(), channels_.end(), [](auto& c) { return c.have_cid; });
}

void UdpLoadChannels::renew(int64_t now) {
  for (auto& c : channels_)
    if (c.have_cid && !c.connect_sent && now - c.cid_at > kCidRenewNs) send_connect(c, now);
}

void UdpLoadChannels::submit(uint32_t slot, int64_t now) {
  PendingRequest& p = pending_.at(slot);
  // Sockets take turns a batch at a time, not a request at a time: a pass
  // of the loop then costs one sendmmsg, and the replies come back to one
  // socket for one recvmmsg, where spreading requests one by one over 64
  // sockets cost a syscall per request each way.
  Channel* c = nullptr;
  for (size_t tries = 0; tries < channels_.size() && !c; ++tries) {
    Channel& cand = channels_[(turn_ + tries) % channels_.size()];
    if (cand.have_cid) c = &cand;
  }
  if (!c) return pending_.finish(slot, p.gen, LoadError::kSendFailed, now);
  Batch& b = *c->batch;
  uint8_t* pkt = b.pkts[b.n].data();
  uint32_t tid = p.gen << PendingTable::kSlotBits | slot;
  LoadStep step = plan_.step(p.k);
  switch (step.kind) {
    case LoadKind::kAnnounce:
      udp_announce_request_into(pkt, c->cid, tid, plan_.request(step.index));
      b.lens[b.n] = kUdpAnnounceSize;
      break;
    case LoadKind::kScrape: {
      std::array<InfoHash, LoadPlan::kMaxScrapeHashes> hashes;
      size_t n = plan_.scrape_hashes(step.index, hashes);
      p.hashes = static_cast<uint8_t>(n);
      b.lens[b.n] = static_cast<uint16_t>(
          udp_scrape_request_into(pkt, c->cid, tid, std::span(hashes.data(), n)));
      break;
    }
    case LoadKind::kConnect:
      b.lens[b.n] = static_cast<uint16_t>(udp_connect_request_into(pkt, tid));
      break;
  }
  b.slots[b.n++] = slot;
  if (b.n == kBatch) {
    flush(*c, now);
    ++turn_;
  }
}

void UdpLoadChannels::flush(int64_t now) {
  bool any = false;
  for (auto& c : channels_)
    if (c.batch->n) {
      flush(c, now);
      any = true;
    }
  if (any) ++turn_;  // the next pass starts on the next socket
}

// Messages for requests [from, n): a run of equal-sized ones is one GSO
// message, each of the others a message of its own.
int UdpLoadChannels::build_messages(Batch& b, int from) const {
  int m = 0;
  for (int i = from; i < b.n;) {
    uint16_t len = b.lens[i];
    int j = i + 1;
    if (gso_ && len <= kMaxGsoSegment)
      while (j < b.n && b.lens[j] == len && size_t(j - i + 1) * len <= kMaxGsoBytes) ++j;
    for (int k = i; k < j; ++k) b.iov[k] = {b.pkts[k].data(), len};
    b.msgs[m] = {};
    msghdr& h = b.msgs[m].msg_hdr;
    h.msg_iov = &b.iov[i];
    h.msg_iovlen = static_cast<size_t>(j - i);
    if (j - i > 1) {
      h.msg_control = b.ctrl[m].data();
      h.msg_controllen = b.ctrl[m].size();
      cmsghdr* cm = CMSG_FIRSTHDR(&h);
      cm->cmsg_level = SOL_UDP;
      cm->cmsg_type = UDP_SEGMENT;
      cm->cmsg_len = CMSG_LEN(sizeof len);
      std::memcpy(CMSG_DATA(cm), &len, sizeof len);
    }
    b.first[m] = static_cast<uint8_t>(i);
    b.segments[m] = static_cast<uint8_t>(j - i);
    ++m;
    i = j;
  }
  return m;
}

// One sendmmsg for the staged requests; what the kernel refuses fails.
void UdpLoadChannels::flush(Channel& c, int64_t now) {
  Batch& b = *c.batch;
  LoadCounters& counters = pending_.counters();
  int done = 0;
  while (done < b.n) {
    int m = build_messages(b, done);
    int sent = sendmmsg(c.fd, b.msgs.data(), static_cast<unsigned>(m), 0);
    if (sent < 0 && gso_ && b.segments[0] > 1 && (errno == EIO || errno == EINVAL)) {
      gso_ = false;  // this kernel or device cannot segment UDP: send them one by one
      continue;
    }
    if (sent <= 0) break;
    for (int k = 0; k < sent; ++k) {
      if (b.segments[k] > 1) counters.udp_gso_sends.add();
      for (int i = b.first[k]; i < b.first[k] + b.segments[k]; ++i) {
        pending_.sent(b.slots[i], now);
        counters.udp_sent.add();
        counters.scrape_hashes.add(pending_.at(b.slots[i]).hashes);
      }
    }
    done = b.first[sent - 1] + b.segments[sent - 1];
  }
  for (int i = done; i < b.n; ++i)
    pending_.finish(b.slots[i], pending_.at(b.slots[i]).gen, LoadError::kSendFailed, now);
  b.n = 0;
}

// When the kernel received the datagram, on the monotonic clock.
int64_t UdpLoadChannels::arrival(msghdr& h, int64_t fallback) const {
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec - realtime_offset_;
    }
  return fallback;
}

void UdpLoadChannels::on_readable(uint32_t channel, int64_t fallback_now) {
  Channel& c = channels_[channel];
  alignas(cmsghdr) uint8_t ctrl[kBatch][CMSG_SPACE(sizeof(timespec))];
  iovec iov[kBatch];
  mmsghdr msgs[kBatch];
  for (;;) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {&replies_[size_t(i) * kMaxReply], kMaxReply};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = ctrl[i];
      msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i];
    }
    int n = recvmmsg(c.fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;  // EAGAIN, or ECONNREFUSED: requests then time out
    for (int i = 0; i < n; ++i) {
      // A reply longer than any valid one was cut by the kernel: it cannot
      // be checked, and it is not what was asked for.
      bool cut = msgs[i].msg_hdr.msg_flags & MSG_TRUNC;
      on_datagram(c, {&replies_[size_t(i) * kMaxReply], cut ? 0 : msgs[i].msg_len},
                  arrival(msgs[i].msg_hdr, fallback_now));
    }
    // A short batch drained the socket; asking again would only hear EAGAIN
    // (epoll is level-triggered: what arrives meanwhile wakes the loop).
    if (n < kBatch) return;
  }
}

void UdpLoadChannels::on_datagram(Channel& c, std::span<const uint8_t> d, int64_t now) {
  if (d.size() < 8) return pending_.counters().stray_replies.add();
  uint32_t action = uint32_t{d[0]} << 24 | d[1] << 16 | d[2] << 8 | d[3];
  uint32_t tid = uint32_t{d[4]} << 24 | d[5] << 16 | d[6] << 8 | d[7];
  if (action == 0 && tid == c.connect_tid && c.connect_sent) {
    if (d.size() < 16) return pending_.counters().stray_replies.add();
    uint64_t cid = 0;
    for (int b = 0; b < 8; ++b) cid = cid << 8 | d[8 + b];
    c.cid = cid;
    c.cid_at = now;
    c.have_cid = true;
    c.connect_sent = 0;
    return;
  }
  uint32_t slot = tid & PendingTable::kSlotMask, gen = tid >> PendingTable::kSlotBits;
  // A transaction id we are not waiting for (late, replayed, made up) is
  // counted as a stray, never taken for an answer.
  if (!pending_.valid_slot(slot) || !pending_.live(slot, gen))
    return pending_.counters().stray_replies.add();
  const PendingRequest& p = pending_.at(slot);
  ReplyFacts f;
  switch (p.kind) {
    case LoadKind::kAnnounce:
      f = check_udp_announce_reply(d, url_is_v6_);
      break;
    case LoadKind::kScrape:
      f = check_udp_scrape_reply(d, p.hashes);
      break;
    case LoadKind::kConnect:
      f.verdict = action == 3                     ? ReplyVerdict::kTrackerError
                  : action == 0 && d.size() >= 16 ? ReplyVerdict::kOk
                                                  : ReplyVerdict::kBadReply;
      break;
  }
  pending_.finish(slot, gen, f, now);
}

}  // namespace swarmdial
