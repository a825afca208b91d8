#include "seed_trackers.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

#include "engine/tracker/tracker_url.hpp"

namespace swarmdial {

namespace {
std::vector<std::vector<std::string>> tracker_tiers(const std::vector<std::string>& flags,
                                                    const Metainfo& meta) {
  std::vector<std::vector<std::string>> tiers;
  for (const auto& t : flags) {
    if (t != "torrent") {
      tiers.push_back({t});
      continue;
    }
    for (const auto& tier : meta.announce_tiers) {
      std::vector<std::string> usable;
      for (const auto& url : tier) {
        std::string err;
        if (parse_tracker_url(url, err))
          usable.push_back(url);
        else
          std::fprintf(stderr, "swarmdial seed: skipping tracker %s: %s\n", url.c_str(),
                       err.c_str());
      }
      if (!usable.empty()) tiers.push_back(usable);
    }
  }
  return tiers;
}
}  // namespace

SeedTrackers::SeedTrackers(AnnounceService& service, const SeedConfig& cfg, const Metainfo& meta,
                           uint32_t pieces_held, const PeerId& peer_id,
                           const std::vector<Endpoint>& dial_list, uint32_t tag)
    : service_(service),
      cfg_(cfg),
      meta_(meta),
      pieces_held_(pieces_held),
      tag_(tag),
      peer_id_(peer_id),
      tiers_(tracker_tiers(cfg.trackers, meta)) {
  for (const auto& e : dial_list) known_.insert(key(e));
}

SeedTrackers::Key SeedTrackers::key(const Endpoint& e) {
  std::array<uint8_t, 17> k{};
  k[0] = e.ip.family;
  std::copy(e.ip.bytes.begin(), e.ip.bytes.end(), k.begin() + 1);
  return {k, e.port};
}

// One set of hooks for every torrent, not a chain of one per torrent: a
// node of 10,000 torrents would otherwise nest 10,000 calls deep on every
// metrics scrape.
void SeedTrackers::install(std::function<std::vector<SeedTrackers*>()> all, SeedHooks& hooks) {
  auto used = [all] {
    std::vector<SeedTrackers*> out;
    for (auto* t : all())
      if (t->any()) out.push_back(t);
    return out;
  };
  if (!used().empty()) hooks.dynamic_targets = true;
  hooks.on_listening = [used, previous = hooks.on_listening](uint16_t port) {
    for (auto* t : used()) t->listen_port_ = port;
    if (previous) previous(port);
  };
  hooks.on_started = [used, previous = hooks.on_started](PeerInbox& inbox) {
    if (previous) previous(inbox);
    for (auto* t : used()) t->start(inbox);
  };
  // Every torrent's `stopped` is asked for before any is waited for.
  hooks.before_stop = [used, previous = hooks.before_stop](bool forced) {
    int64_t grace = forced ? 0 : 3'000'000'000;
    std::vector<SeedTrackers*> now = used();
    for (auto* t : now)
      if (auto* a = t->live_.load(std::memory_order_acquire)) a->request_stop(grace);
    if (previous) previous(forced);
    for (auto* t : now)
      if (auto* a = t->live_.load(std::memory_order_acquire)) a->stop(grace);
  };
  hooks.add_metrics = [used, previous = hooks.add_metrics](SeedCounters& s) {
    if (previous) previous(s);
    for (auto* t : used())
      for (const auto& st : t->states()) s.trackers.push_back({st.url, st.ok, st.failed});
  };
}

void SeedTrackers::start_late(PeerInbox& inbox, uint16_t listen_port) {
  if (!any()) return;
  listen_port_ = listen_port;
  start(inbox);
}

void SeedTrackers::stop_now(int64_t grace_ns) {
  if (auto* a = live_.load(std::memory_order_acquire)) a->stop(grace_ns);
}

void SeedTrackers::start(PeerInbox& inbox) {
  std::random_device rd;
  AnnouncerOptions ao;
  ao.tiers = tiers_;
  ao.request.info_hash = meta_.info_hash;
  ao.request.peer_id = peer_id_;
  ao.request.port = cfg_.announce_port ? cfg_.announce_port : listen_port_ ? listen_port_ : 6881;
  // A seed announces left=0; with corrupt pieces, what it lacks.
  uint64_t missing = uint64_t{meta_.num_pieces - pieces_held_} * meta_.piece_length;
  ao.request.left = std::min<uint64_t>(missing, meta_.total_length);
  ao.request.key = rd();
  ao.udp_base_timeout_ns = cfg_.tracker_timeout_ms * 1'000'000;
  ao.http_timeout_ns = cfg_.tracker_timeout_ms * 1'000'000;
  ao.retry_base_ns = cfg_.tracker_timeout_ms * 1'000'000;
  ao.on_peers = [this, &inbox](const std::vector<Endpoint>& peers) {
    for (const auto& e : peers) {
      if (cfg_.listen && e.port == listen_port_ && e.ip == cfg_.listen->ip) continue;  // us
      // Every listed peer goes to the run's peer book, known or not: a
      // list refreshes what the book has, and brings back a peer it forgot.
      inbox.push({e, tag_});
      if (known_.insert(key(e)).second) peers_new_.fetch_add(1, std::memory_order_relaxed);
    }
  };
  announcer_ = std::make_unique<TrackerAnnouncer>(service_, std::move(ao));
  announcer_->start();
  // The metrics and status threads read it from now on.
  live_.store(announcer_.get(), std::memory_order_release);
}

std::vector<TrackerState> SeedTrackers::states() const {
  auto* a = live_.load(std::memory_order_acquire);
  return a ? a->states() : std::vector<TrackerState>{};
}

std::string SeedTrackers::status_suffix() const {
  if (!live_.load(std::memory_order_acquire)) return {};
  auto all = states();
  size_t working = 0;
  for (const auto& st : all) working += st.working;
  return " trackers " + std::to_string(working) + "/" + std::to_string(all.size()) + " ok, " +
         std::to_string(peers_new()) + " peers";
}

}  // namespace swarmdial
