#include "peer_pool.hpp"

#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unordered_set>

#include "engine/mono_clock.hpp"
#include "engine/peerwire/choker.hpp"
#include "engine/thread_name.hpp"
#include "send_buffer.hpp"
#include "uring/ring.hpp"

namespace swarmdial {

namespace {
enum Op : uint8_t { kAccept = 1, kRecv, kSend, kDoorbell };
constexpr uint32_t kBufGroup = 1;
constexpr uint32_t kRecvBufs = 256;
constexpr uint32_t kRecvBufSize = 16 * 1024;
// Blocks packed into one send: enough to keep a fast leecher's pipe full,
// few enough that an idle peer's buffer never grows.
constexpr uint32_t kBlocksPerSend = 4;
constexpr int64_t kTickNs = 1'000'000'000;
constexpr int64_t kAcceptRetryNs = 20'000'000;
constexpr int64_t kChokeIntervalNs = 10'000'000'000;
constexpr uint32_t kNoTorrent = UINT32_MAX;
// Withheld/restored pieces reach peers within this: the store's watcher
// looks at the files once a second, so a shorter look here gains little
// and wakes an idle worker more often.
constexpr int64_t kPieceEventCheckNs = 1'000'000'000;
// The longest a worker sleeps: its timers and the doorbell end a wait
// sooner. While sends wait for upload tokens it looks every 5 ms.
constexpr int64_t kMaxWaitNs = 1'000'000'000;
constexpr int64_t kPacedWaitNs = 5'000'000;
// A BitTorrent handshake names its torrent in bytes 28-47.
constexpr size_t kInfoHashAt = 28, kInfoHashEnd = 48;

uint64_t tag(uint32_t conn, uint32_t gen, Op op) {
  return (uint64_t{conn} << 32) | (uint64_t{gen & 0xffffff} << 8) | op;
}
}  // namespace

class PeerPool::Worker {
 public:
  Worker(PeerPool& pool, uint32_t index)
      : pool_(pool), index_(index), stats_(pool.stats_[index]), bell_(*pool.bells_[index]) {
    uint32_t w = pool.opts_.workers;
    choker_ = std::make_unique<Choker>(std::max(1u, pool.opts_.unchoke_slots / w));
    for (size_t i = index; i < pool.inputs_.size(); i += w) inputs_.push_back(pool.inputs_[i]);
    piece_events_seen_.assign(pool.slots(), 0);
    view_ = pool.view();
  }
  ~Worker() {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    ring_.reset();  // before the buffer ring it registered
    if (buf_ring_) munmap(buf_ring_, ring_bytes_);
    if (recv_bufs_) munmap(recv_bufs_, kRecvBytes);
  }

  // Runs on the caller's thread before the worker thread starts.
  void setup(std::optional<Endpoint> listen, uint16_t port_override) {
    RingSetup rs;
    rs.sq_entries = 1024;
    rs.cq_entries = 8192;
    ring_ = std::make_unique<Ring>(rs);
    if (pool_.opts_.zero_copy) {
      io_uring_probe* probe = io_uring_get_probe_ring(ring_->get());
      bool zc = probe && io_uring_opcode_supported(probe, IORING_OP_SEND_ZC);
      if (probe) io_uring_free_probe(probe);
      if (!zc) throw std::runtime_error("--send-zc: this kernel has no IORING_OP_SEND_ZC (6.0+)");
    }
    ring_bytes_ = kRecvBufs * sizeof(io_uring_buf);
    void* mem =
        mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) throw std::runtime_error("mmap of the receive buffer ring failed");
    buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(buf_ring_);
    reg.ring_entries = kRecvBufs;
    reg.bgid = kBufGroup;
    int rc = io_uring_register_buf_ring(ring_->get(), &reg, 0);
    if (rc < 0) throw std::runtime_error(std::string("provided buffer ring: ") + strerror(-rc));
    io_uring_buf_ring_init(buf_ring_);
    // Mapped, not zero-filled: a page counts in RSS only once the kernel
    // has received into it, so an idle worker does not hold 4 MiB.
    void* bufs =
        mmap(nullptr, kRecvBytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (bufs == MAP_FAILED) throw std::runtime_error("mmap of the receive buffers failed");
    recv_bufs_ = static_cast<uint8_t*>(bufs);
    for (uint32_t i = 0; i < kRecvBufs; ++i)
      io_uring_buf_ring_add(buf_ring_, &recv_bufs_[size_t{i} * kRecvBufSize], kRecvBufSize,
                            static_cast<uint16_t>(i), io_uring_buf_ring_mask(kRecvBufs),
                            static_cast<int>(i));
    io_uring_buf_ring_advance(buf_ring_, kRecvBufs);
    if (listen) open_listener(*listen, port_override);
    arm_doorbell();
  }

  uint16_t bound_port() const { return bound_port_; }

