#include "seed_run.hpp"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "engine/metrics_text.hpp"
#include "engine/mono_clock.hpp"
#include "engine/shard_group.hpp"
#include "engine/thread_name.hpp"
#include "metrics_http_server.hpp"
#include "open_backend.hpp"
#include "report/summaries.hpp"
#include "uring/ring.hpp"

namespace swarmdial {

namespace {

constexpr int64_t kMaxRedialDelayNs = 60'000'000'000;

SeedCounters seed_counters(const PoolTotals& t, const RedialCounts& r) {
  SeedCounters s;
  for (size_t i = 0; i < RedialCounts::kCauses; ++i) {
    std::string name(redial_cause_name(static_cast<RedialCause>(i)));
    s.redials.emplace_back(name, r.redials[i]);
    s.given_up.emplace_back(name, r.given_up[i]);
  }
  s.inbound_accepted = t.inbound_accepted;
  s.inbound_rejected_full = t.inbound_rejected_full;
  s.inbound_rejected_rate = t.inbound_rejected_rate;
  s.inbound_accept_failed_fds = t.inbound_accept_failed_fds;
  s.upload_bytes = t.bytes_up;
  s.pieces_served = t.pieces_served;
  s.disconnects = disconnect_list(t);
  return s;
}

BackendOptions backend_options(const SeedConfig& cfg, const std::vector<SeedTorrent>& torrents) {
  BackendOptions o;
  o.kind = cfg.backend;
  o.shards = cfg.shards;
  o.shards_given = true;
  o.half_open = cfg.half_open;
  o.sources = cfg.addresses.sources;
  o.dpdk_args = cfg.addresses.dpdk_args;
  o.gateway = cfg.addresses.gateway;
  o.handoff = true;  // established flows become kernel sockets for the pool
  // The piece store keeps every data file open for the whole run.
  uint64_t files = 0;
  for (const auto& t : torrents) files += PieceStore::descriptors_needed(*t.meta);
  o.consumer_fds = uint64_t{cfg.max_peers} + 256 + files;
  o.consumer_fds_why = "--max-peers " + std::to_string(cfg.max_peers) + " and " +
                       std::to_string(files) + " data files";
  return o;
}

SessionConfig session_config(const Metainfo& meta, const PieceStore& store, const PeerId& id) {
  SessionConfig s;
  s.info_hash = meta.info_hash;
  s.peer_id = id;
  s.num_pieces = meta.num_pieces;
  s.piece_length = meta.piece_length;
  s.total_length = meta.total_length;
  s.have = &store.have_bitfield();
  s.have_count = store.have_count();
  s.withheld = store.withheld_flags();
  return s;
}

PoolOptions pool_options(const SeedConfig& cfg) {
  PoolOptions po;
  po.workers = cfg.workers;
  po.listen = cfg.listen;
  po.max_peers = cfg.max_peers;
  po.inbound_rate = cfg.inbound_rate;
  po.upload_limit = cfg.upload_limit;
  po.unchoke_slots = cfg.unchoke_slots;
  po.zero_copy = cfg.send_zc;
  po.encryption = cfg.encryption;
  return po;
}

}  // namespace

TorrentSlots::TorrentSlots(uint32_t slots, const std::vector<SeedTorrent>& first,
                           int64_t quarantine_ns)
    : quarantine_ns_(quarantine_ns),
      state_(std::max<size_t>(slots, first.size()), State::kFree),
      freed_at_(state_.size(), INT64_MIN / 2),
      stores_(state_.size(), nullptr),
      removed_(state_.size()) {
  for (size_t i = 0; i < first.size(); ++i) {
    state_[i] = State::kSeeded;
    stores_[i] = first[i].store;
  }
}

std::optional<uint32_t> TorrentSlots::reserve(int64_t now_ns) {
  std::lock_guard lock(mu_);
  if (ended_) return std::nullopt;
  for (uint32_t i = 0; i < state_.size(); ++i)
    if (state_[i] == State::kFree && now_ns - freed_at_[i] >= quarantine_ns_) {
      state_[i] = State::kReserved;
      return i;
    }
  return std::nullopt;
}

void TorrentSlots::unreserve(uint32_t slot) {
  std::lock_guard lock(mu_);
  if (slot < state_.size() && state_[slot] == State::kReserved) state_[slot] = State::kFree;
}

void TorrentSlots::add(uint32_t slot, SeedTorrent t, std::vector<DialTarget> dials,
                       std::vector<PeerSource> sources) {
  std::lock_guard lock(mu_);
  if (slot >= state_.size() || state_[slot] != State::kReserved) return;
  state_[slot] = State::kSeeded;
  stores_[slot] = t.store;
  for (auto& d : dials) d.tag = slot;
  requests_.push_back({true, slot, t, std::move(dials), std::move(sources)});
}

std::optional<RemovedTorrent> TorrentSlots::remove(uint32_t slot) {
  std::unique_lock lock(mu_);
  if (slot >= state_.size() || state_[slot] != State::kSeeded || ended_) return std::nullopt;
  state_[slot] = State::kRemoving;
  stores_[slot] = nullptr;
  requests_.push_back({false, slot, {}, {}, {}});
  cv_.wait(lock, [&] { return ended_ || state_[slot] == State::kRemoved; });
  return std::exchange(removed_[slot], std::nullopt);
}

void TorrentSlots::release(uint32_t slot, int64_t now_ns) {
  std::lock_guard lock(mu_);
  if (slot >= state_.size() || state_[slot] != State::kRemoved) return;
  state_[slot] = State::kFree;
  freed_at_[slot] = now_ns;
}

std::vector<PieceStore*> TorrentSlots::stores() const {
  std::lock_guard lock(mu_);
  std::vector<PieceStore*> out;
  for (PieceStore* s : stores_)
    if (s) out.push_back(s);
  return out;
}

uint32_t TorrentSlots::seeded() const {
  std::lock_guard lock(mu_);
  return static_cast<uint32_t>(std::count(state_.begin(), state_.end(), State::kSeeded) +
                               std::count(state_.begin(), state_.end(), State::kRemoving));
}

namespace {

// Dial outcomes and ended sessions feed the re-dial planner and the peer
// book; due re-dials and peers new to the book (a tracker's) join the dial
// scheduler, which hands dials to the shards' feed fairly across torrents,
// and so to the budget. The metrics thread reads a copy of the counts.
class RedialLoop {
 public:
  RedialLoop(const SeedConfig& cfg, ShardGroup& shards, PeerPool& pool, DialScheduler& dials,
             const SeedHooks& hooks, uint32_t torrents)
      : shards_(shards),
        pool_(pool),
        dials_(dials),
        hooks_(hooks),
        planner_(policy(cfg)),
        book_({}, torrents),
        seeded_(torrents, 0),
        max_queued_(shard_queue_length(cfg, shards)) {}

