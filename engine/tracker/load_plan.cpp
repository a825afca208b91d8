#include "load_plan.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cmath>

namespace swarmdial {

namespace {

uint64_t mix(uint64_t x) {  // splitmix64's finalizer: independent-looking draws from counters
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform draw in [0, 1) for membership m, keyed by what it decides.
double unit(uint64_t m, uint64_t key) {
  return static_cast<double>(mix(mix(m) ^ key) >> 11) * 0x1.0p-53;
}

constexpr uint64_t kSeedKey = 0x5eed, kCompleteKey = 0xc0de, kStopKey = uint64_t{0x57} << 20,
                   kScrapeKey = uint64_t{0x5c} << 40, kFamilyKey = uint64_t{0x6f} << 48;

uint64_t ceil_div(uint64_t a, uint64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

InfoHash load_info_hash(uint32_t torrent) {
  std::string name = "swarmdial-load-torrent-" + std::to_string(torrent);
  InfoHash h;
  SHA1(reinterpret_cast<const uint8_t*>(name.data()), name.size(), h.data());
  return h;
}

uint64_t LoadPlan::swarm_size_of(const LoadModel& model) {
  uint64_t torrents = model.info_hashes ? model.info_hashes->size() : model.torrents;
  uint64_t part = model.part, parts = model.parts == 0 ? 1 : model.parts;
  if (model.zipf > 0) {  // partitioned by membership: m % parts == part
    uint64_t members = torrents * model.peers;
    return members > part ? ceil_div(members - part, parts) : 0;
  }
  // Partitioned by peer, who joins every torrent: peer % parts == part.
  uint64_t part_peers = model.peers > part ? ceil_div(model.peers - part, parts) : 0;
  return torrents * part_peers;
}

LoadPlan::LoadPlan(const LoadModel& model)
    : torrents_(model.info_hashes ? static_cast<uint32_t>(model.info_hashes->size())
                                  : model.torrents),
      part_(model.part),
      parts_(model.parts == 0 ? 1 : model.parts),
      pattern_(model.announce_weight + model.scrape_weight + model.connect_weight),
      members_(uint64_t{torrents_} * model.peers),
      part_members_(swarm_size_of(model)),
      model_(model),
      hashes_(model.info_hashes) {
  if (!hashes_) {
    auto synthetic = std::make_shared<std::vector<InfoHash>>();
    synthetic->reserve(torrents_);
    for (uint32_t i = 0; i < torrents_; ++i) synthetic->push_back(load_info_hash(i));
    hashes_ = std::move(synthetic);
  }
  if (model.zipf > 0) {
    cumulative_.resize(torrents_);
    double sum = 0;
    for (uint32_t i = 0; i < torrents_; ++i) {
      sum += std::pow(double(i) + 1, -model.zipf);
      cumulative_[i] = sum;
    }
    for (double& c : cumulative_) c /= sum;
    cumulative_.back() = 1.0;
    guide_.resize(size_t{torrents_} + 1);
    for (size_t b = 0; b < guide_.size(); ++b)
      guide_[b] = static_cast<uint32_t>(
          std::upper_bound(cumulative_.begin(), cumulative_.end(), double(b) / torrents_) -
          cumulative_.begin());
  }
}

LoadStep LoadPlan::step(uint64_t k) const {
  if (pattern_ == 0) return {LoadKind::kAnnounce, k};
  uint64_t round = k / pattern_, pos = k % pattern_;
  const LoadModel& m = model_;
  if (pos < m.announce_weight) return {LoadKind::kAnnounce, round * m.announce_weight + pos};
  pos -= m.announce_weight;
  if (pos < m.scrape_weight) return {LoadKind::kScrape, round * m.scrape_weight + pos};
  pos -= m.scrape_weight;
  return {LoadKind::kConnect, round * m.connect_weight + pos};
}

size_t LoadPlan::scrape_hashes(uint64_t s, std::span<InfoHash, kMaxScrapeHashes> out) const {
  uint64_t most = std::clamp<uint64_t>(model_.scrape_max, 1, kMaxScrapeHashes);
  size_t want = 1 + mix(s ^ kScrapeKey) % most, n = 0;
  // A membership drawn at random lands on a torrent with its popularity. A
  // client asks about a torrent once, so repeats are drawn again (a few
  // times: a swarm of fewer torrents than asked for gives fewer).
  for (uint64_t draw = 0; n < want && draw < 8 * want; ++draw) {
    const InfoHash& h =
        (*hashes_)[torrent_of(mix(mix(s) + draw) % std::max<uint64_t>(members_, 1))];
    if (std::find(out.begin(), out.begin() + static_cast<ptrdiff_t>(n), h) ==
        out.begin() + static_cast<ptrdiff_t>(n))
      out[n++] = h;
  }
  return n;
}

uint32_t LoadPlan::torrent_of(uint64_t m) const {
  if (cumulative_.empty()) return static_cast<uint32_t>(m % torrents_);
  // Memberships take evenly spread quantiles (the golden-ratio sequence), so
  // each torrent's count is its share of the whole to within one or two,
  // not a sample of it.
  double x = (static_cast<double>(m) + 0.5) * 0.6180339887498949;
  double u = x - std::floor(x);  // exact, as fmod(x, 1) is, and cheaper
  // u lies in bucket b up to rounding, so surely between bounds b - 1 and
  // b + 2: the answer is in [guide_[b - 1], guide_[b + 2]].
  const size_t g = guide_.size() - 1;
  size_t b = std::min(static_cast<size_t>(u * static_cast<double>(g)), g);
  size_t lo = guide_[b > 0 ? b - 1 : 0];
  size_t hi = std::min<size_t>(size_t{guide_[std::min(b + 2, g)]} + 1, cumulative_.size());
  auto it = std::upper_bound(cumulative_.begin() + static_cast<ptrdiff_t>(lo),
                             cumulative_.begin() + static_cast<ptrdiff_t>(hi), u);
  return static_cast<uint32_t>(std::min<size_t>(it - cumulative_.begin(), torrents_ - 1));
}

// A stop is followed by a start, so of a run of "wants to leave" draws only
// every other one is a stop: the parity of the run ending at `round`.
bool LoadPlan::stops(uint64_t m, uint64_t round) const {
  if (model_.stopped <= 0) return false;
  uint64_t run = 0;
  for (uint64_t r = round; r >= 1 && unit(m, kStopKey + r) < model_.stopped; --r) ++run;
  return run % 2 == 1;
}

// Whether membership m still has bytes to fetch at `round`: leechers finish
// at a round drawn from a geometric law with the per-round chance.
bool LoadPlan::left_before(uint64_t m, uint64_t round) const {
  if (unit(m, kSeedKey) < model_.seeders) return false;
  if (model_.completed <= 0) return true;
  uint64_t finish = 1;
  if (model_.completed < 1) {
    double u = 1.0 - unit(m, kCompleteKey);  // (0, 1]
    double extra = std::floor(std::log(u) / std::log1p(-model_.completed));
    finish += extra > 1e12 ? uint64_t{1'000'000'000'000} : static_cast<uint64_t>(extra);
  }
  return round < finish;
}

LoadPlan::Member LoadPlan::member_of(uint64_t k) const {
  uint64_t i = k % part_members_;
  Member w{0, 0, k / part_members_, 0};
  if (cumulative_.empty()) {
    w.torrent = static_cast<uint32_t>(i % torrents_);
    w.client = (i / torrents_) * parts_ + part_;
    w.m = w.client * torrents_ + w.torrent;
  } else {
    w.m = i * parts_ + part_;
    w.client = w.m;
    w.torrent = torrent_of(w.m);
  }
  return w;
}

bool LoadPlan::ipv6_client(uint64_t client) const {
  return model_.ipv6 >= 1 || (model_.ipv6 > 0 && unit(client, kFamilyKey) < model_.ipv6);
}

bool LoadPlan::ipv6_request(uint64_t k) const {
  if (model_.ipv6 <= 0) return false;
  LoadStep s = step(k);
  if (s.kind == LoadKind::kAnnounce) return ipv6_client(member_of(s.index).client);
  return ipv6_client(mix(k) ^ kScrapeKey);
}

AnnounceRequest LoadPlan::request(uint64_t k) const {
  auto [m, client, round, torrent] = member_of(k);
  AnnounceRequest r;
  r.info_hash = (*hashes_)[torrent];
  // With a uniform swarm a peer is the same client in every torrent it
  // joins: id and port derive from its number only.
  r.peer_id = make_peer_id(0x5eed0000ULL + client);
  r.port = static_cast<uint16_t>(1024 + client % 64000);
  bool leeching = left_before(m, round);
  r.left = leeching ? 1'000'000 : 0;
  if (round == 0 || stops(m, round - 1))
    r.event = AnnounceEvent::kStarted;
  else if (stops(m, round))
    r.event = AnnounceEvent::kStopped;
  else if (!leeching && left_before(m, round - 1))
    r.event = AnnounceEvent::kCompleted;
  else
    r.event = AnnounceEvent::kNone;
  r.numwant = model_.numwant;
  r.key = static_cast<uint32_t>(client);
  return r;
}

}  // namespace swarmdial