  void run() {
    int64_t next_tick = mono_ns() + kTickNs;
    int64_t next_choke = mono_ns() + kChokeIntervalNs;
    if (listen_fd_ >= 0) arm_accept();
    while (!pool_.stop_.load(std::memory_order_relaxed)) {
      if (pool_.version_.load(std::memory_order_acquire) != view_->version) take_new_view();
      if (!leaving_.empty()) finish_leaving();
      for (HandoffQueue* q : inputs_)
        while (auto h = q->try_pop()) add_conn(h->fd, true, h->row.target, h->row.tag);
      // Every torrent's store is looked at, so not on every pass: a node
      // seeding thousands would read thousands of counters per completion batch.
      if (int64_t t0 = mono_ns(); t0 >= next_piece_check_) {
        next_piece_check_ = t0 + kPieceEventCheckNs;
        for (uint32_t t = 0; t < view_->slots.size(); ++t)
          if (const PoolTorrent* pt = view_->slots[t];
              pt && pt->store->event_count() != piece_events_seen_[t])
            tell_piece_events(t);
      }
      flush_sends();
      int64_t wait = idle_wait_ns(std::min(next_tick, next_choke));
      if (wait > 0) {
        // The last look before sleeping comes after the doorbell says so.
        bell_.going_to_sleep();
        if (pool_.stop_.load() || has_handoffs()) wait = 0;
      }
      wait_and_handle(wait);
      bell_.awake();
      int64_t now = mono_ns();
      if (accept_rearm_ns_ && now >= accept_rearm_ns_) {
        accept_rearm_ns_ = 0;
        arm_accept();
      }
      if (now >= next_tick) {
        tick(now);
        next_tick = now + kTickNs;
      }
      if (now >= next_choke || choke_dirty_) {
        rechoke(now);
        if (now >= next_choke) next_choke = now + kChokeIntervalNs;
      }
    }
    shutdown_all();
  }

 private:
  struct Conn {
    int fd = -1;
    uint32_t gen = 0;
    bool outbound = false;
    Endpoint peer;  // outbound: the address we dialled (for a re-dial)
    bool closing = false;
    bool recv_armed = false;
    bool send_inflight = false;  // until the result (and, zero-copy, the notification) is in
    bool send_result_in = false;
    bool zc_notif_pending = false;
    int send_result = 0;
    bool handshook = false;
    // Outbound: the dial's tag. Inbound: unknown until the peer names it
    // (MSE's SKEY, or its BitTorrent handshake); the session starts then.
    uint32_t torrent = kNoTorrent;
    std::string sniff;  // inbound: the handshake's first bytes, until they name a torrent
    // Inbound MSE: the view whose SKEY table the handshake reads, kept
    // while it runs even if a torrent comes or goes meanwhile.
    std::shared_ptr<const PoolTorrentView> mse_view;
    std::unique_ptr<PeerSession> session;
    // MSE/PE: the handshake while it runs (nothing of the session goes out
    // meanwhile), then the RC4 streams when it chose them.
    std::unique_ptr<MseHandshake> mse;
    std::string mse_out;           // handshake bytes, already encrypted as MSE wants them
    Rc4Stream rc4_send, rc4_recv;  // set only when the handshake chose RC4
    std::string ctrl;              // control bytes waiting to go out
    SendBuffer send;               // the send in flight
    size_t send_off = 0;
    uint64_t send_payload = 0;
    uint64_t up_at_last_choke = 0;
    uint64_t rate = 0;
    int64_t connected_ns = 0;
  };