  void seed(uint32_t slot) { seeded_.at(slot) = 1; }
  // The torrent is no longer seeded: its dials are dropped, waiting or due,
  // and its peers leave the book. Returns its book's final counts.
  PeerBookCounts unseed(uint32_t slot) {
    seeded_.at(slot) = 0;
    dials_.clear(slot);
    return book_.drop_torrent(slot);
  }

  // The peers the run starts with (already given to the shards or the
  // scheduler).
  void book_listed(const std::vector<DialTarget>& list, const std::vector<PeerSource>* sources,
                   int64_t now) {
    for (size_t i = 0; i < list.size(); ++i)
      book_.listed(list[i], sources && i < sources->size() ? (*sources)[i] : PeerSource::kFlag,
                   now);
  }

  // How many rows it took.
  size_t drain_rows(int64_t now) {
    size_t n = 0;
    for (auto* q : shards_.row_queues())
      while (auto row = q->try_pop()) {
        ++n;
        DialTarget d{row->target, row->tag};
        book_.on_dial_result(d, row->outcome, planner_.on_connect_failed(d, row->outcome, now),
                             now);
        if (hooks_.on_row) hooks_.on_row(*row);
      }
    return n;
  }

  // True when anything moved or waits to: the loop then keeps its short tick.
  bool step(int64_t now) {
    bool moved = drain_rows(now) > 0;
    while (auto e = pool_.pop_ended()) {
      moved = true;
      DialTarget d{e->peer, e->torrent};
      book_.on_session_end(d, e->end.peer_complete, planner_.on_session_end(d, e->end, now), now);
    }
    for (const DialTarget& d : inbox_.take()) {
      moved = true;
      if (d.tag < seeded_.size() && seeded_[d.tag] && book_.listed(d, PeerSource::kTracker, now))
        dials_.add(d);
    }
    if (now - last_forget_ >= 1'000'000'000) {
      book_.forget(now);
      last_forget_ = now;
    }
    if (shards_.size() > 0) {
      planner_.take_due(now, [&](const DialTarget& d) {
        if (!seeded_[d.tag]) return true;  // its torrent went: the re-dial goes too
        if (!dials_.add(d)) return false;
        book_.on_redial(d, now);
        moved = true;
        return true;
      });
      dials_.drain([&](const DialTarget& d) {
        return shards_.feed().push_if_room(d.target, d.tag, max_queued_);
      });
    }
    std::lock_guard lock(copy_mu_);
    copy_ = planner_.counts();
    book_copy_ = book_.totals();
    return moved || dials_.waiting() > 0;
  }

  PeerInbox& inbox() { return inbox_; }
  const RedialCounts& counts() const { return planner_.counts(); }
  const PeerBook& book() const { return book_; }
  RedialCounts copy() const {
    std::lock_guard lock(copy_mu_);
    return copy_;
  }
  PeerBookCounts book_copy() const {
    std::lock_guard lock(copy_mu_);
    return book_copy_;
  }

 private:
  // What a shard may have waiting in its feed: what its rate launches in
  // 50 ms (five steps, for a late one), or a quarter of its budget when
  // the rate is unlimited (the budget paces it then). Short, so a torrent
  // whose peers arrive later is not queued behind thousands of another's.
  static size_t shard_queue_length(const SeedConfig& cfg, const ShardGroup& shards) {
    double per_shard = cfg.rate / std::max<size_t>(1, shards.size());
    double n = cfg.rate > 0 ? per_shard * 0.05 : cfg.half_open / 4.0;
    return static_cast<size_t>(std::clamp(n, 16.0, 4096.0));
  }

  static RedialPolicy policy(const SeedConfig& cfg) {
    std::random_device rd;
    return {cfg.redials, cfg.redial_delay_ms * 1'000'000, kMaxRedialDelayNs,
            (uint64_t{rd()} << 32) ^ rd()};
  }

  ShardGroup& shards_;
  PeerPool& pool_;
  DialScheduler& dials_;
  const SeedHooks& hooks_;
  RedialPlanner planner_;
  PeerBook book_;
  std::vector<uint8_t> seeded_;  // by slot
  PeerInbox inbox_;
  size_t max_queued_;
  int64_t last_forget_ = 0;
  mutable std::mutex copy_mu_;
  RedialCounts copy_;
  PeerBookCounts book_copy_;
};

}  // namespace

// Carries out TorrentSlots' requests on the run loop, which owns the peer
// book and the re-dial planner; the pool publishes each change to its
// workers, and a removal is done once every worker has let go.
class SlotKeeper {
 public:
  SlotKeeper(TorrentSlots& slots, PeerPool& pool, RedialLoop& redial, DialScheduler& dials,
             const PeerId& id)
      : slots_(slots), pool_(pool), redial_(redial), dials_(dials), id_(id) {}