  void open_listener(const Endpoint& ep, uint16_t port_override) {
    Endpoint bind_ep = ep;
    if (port_override) bind_ep.port = port_override;
    int fd = ::socket(ep.ip.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // Every worker listens on the same port; the kernel spreads new peers.
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    sockaddr_storage sa;
    socklen_t len = to_sockaddr(bind_ep, sa);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) < 0 || ::listen(fd, 4096) < 0) {
      int e = errno;
      ::close(fd);
      throw std::runtime_error("--listen " + format_endpoint(bind_ep) + ": " + strerror(e));
    }
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    bound_port_ = ntohs(sa.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&sa)->sin_port
                                                : reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port);
    listen_fd_ = fd;
  }

  io_uring_sqe* sqe() { return ring_->sqe(); }

  void arm_accept() {
    io_uring_sqe* e = sqe();
    io_uring_prep_multishot_accept(e, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(e, tag(UINT32_MAX, 0, kAccept));
  }

  void arm_recv(uint32_t id) {
    Conn& c = *conns_[id];
    io_uring_sqe* e = sqe();
    io_uring_prep_recv_multishot(e, c.fd, nullptr, 0, 0);
    e->flags |= IOSQE_BUFFER_SELECT;
    e->buf_group = kBufGroup;
    io_uring_sqe_set_data64(e, tag(id, c.gen, kRecv));
    c.recv_armed = true;
  }

  void add_conn(int fd, bool outbound, const Endpoint& peer = {}, uint32_t torrent = kNoTorrent) {
    if (outbound && (torrent >= view_->slots.size() || !view_->slots[torrent])) {
      // Not ours: a dial nobody asked for, or for a torrent removed since.
      stats_
          .disconnects[static_cast<size_t>(torrent < view_->slots.size()
                                               ? Disconnect::kTorrentRemoved
                                               : Disconnect::kUnknownInfoHash)]
          .add();
      ::close(fd);
      return;
    }
    uint32_t id;
    if (!free_ids_.empty()) {
      id = free_ids_.back();
      free_ids_.pop_back();
    } else {
      id = static_cast<uint32_t>(conns_.size());
      conns_.push_back(std::make_unique<Conn>());
    }
    Conn& c = *conns_[id];
    uint32_t gen = c.gen + 1;
    c = Conn{};
    c.gen = gen;
    c.fd = fd;
    c.outbound = outbound;
    c.peer = peer;
    c.connected_ns = mono_ns();
    EncryptionPolicy enc = pool_.opts_.encryption;
    if (!outbound) {
      // Every inbound peer goes through it: a plaintext handshake passes at
      // once, unless encryption is required.
      c.mse_view = view_;
      c.mse = std::make_unique<MseHandshake>(MseHandshake::inbound(enc, *view_->skeys));
    } else {
      start_session(c, torrent);
    }
    if (outbound && (enc == EncryptionPolicy::kRequire ||
                     (enc == EncryptionPolicy::kPrefer && other_method_.count({peer, torrent})))) {
      // Our BitTorrent handshake rides with step 3 as the initial payload.
      c.mse = std::make_unique<MseHandshake>(
          MseHandshake::outbound(enc, view_->slots[torrent]->session.info_hash, c.ctrl));
      c.ctrl.clear();
      c.mse->start(c.mse_out);
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    (outbound ? stats_.peers_outbound : stats_.peers_inbound).add();
    pool_.connected_.fetch_add(1, std::memory_order_relaxed);
    arm_recv(id);
    live_.push_back(id);
  }

  void start_session(Conn& c, uint32_t torrent) {
    c.torrent = torrent;
    c.session =
        std::make_unique<PeerSession>(view_->slots[torrent]->session, c.outbound, c.connected_ns);
    c.session->start(c.ctrl);
  }

  // An inbound peer's first plaintext bytes (decrypted, after MSE) are held
  // until its handshake names a torrent. Returns what the new session is
  // to read, or nothing yet. A handshake for a torrent we do not serve is
  // cut off; under MSE the torrent is SKEY's, and a handshake that names
  // another is the session's to refuse.
  std::span<const uint8_t> route_inbound(uint32_t id, std::span<const uint8_t> data) {
    Conn& c = *conns_[id];
    c.sniff.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (c.sniff.size() < kInfoHashEnd) return {};
    uint32_t t = c.torrent;
    if (t == kNoTorrent) {
      InfoHash ih;
      std::memcpy(ih.data(), c.sniff.data() + kInfoHashAt, ih.size());
      auto it = view_->by_hash.find(ih);
      if (it != view_->by_hash.end()) {
        t = it->second;
      } else if (begins_bt_handshake(
                     {reinterpret_cast<const uint8_t*>(c.sniff.data()), c.sniff.size()})) {
        begin_close(id, Disconnect::kUnknownInfoHash);
        return {};
      } else if (view_->first != kNoTorrent) {
        t = view_->first;  // not a BitTorrent handshake: a session names the fault
      } else {
        begin_close(id, Disconnect::kBadHandshake);  // nothing is served at all now
        return {};
      }
    }
    start_session(c, t);
    return {reinterpret_cast<const uint8_t*>(c.sniff.data()), c.sniff.size()};
  }

  void on_accept(int res, uint32_t flags) {
    if (res == -EMFILE || res == -ENFILE) stats_.inbound_accept_failed_fds.add();
    if (!(flags & IORING_CQE_F_MORE) && !pool_.stop_.load()) {
      // An error ends a multishot accept. Out of descriptors, re-arming at
      // once would spin on the same error while the backlog waits; the
      // peers being served free descriptors as they leave, so try again a
      // little later and keep serving them meanwhile.
      if (res < 0)
        accept_rearm_ns_ = mono_ns() + kAcceptRetryNs;
      else
        arm_accept();
    }
    if (res < 0) return;
    if (pool_.connected_.load(std::memory_order_relaxed) >= pool_.opts_.max_peers) {
      stats_.inbound_rejected_full.add();
      ::close(res);
      return;
    }
    if (pool_.inbound_pacer_ && !pool_.inbound_pacer_->try_take(mono_ns())) {
      stats_.inbound_rejected_rate.add();
      ::close(res);
      return;
    }
    stats_.inbound_accepted.add();
    add_conn(res, false);
  }

  void recycle(uint16_t bid) {
    io_uring_buf_ring_add(buf_ring_, &recv_bufs_[size_t{bid} * kRecvBufSize], kRecvBufSize, bid,
                          io_uring_buf_ring_mask(kRecvBufs), 0);
    io_uring_buf_ring_advance(buf_ring_, 1);
  }

  void on_cqe(uint64_t ud, int res, uint32_t flags) {
    Op op = static_cast<Op>(ud & 0xff);
    if (op == kAccept) return on_accept(res, flags);
    if (op == kDoorbell) {
      if (!pool_.stop_.load(std::memory_order_relaxed)) arm_doorbell();
      return;
    }
    uint32_t id = static_cast<uint32_t>(ud >> 32);
    uint32_t gen = static_cast<uint32_t>((ud >> 8) & 0xffffff);
    if (id >= conns_.size()) return;
    Conn& c = *conns_[id];
    if ((c.gen & 0xffffff) != gen) {
      if (flags & IORING_CQE_F_BUFFER) recycle(static_cast<uint16_t>(flags >> 16));
      return;
    }
    if (op == kRecv) {
      if (flags & IORING_CQE_F_BUFFER) {
        uint16_t bid = static_cast<uint16_t>(flags >> 16);
        if (res > 0 && !c.closing) {
          uint8_t* bytes = &recv_bufs_[size_t{bid} * kRecvBufSize];
          std::span<const uint8_t> data(bytes, static_cast<size_t>(res));
          if (c.mse) {
            data = through_mse(id, data);
          } else if (c.rc4_recv) {
            c.rc4_recv.apply(bytes, data.size());  // our buffer until recycled
          }
          if (!c.session && !c.closing && !data.empty()) {
            data = route_inbound(id, data);  // a copy: the handshake's payload may go
            c.mse.reset();
          }
          bool was_interested = c.session && c.session->peer_interested();
          if (c.closing || data.empty()) {
            // the handshake is still going, or it failed
          } else if (!c.session->on_receive(data, mono_ns(), c.ctrl)) {
            begin_close(id);
          } else if (c.session->peer_interested() != was_interested) {
            choke_dirty_ = true;
          }
          if (c.session && !data.empty()) {
            if (c.mse && !c.mse->payload().empty()) c.mse.reset();  // its payload was fed
            if (!c.sniff.empty()) c.sniff = {};
          }
          if (!c.handshook && c.session && c.session->handshake_done()) {
            c.handshook = true;
            stats_.peers_served.add();
            stats_.torrents[c.torrent].peers_served.add();
            if (c.rc4_send) stats_.peers_encrypted.add();
          }
        }
        recycle(bid);
      }
      if (!(flags & IORING_CQE_F_MORE)) {
        c.recv_armed = false;
        if (res == -ENOBUFS && !c.closing) {
          arm_recv(id);  // all buffers were busy for a moment: try again
        } else if (!c.closing) {
          if (res == 0 && c.session) c.session->on_receive({}, mono_ns(), c.ctrl);  // peer_closed
          begin_close(id, res == 0 ? Disconnect::kPeerClosed : Disconnect::kIoError);
        }
      }
    } else if (op == kSend) {
      if (flags & IORING_CQE_F_NOTIF) {
        // Zero-copy: the kernel is done with the buffer only now.
        c.zc_notif_pending = false;
        stats_.zero_copy_sends.add();
      } else {
        c.send_result = res;
        c.send_result_in = true;
        if (flags & IORING_CQE_F_MORE) c.zc_notif_pending = true;
      }
      if (c.send_result_in && !c.zc_notif_pending) on_send_done(id);
    }
    maybe_free(id);
  }

  // Runs received bytes through the MSE handshake. Returns what is for the
  // peer-wire session: nothing while the handshake runs, then the payload
  // that came with it (decrypted). A failed handshake closes the peer.
  std::span<const uint8_t> through_mse(uint32_t id, std::span<const uint8_t> data) {
    Conn& c = *conns_[id];
    MseStatus st = c.mse->on_receive(data, c.mse_out);
    if (st == MseStatus::kFailed) {
      begin_close(id, mse_disconnect(c.mse->failure()));
      return {};
    }
    if (st == MseStatus::kMore) return {};
    if (c.mse->rc4()) {
      c.rc4_send = c.mse->take_send();
      c.rc4_recv = c.mse->take_recv();
    }
    if (!c.outbound && c.mse->encrypted()) {
      auto it = view_->by_hash.find(c.mse->skey());
      if (it == view_->by_hash.end()) {  // removed while the handshake ran
        begin_close(id, Disconnect::kTorrentRemoved);
        return {};
      }
      c.torrent = it->second;
    }
    std::span<const uint8_t> payload = c.mse->payload();
    if (payload.empty()) c.mse.reset();
    return payload;  // the handshake object holds it until the session has read it
  }

  static Disconnect mse_disconnect(MseFailure f) {
    switch (f) {
      case MseFailure::kPlaintextRefused:
        return Disconnect::kPlaintextRefused;
      case MseFailure::kEncryptedRefused:
        return Disconnect::kEncryptedRefused;
      case MseFailure::kUnknownInfoHash:
        return Disconnect::kUnknownInfoHash;
      default:
        return Disconnect::kBadEncryption;
    }
  }

  void on_send_done(uint32_t id) {
    Conn& c = *conns_[id];
    int res = c.send_result;
    c.send_inflight = false;
    c.send_result_in = false;
    if (res <= 0) {
      if (!c.closing) begin_close(id, Disconnect::kIoError);
      return;
    }
    c.send_off += static_cast<size_t>(res);
    if (c.send_off < c.send.size()) {
      if (!c.closing) submit_send(id);
      return;
    }
    if (c.session) c.session->on_sent(c.send_payload, mono_ns());
    stats_.bytes_up.add(c.send_payload);
    if (c.torrent != kNoTorrent) stats_.torrents[c.torrent].bytes_up.add(c.send_payload);
    c.send_payload = 0;
    c.send.clear();
    c.send_off = 0;
  }

  void submit_send(uint32_t id) {
    Conn& c = *conns_[id];
    io_uring_sqe* e = sqe();
    // Zero-copy pins the buffer until its notification; the buffer is the
    // connection's own and is not touched until then (encrypted peers' too:
    // RC4 runs before the send).
    if (pool_.opts_.zero_copy)
      io_uring_prep_send_zc(e, c.fd, c.send.data() + c.send_off, c.send.size() - c.send_off,
                            MSG_NOSIGNAL, 0);
    else
      io_uring_prep_send(e, c.fd, c.send.data() + c.send_off, c.send.size() - c.send_off,
                         MSG_NOSIGNAL);
    io_uring_sqe_set_data64(e, tag(id, c.gen, kSend));
    c.send_inflight = true;
  }

  // Packs control bytes and up to kBlocksPerSend blocks into the connection's
  // send buffer and sends it.
  void fill_and_send(uint32_t id, int64_t now) {
    Conn& c = *conns_[id];
    if (c.closing || c.send_inflight || !c.send.empty()) return;
    c.send.append(c.mse_out.data(), c.mse_out.size());
    c.mse_out.clear();
    if (c.mse || !c.session) {  // nothing of the session goes out before the handshake ends
      if (!c.send.empty()) submit_from_start(id);
      return;
    }
    size_t encrypt_from = c.send.size();
    c.send.append(c.ctrl.data(), c.ctrl.size());
    c.ctrl.clear();
    const PieceStore& store = *view_->slots[c.torrent]->store;
    const Metainfo& meta = store.meta();
    for (uint32_t n = 0; n < kBlocksPerSend; ++n) {
      if (c.session->queued_requests() == 0 || c.session->am_choking()) break;
      if (pool_.upload_pacer_ && !pool_.upload_pacer_->try_take(now)) {
        upload_starved_ = true;
        break;
      }
      auto r = c.session->pop_request();
      if (!r) break;
      if (store.withheld(r->piece)) {
        withhold(c, *r);
        continue;
      }
      uint8_t* at = c.send.grow(13 + r->length);
      PeerSession::piece_header(*r, at);
      if (!store.read(r->piece, r->begin, r->length, at + 13)) {
        c.send.shrink(13 + r->length);
        // A file shrank under us: the store now withholds the piece.
        if (store.withheld(r->piece)) {
          withhold(c, *r);
          continue;
        }
        begin_close(id, Disconnect::kIoError);
        return;
      }
      c.send_payload += r->length;
      stats_.blocks_served.add();
      if (r->begin + r->length == meta.piece_size(r->piece)) {
        stats_.pieces_served.add();
        stats_.torrents[c.torrent].pieces_served.add();
      }
    }
    if (c.rc4_send && c.send.size() > encrypt_from)
      c.rc4_send.apply(c.send.data() + encrypt_from, c.send.size() - encrypt_from);
    if (!c.send.empty()) submit_from_start(id);
  }

  void submit_from_start(uint32_t id) {
    conns_[id]->send_off = 0;
    submit_send(id);
  }

  // A piece that changed on disk is not served until it verifies again:
  // a fast-extension peer is told so (BEP 6 reject) and asks someone else;
  // any other peer's request is dropped, and it times out as for any slow
  // seeder. Rare, so the reject's allocation does not matter.
  void withhold(Conn& c, const BlockRequest& r) {
    stats_.requests_withheld.add();
    std::string out;
    c.session->refuse(r, out);
    c.send.append(out.data(), out.size());
  }

  // Pieces withheld or restored since we last looked go to every peer of the torrent.
  void tell_piece_events(uint32_t t) {
    piece_events_.clear();
    piece_events_seen_[t] =
        view_->slots[t]->store->events_since(piece_events_seen_[t], piece_events_);
    for (uint32_t id : live_) {
      Conn& c = *conns_[id];
      if (c.closing || c.torrent != t || !c.session) continue;
      for (const auto& e : piece_events_) {
        if (e.restored)
          c.session->on_piece_restored(e.piece, c.ctrl);
        else
          c.session->on_piece_withheld(e.piece, c.ctrl);
      }
    }
  }

  void flush_sends() {
    upload_starved_ = false;
    int64_t now = mono_ns();
    for (uint32_t id : live_) fill_and_send(id, now);
  }

  void begin_close(uint32_t id, Disconnect why = Disconnect::kNone) {
    Conn& c = *conns_[id];
    if (c.closing) return;
    c.closing = true;
    Disconnect reason =
        c.session && c.session->reason() != Disconnect::kNone ? c.session->reason() : why;
    if (reason == Disconnect::kNone) reason = Disconnect::kShutdown;
    stats_.disconnects[static_cast<size_t>(reason)].add();
    if (c.outbound) {
      note_method_failure(c, reason);
      report_end(c, reason);
    }
    // Shutting the socket down completes the multishot receive and any send,
    // so the slot is freed once their last CQEs are in.
    ::shutdown(c.fd, SHUT_RDWR);
    choke_dirty_ = true;
  }

  // Under --encryption prefer an outbound peer is dialled in plaintext, and
  // one that turned the handshake away is dialled with MSE next time, and
  // back again if that fails too (rtorrent's "retry with encryption"; a
  // client that requires encryption closes a plaintext handshake). The
  // shard that owns a peer always hands its flows to the same worker, so
  // this worker sees every attempt to it.
  void note_method_failure(const Conn& c, Disconnect reason) {
    if (pool_.opts_.encryption != EncryptionPolicy::kPrefer || c.handshook) return;
    if (reason != Disconnect::kPeerClosed && reason != Disconnect::kIoError &&
        reason != Disconnect::kBadEncryption && reason != Disconnect::kHandshakeTimeout)
      return;
    DialTarget d{c.peer, c.torrent};
    if (!other_method_.erase(d)) other_method_.insert(d);
  }

  // The run's re-dial planner decides whether this peer is dialled again.
  void report_end(const Conn& c, Disconnect reason) {
    OutboundEnd e;
    e.peer = c.peer;
    e.torrent = c.torrent;
    e.end.reason = reason;
    const SessionConfig& sc = c.session->config();
    e.end.peer_complete = c.session->peer_have_count() == sc.num_pieces ||
                          (sc.have_count == sc.num_pieces && c.session->peer_lost_interest());
    e.end.bytes_up = c.session->bytes_uploaded();
    if (!pool_.ended_[index_]->try_push(e)) stats_.ends_unreported.add();
  }

  void maybe_free(uint32_t id) {
    Conn& c = *conns_[id];
    if (!c.closing || c.recv_armed || c.send_inflight || c.fd < 0) return;
    ::close(c.fd);
    c.fd = -1;
    (c.outbound ? stats_.peers_outbound : stats_.peers_inbound)
        .set((c.outbound ? stats_.peers_outbound : stats_.peers_inbound).get() - 1);
    pool_.connected_.fetch_sub(1, std::memory_order_relaxed);
    c.session.reset();
    c.mse.reset();
    c.mse_view.reset();
    c.rc4_send = Rc4Stream{};
    c.rc4_recv = Rc4Stream{};
    c.send.release();
    c.ctrl = {};
    c.sniff = {};
    std::erase(live_, id);
    free_ids_.push_back(id);
  }

  void tick(int64_t now) {
    for (uint32_t id : std::vector<uint32_t>(live_)) {
      Conn& c = *conns_[id];
      if (c.closing) continue;
      if (!c.session) {  // an inbound peer that has not named its torrent yet
        if (now - c.connected_ns > SessionConfig{}.handshake_timeout_ns)
          begin_close(id, Disconnect::kHandshakeTimeout);
        continue;
      }
      if (!c.session->on_tick(now, c.ctrl)) begin_close(id);
    }
  }

  void rechoke(int64_t now) {
    choke_dirty_ = false;
    std::vector<ChokerPeer> peers;
    for (uint32_t id : live_) {
      Conn& c = *conns_[id];
      if (c.closing || !c.session || !c.session->handshake_done()) continue;
      uint64_t up = c.session->bytes_uploaded();
      c.rate = up - c.up_at_last_choke;
      c.up_at_last_choke = up;
      peers.push_back({id, c.session->peer_interested(), c.rate});
    }
    auto unchoke = choker_->decide(peers, now);
    for (const auto& p : peers) {
      bool u = std::find(unchoke.begin(), unchoke.end(), p.id) != unchoke.end();
      Conn& c = *conns_[p.id];
      c.session->set_choked(!u, c.ctrl);
    }
  }

  // How long the loop may sleep: until its next timer, the shards ring for
  // a handoff and stop() rings too. Sends that ran out of upload tokens are
  // retried every 5 ms (the pacer refills continuously, nobody rings).
  int64_t idle_wait_ns(int64_t next_timer) const {
    int64_t until = std::min(next_timer, next_piece_check_);
    if (accept_rearm_ns_) until = std::min(until, accept_rearm_ns_);
    int64_t wait = std::clamp<int64_t>(until - mono_ns(), 0, kMaxWaitNs);
    return upload_starved_ ? std::min(wait, kPacedWaitNs) : wait;
  }

  bool has_handoffs() const {
    for (const HandoffQueue* q : inputs_)
      if (!q->empty()) return true;
    return false;
  }

  void arm_doorbell() {
    io_uring_sqe* e = sqe();
    io_uring_prep_read(e, bell_.fd(), &bell_count_, sizeof bell_count_, 0);
    io_uring_sqe_set_data64(e, tag(UINT32_MAX, 0, kDoorbell));
  }

  // Submits what is queued, waits up to wait_ns for a completion, and
  // handles every completion that is in.
  void wait_and_handle(int64_t wait_ns) {
    __kernel_timespec ts{0, wait_ns};
    io_uring_cqe* cqe;
    io_uring_submit_and_wait_timeout(ring_->get(), &cqe, 1, &ts, nullptr);
    unsigned head, seen = 0;
    io_uring_for_each_cqe(ring_->get(), head, cqe) {
      ++seen;
      on_cqe(cqe->user_data, cqe->res, cqe->flags);
    }
    io_uring_cq_advance(ring_->get(), seen);
  }

  // A torrent came or went. The peers of one that went are closed; the
  // pool hears that this worker is done with it once they are all freed.
  void take_new_view() {
    std::shared_ptr<const PoolTorrentView> next = pool_.view();
    for (uint32_t t = 0; t < next->slots.size(); ++t) {
      const PoolTorrent* was = t < view_->slots.size() ? view_->slots[t] : nullptr;
      if (was == next->slots[t]) continue;
      piece_events_seen_[t] = 0;
      if (was) leaving_.push_back(t);
    }
    view_ = std::move(next);
    for (uint32_t id : std::vector<uint32_t>(live_)) {
      Conn& c = *conns_[id];
      if (c.torrent != kNoTorrent &&
          std::find(leaving_.begin(), leaving_.end(), c.torrent) != leaving_.end())
        begin_close(id, Disconnect::kTorrentRemoved);
    }
    finish_leaving();
  }

  void finish_leaving() {
    for (uint32_t id : live_) {
      uint32_t t = conns_[id]->torrent;
      if (t != kNoTorrent && std::find(leaving_.begin(), leaving_.end(), t) != leaving_.end())
        return;  // still closing
    }
    leaving_.clear();
    pool_.acked_[index_].store(view_->version, std::memory_order_release);
  }

  void shutdown_all() {
    for (uint32_t id : std::vector<uint32_t>(live_)) begin_close(id, Disconnect::kShutdown);
    int64_t deadline = mono_ns() + 2'000'000'000;
    while (!live_.empty() && mono_ns() < deadline) wait_and_handle(20'000'000);
    for (uint32_t id : live_)
      if (conns_[id]->fd >= 0) ::close(conns_[id]->fd);
  }

  PeerPool& pool_;
  uint32_t index_;
  WorkerStats& stats_;
  std::unique_ptr<Ring> ring_;  // set up in setup(): a worker exists before its ring
  io_uring_buf_ring* buf_ring_ = nullptr;
  size_t ring_bytes_ = 0;
  static constexpr size_t kRecvBytes = size_t{kRecvBufs} * kRecvBufSize;
  uint8_t* recv_bufs_ = nullptr;
  int listen_fd_ = -1;
  int64_t accept_rearm_ns_ = 0;
  std::shared_ptr<const PoolTorrentView> view_;
  std::vector<uint32_t> leaving_;            // slots removed whose peers are still closing
  std::vector<uint64_t> piece_events_seen_;  // per slot
  int64_t next_piece_check_ = 0;
  std::vector<PieceStore::PieceEvent> piece_events_;  // a failed multishot accept is re-armed then
  uint16_t bound_port_ = 0;
  std::vector<HandoffQueue*> inputs_;
  EventfdDoorbell& bell_;
  uint64_t bell_count_ = 0;      // the armed eventfd read's buffer
  bool upload_starved_ = false;  // a send stopped for want of upload tokens
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<uint32_t> free_ids_;
  std::vector<uint32_t> live_;
  std::unique_ptr<Choker> choker_;
  bool choke_dirty_ = false;
  struct DialTargetHasher {
    size_t operator()(const DialTarget& d) const { return dial_target_hash(d); }
  };
  // Outbound peers to dial with the other handshake than the policy's first
  // choice, per torrent: a peer that closes a dial for a torrent it does not
  // have says nothing about how it wants the others (see note_method_failure).
  std::unordered_set<DialTarget, DialTargetHasher> other_method_;
};

PeerPool::PeerPool(PoolOptions opts, std::vector<PoolTorrent> torrents,
                   std::vector<HandoffQueue*> outbound_inputs)
    : opts_(std::move(opts)),
      inputs_(std::move(outbound_inputs)),
      stats_(std::max(1u, opts_.workers)) {
  if (torrents.empty() && opts_.torrent_slots == 0)
    throw std::invalid_argument("PeerPool: no torrent to serve, and no room for one");
  uint32_t slots = std::max<uint32_t>(opts_.torrent_slots, static_cast<uint32_t>(torrents.size()));
  owned_.resize(slots);
  for (uint32_t i = 0; i < torrents.size(); ++i)
    owned_[i] = std::make_unique<PoolTorrent>(std::move(torrents[i]));
  for (auto& s : stats_) s.torrents = std::vector<TorrentCounters>(slots);
  acked_ = std::make_unique<std::atomic<uint64_t>[]>(std::max(1u, opts_.workers));
  {
    std::lock_guard lock(view_mu_);
    publish();
  }
  opts_.workers = std::max(1u, opts_.workers);
  for (uint32_t i = 0; i < opts_.workers; ++i)
    bells_.push_back(std::make_unique<EventfdDoorbell>());
  for (size_t i = 0; i < inputs_.size(); ++i)
    inputs_[i]->set_doorbell(bells_[i % opts_.workers].get());
  for (uint32_t i = 0; i < opts_.workers; ++i)
    ended_.push_back(std::make_unique<SpscQueue<OutboundEnd>>(kEndedQueueSize));
  if (opts_.inbound_rate > 0)
    inbound_pacer_ = std::make_unique<SharedPacer>(opts_.inbound_rate, 4, mono_ns());
  // One token per 16 KiB block; a burst of 16 blocks keeps sends batched.
  if (opts_.upload_limit > 0)
    upload_pacer_ = std::make_unique<SharedPacer>(opts_.upload_limit / kMaxBlock, 16, mono_ns());
}

PeerPool::~PeerPool() {
  stop();
  for (HandoffQueue* q : inputs_) q->set_doorbell(nullptr);
}

void PeerPool::publish() {
  auto v = std::make_shared<PoolTorrentView>();
  v->version = version_.load(std::memory_order_relaxed) + 1;
  v->slots.resize(owned_.size());
  std::vector<InfoHash> hashes;
  for (uint32_t i = 0; i < owned_.size(); ++i) {
    if (!owned_[i]) continue;
    v->slots[i] = owned_[i].get();
    v->by_hash.emplace(owned_[i]->session.info_hash, i);
    hashes.push_back(owned_[i]->session.info_hash);
    if (v->first == UINT32_MAX) v->first = i;
  }
  v->skeys = std::make_unique<MseSkeys>(hashes);
  view_ = std::move(v);
  version_.store(view_->version, std::memory_order_release);
  for (auto& b : bells_) b->ring();  // a sleeping worker takes it now
}

std::shared_ptr<const PoolTorrentView> PeerPool::view() const {
  std::lock_guard lock(view_mu_);
  return view_;
}

void PeerPool::add_torrent(uint32_t slot, PoolTorrent t) {
  std::lock_guard lock(view_mu_);
  if (slot >= owned_.size() || owned_[slot])
    throw std::invalid_argument("PeerPool: slot " + std::to_string(slot) + " is not free");
  // No worker counts for a slot that is free (its peers were all freed).
  for (auto& s : stats_) {
    s.torrents[slot].peers_served.set(0);
    s.torrents[slot].bytes_up.set(0);
    s.torrents[slot].pieces_served.set(0);
  }
  owned_[slot] = std::make_unique<PoolTorrent>(std::move(t));
  publish();
}

uint64_t PeerPool::remove_torrent(uint32_t slot) {
  std::lock_guard lock(view_mu_);
  if (slot >= owned_.size() || !owned_[slot]) return 0;
  retired_.emplace_back(version_.load() + 1, std::move(owned_[slot]));
  publish();
  return view_->version;
}

bool PeerPool::removed(uint64_t ticket) {
  uint64_t all = UINT64_MAX;  // not started, or stopped: no worker holds anything
  for (uint32_t i = 0; i < threads_.size(); ++i)
    all = std::min(all, acked_[i].load(std::memory_order_acquire));
  std::lock_guard lock(view_mu_);
  std::erase_if(retired_, [&](const auto& r) { return r.first <= all; });
  return ticket <= all;
}

void PeerPool::start() {
  for (uint32_t i = 0; i < opts_.workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(*this, i));
    // The first listener picks the port (0 = any); the others share it.
    workers_.back()->setup(opts_.listen, listen_port_);
    if (i == 0 && opts_.listen) listen_port_ = workers_.back()->bound_port();
  }
  for (uint32_t i = 0; i < workers_.size(); ++i)
    threads_.emplace_back([w = workers_[i].get(), i] {
      name_this_thread("sd-peers", i);
      w->run();
    });
}