  // True while anything is under way (the loop then keeps its short tick).
  bool step(int64_t now) {
    std::vector<TorrentSlots::Request> requests;
    {
      std::lock_guard lock(slots_.mu_);
      requests.swap(slots_.requests_);
    }
    for (auto& r : requests) {
      if (r.add) {
        pool_.add_torrent(
            r.slot, {r.torrent.store, session_config(*r.torrent.meta, *r.torrent.store, id_)});
        redial_.seed(r.slot);
        redial_.book_listed(r.dials, &r.sources, now);
        for (const DialTarget& d : r.dials) dials_.add(d);
      } else {
        PeerBookCounts book = redial_.unseed(r.slot);
        leaving_.push_back({r.slot, pool_.remove_torrent(r.slot), book});
      }
    }
    for (size_t i = 0; i < leaving_.size();) {
      Leaving& l = leaving_[i];
      if (!pool_.removed(l.ticket)) {
        ++i;
        continue;
      }
      RemovedTorrent done{pool_.torrent_totals()[l.slot], l.book};
      {
        std::lock_guard lock(slots_.mu_);
        slots_.removed_[l.slot] = done;
        slots_.state_[l.slot] = TorrentSlots::State::kRemoved;
      }
      slots_.cv_.notify_all();
      leaving_.erase(leaving_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    return !requests.empty() || !leaving_.empty();
  }

  // The run is over: nobody waits for a removal any more.
  void end() {
    {
      std::lock_guard lock(slots_.mu_);
      slots_.ended_ = true;
    }
    slots_.cv_.notify_all();
  }

 private:
  struct Leaving {
    uint32_t slot;
    uint64_t ticket;
    PeerBookCounts book;
  };
  TorrentSlots& slots_;
  PeerPool& pool_;
  RedialLoop& redial_;
  DialScheduler& dials_;
  const PeerId& id_;
  std::vector<Leaving> leaving_;
};

namespace {

// Once a second, looks for data files that changed under us (truncated,
// rewritten, replaced) and says what the store withheld and verified again.
// Its own thread: rehashing a big file must not stall the status or stops.
// The run tells it to stop through `stop` (it sleeps between looks, and an
// idle node should not wake to poll a flag).
struct StopNotice {
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  void notify() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
  }
  // False once a stop was noticed; true after `d` without one.
  bool sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    return !cv.wait_for(lock, d, [&] { return stopping; });
  }
};

void watch_stores(TorrentSlots& slots, const SeedHooks& hooks, StopNotice& stop,
                  std::atomic<uint64_t>& files_changed) {
  while (stop.sleep_for(std::chrono::milliseconds(1000))) {
    for (PieceStore* store : slots.stores())
      for (const auto& c : store->recheck()) {
        files_changed.fetch_add(1);
        std::string size = c.new_size < 0 ? "gone" : std::to_string(c.new_size) + " bytes";
        std::fprintf(stderr,
                     "swarmdial seed: %s changed on disk (%lld -> %s): pieces %u-%u rehashed, %u "
                     "verified again, %u withheld\n",
                     c.path.c_str(), static_cast<long long>(c.old_size), size.c_str(),
                     c.first_piece, c.last_piece, c.verified_again, c.still_withheld);
      }
    if (hooks.on_files_look) hooks.on_files_look(slots);
  }
}

// Runs until a stop, the deadline or hooks.done; ticks every 10 ms while
// anything moves (the dial scheduler hands dials to the shards on each,
// rows and ended sessions are taken), every 100 ms once nothing has for
// 100 ms (an idle node should not wake a hundred times a second; a stop,
// a tracker's peers or a re-dial wait at most that long).
void serve(const SeedConfig& cfg, const SeedHooks& hooks, RunFlags flags, int64_t start,
           ShardGroup& shards, PeerPool& pool, RedialLoop& redial, SlotKeeper& keeper) {
  int64_t deadline = cfg.duration_s > 0 ? start + static_cast<int64_t>(cfg.duration_s * 1e9) : 0;
  int64_t last = start;
  uint64_t last_up = 0, last_est = 0;
  SeedTick tick;
  int idle_ticks = 0;
  while (!flags.stop.load() && (deadline == 0 || mono_ns() < deadline)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(idle_ticks >= 10 ? 100 : 10));
    int64_t now = mono_ns();
    bool moved = redial.step(now);
    moved |= keeper.step(now);
    tick.t_s = (now - start) / 1e9;
    tick.view = shards.snapshot();
    idle_ticks = moved || tick.view.half_open > 0 ? 0 : idle_ticks + 1;
    tick.pool = pool.totals();
    tick.redial = redial.counts();
    tick.peer_book = redial.book().totals();
    if (now - last >= 1'000'000'000) {
      uint64_t est = tick.view.outcomes[static_cast<int>(Outcome::kEstablished)];
      tick.up_rate = static_cast<double>(tick.pool.bytes_up - last_up) / ((now - last) / 1e9);
      tick.est_rate = static_cast<double>(est - last_est) / ((now - last) / 1e9);
      if (hooks.every_second) hooks.every_second(tick);
      last = now;
      last_up = tick.pool.bytes_up;
      last_est = est;
    }
    if (hooks.done && hooks.done(tick)) break;
  }
}

}  // namespace

int run_seeding(const SeedConfig& cfg, const std::vector<SeedTorrent>& torrents,
                const PeerId& peer_id, const std::vector<DialTarget>& dial_list, RunFlags flags,
                const SeedHooks& hooks, SeedResult& result,
                const std::vector<PeerSource>* dial_sources) {
  // The backend comes first: with dpdk the pool's listener binds to the
  // engine's addresses, which the exception path creates, and the shards'
  // loops carry every packet of every peer, inbound ones too, so they run
  // even with nothing to dial.
  std::unique_ptr<RunBackend> backend;
  try {
    backend = open_backend(backend_options(cfg, torrents));
  } catch (const std::exception& e) {
    std::cerr << "swarmdial seed: " << e.what() << "\n";
    return 2;
  }
  bool dials = !dial_list.empty() || hooks.dynamic_targets || cfg.backend == Backend::kDpdk;
  // A slot freed is given out again once no dial of its torrent can be on
  // its way any more: in a shard's feed or in flight (a timeout), or waiting
  // for a re-dial (at most 60 s plus its 20% jitter; dropped when due while
  // the slot is free, but it would be the new torrent's once reused).
  TorrentSlots slots(cfg.max_torrents, torrents,
                     2 * cfg.timeout_ms * 1'000'000 + kMaxRedialDelayNs * 6 / 5 + 10'000'000'000);
  // One torrent's peers are the shards' own list; many torrents' go through
  // the dial scheduler, each with its torrent's tag, to share the budget.
  DialScheduler scheduler(slots.size(), cfg.dial_order);
  std::vector<Endpoint> listed;
  for (const DialTarget& d : dial_list) {
    if (slots.size() == 1)
      listed.push_back(d.target);
    else
      scheduler.add(d);
  }
  TargetSet targets = TargetSet::from_list(listed);
  ShardPlan plan;
  plan.shards = dials ? backend->shards() : 0;
  plan.half_open = cfg.half_open;
  plan.adaptive = cfg.half_open_auto;
  plan.half_open_min = cfg.half_open_min;
  plan.rate = cfg.rate;
  plan.timeout_ns = cfg.timeout_ms * 1'000'000;
  plan.targets = &targets;
  plan.sources = backend->shard_sources();
  plan.feeds = true;  // tracker peers and re-dials arrive while the shards run
  plan.handoff = true;
  plan.row_queue = plan.handoff_queue = 1 << 12;
  int64_t start = mono_ns();
  ShardGroup shards(plan, backend->factory(), flags, start);

  auto listen_before = read_listen_counters();
  std::vector<PoolTorrent> served;
  for (const SeedTorrent& t : torrents)
    served.push_back({t.store, session_config(*t.meta, *t.store, peer_id)});
  PoolOptions po = pool_options(cfg);
  po.torrent_slots = slots.size();
  PeerPool pool(po, std::move(served), shards.handoff_queues());
  try {
    pool.start();
  } catch (const std::exception& e) {
    std::cerr << "swarmdial: " << e.what() << "\n";
    return 1;
  }
  if (cfg.listen && hooks.on_listening) hooks.on_listening(pool.listen_port());
  RedialLoop redial(cfg, shards, pool, scheduler, hooks, slots.size());
  for (uint32_t i = 0; i < torrents.size(); ++i) redial.seed(i);
  redial.book_listed(dial_list, dial_sources, start);
  SlotKeeper keeper(slots, pool, redial, scheduler, peer_id);
  std::unique_ptr<MetricsHttpServer> metrics;
  if (cfg.metrics) {
    try {
      metrics = std::make_unique<MetricsHttpServer>(*cfg.metrics, [&] {
        PoolTotals t = pool.totals();
        SeedCounters s = seed_counters(t, redial.copy());
        s.with_peer_book = true;
        s.peer_book = redial.book_copy();
        s.torrents = slots.seeded();
        s.dials_waiting = scheduler.waiting();
        s.dials_dropped = scheduler.dropped();
        if (hooks.add_metrics) hooks.add_metrics(s);
        RingCounters rings = Ring::totals();
        return render_prometheus(shards.snapshot(), {t.peers_outbound, t.peers_inbound}, &s,
                                 &rings);
      });
    } catch (const std::exception& e) {
      std::cerr << "swarmdial: " << e.what() << "\n";
      return 1;
    }
  }
  shards.start();
  if (hooks.on_started) hooks.on_started(redial.inbox());
  std::atomic<uint64_t> files_changed{0};
  StopNotice stop_watching;
  std::thread watcher([&] {
    name_this_thread("sd-files");
    watch_stores(slots, hooks, stop_watching, files_changed);
  });
  serve(cfg, hooks, flags, start, shards, pool, redial, keeper);

  // Always called: the announcer adds to the scheduler, which goes away
  // with the run.
  if (hooks.before_stop) hooks.before_stop(flags.abort.load());
  flags.stop.store(true);
  // A removal the file watcher waits for will not come now.
  keeper.end();
  stop_watching.notify();
  watcher.join();
  // The pool closes its peers first: with dpdk their last segments still
  // travel through the shards' loops, which stop forwarding only after.
  pool.stop();
  shards.finish();
  redial.drain_rows(mono_ns());
  // Flows handed off after the pool stopped are ours to close.
  for (auto* h : shards.handoff_queues())
    while (auto f = h->try_pop()) ::close(f->fd);
  result.duration_s = (mono_ns() - start) / 1e9;
  result.view = shards.snapshot();
  result.pool = pool.totals();
  result.torrents = pool.torrent_totals();
  result.dials_waiting = scheduler.waiting();
  result.dials_dropped = scheduler.dropped();
  result.redial = redial.counts();
  for (uint32_t i = 0; i < slots.size(); ++i) result.peer_book.push_back(redial.book().counts(i));
  result.files_changed = files_changed.load();
  result.pieces_withheld = 0;
  for (const PieceStore* store : slots.stores()) result.pieces_withheld += store->withheld_count();
  if (auto after = read_listen_counters(); after && listen_before && cfg.listen)
    result.kernel_listen = ListenCounters{after->syncookies_sent - listen_before->syncookies_sent,
                                          after->listen_overflows - listen_before->listen_overflows,
                                          after->listen_drops - listen_before->listen_drops};
  return 0;
}

}  // namespace swarmdial