void PeerPool::stop() {
  stop_.store(true);
  for (auto& b : bells_) b->ring();
  for (auto& t : threads_) t.join();
  threads_.clear();
  workers_.clear();
}

PoolTotals PeerPool::totals() const {
  PoolTotals t;
  for (const auto& s : stats_) {
    t.peers_outbound += s.peers_outbound.get();
    t.peers_inbound += s.peers_inbound.get();
    t.inbound_accepted += s.inbound_accepted.get();
    t.inbound_rejected_full += s.inbound_rejected_full.get();
    t.inbound_rejected_rate += s.inbound_rejected_rate.get();
    t.inbound_accept_failed_fds += s.inbound_accept_failed_fds.get();
    t.requests_withheld += s.requests_withheld.get();
    t.peers_served += s.peers_served.get();
    t.peers_encrypted += s.peers_encrypted.get();
    t.zero_copy_sends += s.zero_copy_sends.get();
    t.bytes_up += s.bytes_up.get();
    t.blocks_served += s.blocks_served.get();
    t.pieces_served += s.pieces_served.get();
    for (size_t i = 0; i < t.disconnects.size(); ++i) t.disconnects[i] += s.disconnects[i].get();
    t.ends_unreported += s.ends_unreported.get();
  }
  return t;
}

std::vector<TorrentTotals> PeerPool::torrent_totals() const {
  std::vector<TorrentTotals> t(owned_.size());
  for (const auto& s : stats_)
    for (size_t i = 0; i < t.size(); ++i) {
      t[i].peers_served += s.torrents[i].peers_served.get();
      t[i].bytes_up += s.torrents[i].bytes_up.get();
      t[i].pieces_served += s.torrents[i].pieces_served.get();
    }
  return t;
}

std::optional<OutboundEnd> PeerPool::pop_ended() {
  for (size_t n = 0; n < ended_.size(); ++n) {
    auto& q = ended_[next_ended_++ % ended_.size()];
    if (auto e = q->try_pop()) return e;
  }
  return std::nullopt;
}

}  // namespace swarmdial
