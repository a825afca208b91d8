#include "summaries.hpp"

#include <algorithm>
#include <fstream>

#include "engine/adaptive_budget.hpp"

namespace swarmdial {

nlohmann::json build_summary(const RunView& v, const SummaryContext& ctx) {
  using nlohmann::json;
  json outcomes = json::object();
  for (int o = 0; o < kOutcomeCount; ++o)
    outcomes[std::string(outcome_name(static_cast<Outcome>(o)))] = v.outcomes[o];
  uint64_t established = v.outcomes[static_cast<int>(Outcome::kEstablished)];
  json shards = json::array();
  for (size_t i = 0; i < v.shards.size(); ++i) {
    json sh = {{"shard", i},
               {"syn_sent", v.shards[i].syn_sent},
               {"half_open_budget", v.shards[i].budget},
               {"half_open_high_water", v.shards[i].high_water},
               {"syn_rate", v.shards[i].syn_rate}};
    if (ctx.adaptive)
      sh["half_open_auto"] = {
          {"reason", budget_reason_name(static_cast<BudgetReason>(
                         v.shards[i].budget_reason ? v.shards[i].budget_reason - 1 : 0))},
          {"decreases", v.shards[i].budget_decreases}};
    shards.push_back(sh);
  }
  double d = ctx.duration_s > 0 ? ctx.duration_s : 1e-9;
  json s = {
      {"command", ctx.command},
      {"backend", ctx.backend},
      {"duration_s", ctx.duration_s},
      {"interrupted", ctx.interrupted},
      {"forced_exit", ctx.forced},
      {"targets", v.final_rows()},
      {"syn_sent", v.syn_sent},
      {"retries", v.retries},
      {"outcomes", outcomes},
      {"rates",
       {{"syn_per_s", static_cast<double>(v.syn_sent) / d},
        {"established_per_s", static_cast<double>(established) / d}}},
      {"connect_rtt_us",
       {{"count", v.latency.total},
        {"p50", v.latency.percentile_us(0.50)},
        {"p90", v.latency.percentile_us(0.90)},
        {"p99", v.latency.percentile_us(0.99)},
        {"max", v.latency.max_us},
        {"histogram", histogram_json(v.latency)}}},
      {"shards", shards},
  };
  if (ctx.with_rows) {
    s["rows"] = {{"written", ctx.rows_written}, {"lost", ctx.rows_lost}};
    if (!ctx.output_error.empty()) s["rows"]["error"] = ctx.output_error;
  }
  if (ctx.with_run)
    s["run"] = {{"seed", ctx.seed},
                {"targets", ctx.targets},
                {"target_count", ctx.target_count},
                {"partition", {{"index", ctx.partition.index}, {"count", ctx.partition.count}}}};
  if (ctx.with_bt)
    s["bt"] = {{"bt_ok", ctx.bt.ok},
               {"bt_mismatch", ctx.bt.mismatch},
               {"bt_timeout", ctx.bt.timeout},
               {"bt_closed", ctx.bt.closed},
               {"bt_invalid", ctx.bt.invalid}};
  if (ctx.with_wire) {
    json wire = json::object();
    for (int i = 0; i < kWireCounterCount; ++i) wire[std::string(kWireCounterNames[i])] = v.wire[i];
    s["wire"] = wire;
  }
  if (ctx.with_hold)
    s["hold"] = {{"held", ctx.held}, {"closed_for_lack_of_fds", ctx.hold_overflow}};
  return s;
}

std::vector<std::pair<std::string, uint64_t>> disconnect_list(const PoolTotals& t) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (size_t i = 1; i < t.disconnects.size(); ++i)
    if (t.disconnects[i])
      out.emplace_back(disconnect_name(static_cast<Disconnect>(i)), t.disconnects[i]);
  return out;
}

nlohmann::json redial_json(const RedialCounts& r) {
  nlohmann::json by = nlohmann::json::object(), gave = nlohmann::json::object();
  for (size_t i = 0; i < RedialCounts::kCauses; ++i) {
    std::string name(redial_cause_name(static_cast<RedialCause>(i)));
    if (r.redials[i]) by[name] = r.redials[i];
    if (r.given_up[i]) gave[name] = r.given_up[i];
  }
  return {
      {"redials", r.redials_total()},    {"by_cause", by},       {"given_up", r.given_up_total()},
      {"given_up_by_cause", gave},       {"pending", r.pending}, {"peers_complete", r.complete},
      {"not_redialled", r.not_redialled}};
}

nlohmann::json latency_json(const LatencyHistogram::Snapshot& s) {
  return {{"count", s.total},
          {"p50", s.percentile_us(0.50)},
          {"p90", s.percentile_us(0.90)},
          {"p99", s.percentile_us(0.99)},
          {"p999", s.percentile_us(0.999)},
          {"max", s.max_us}};
}

nlohmann::json histogram_json(const LatencyHistogram::Snapshot& s) {
  nlohmann::json buckets = nlohmann::json::array();
  for (int i = 0; i < LatencyHistogram::kBuckets; ++i)
    if (s.counts[i]) buckets.push_back({LatencyHistogram::bucket_upper_us(i), s.counts[i]});
  return {{"scheme", "log-linear-32"},
          {"sum_us", s.sum_us},
          {"max_us", s.max_us},
          {"buckets", buckets}};
}

LatencyHistogram::Snapshot histogram_from_json(const nlohmann::json& j) {
  LatencyHistogram::Snapshot s;
  if (!j.is_object() || j.value("scheme", "") != "log-linear-32" || !j.contains("buckets") ||
      !j["buckets"].is_array())
    throw std::invalid_argument("not a log-linear-32 histogram");
  s.sum_us = j.at("sum_us").get<uint64_t>();
  s.max_us = j.at("max_us").get<uint64_t>();
  for (const auto& b : j["buckets"]) {
    if (!b.is_array() || b.size() != 2)
      throw std::invalid_argument("a bucket is not [value, count]");
    uint64_t upper = b[0].get<uint64_t>(), count = b[1].get<uint64_t>();
    int i = LatencyHistogram::bucket_of(upper);
    if (LatencyHistogram::bucket_upper_us(i) != upper)
      throw std::invalid_argument("bucket bound " + std::to_string(upper) +
                                  " is not one of the scheme's");
    s.counts[i] += count;
    s.total += count;
  }
  return s;
}

namespace {
nlohmann::json resume_json(const ResumeReport& res) {
  return {{"state_file", res.state_file},
          {"loaded", res.loaded},
          {"ignored", res.ignored},
          {"pieces_from_state", res.pieces_from_state},
          {"pieces_hashed", res.pieces_hashed},
          {"saved", res.save_error.empty()},
          {"save_error", res.save_error}};
}

nlohmann::json trackers_json(const std::vector<TrackerState>& states) {
  nlohmann::json tr = nlohmann::json::array();
  for (const auto& st : states)
    tr.push_back({{"url", st.url},
                  {"announces_ok", st.ok},
                  {"announces_failed", st.failed},
                  {"peers_received", st.peers},
                  {"interval_s", st.interval_s},
                  {"last_error", st.last_error},
                  {"warning", st.warning},
                  {"ignored_datagrams", st.ignored_datagrams},
                  {"last_ignored", st.last_ignored}});
  return tr;
}

// The book of peers to dial: its size by state, the seeds among them and
// how many it forgot.
nlohmann::json peer_book_json(const PeerBookCounts& c) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < c.by_state.size(); ++i)
    j[std::string(peer_book_state_name(static_cast<PeerBookState>(i)))] = c.by_state[i];
  j["known"] = c.total();
  j["seeds"] = c.seeds;
  j["forgotten"] = c.forgotten;
  j["refused_full"] = c.refused_full;
  return j;
}

nlohmann::json torrent_json(const SeedTorrentReport& t, bool with_trackers) {
  const Metainfo& meta = *t.meta;
  nlohmann::json j = {{"name", meta.name},
                      {"info_hash", info_hash_hex(meta.info_hash)},
                      {"torrent_file", t.torrent_file},
                      {"data", t.data_path},
                      {"pieces", meta.num_pieces},
                      {"pieces_verified", t.pieces_verified},
                      {"corrupt_pieces", t.corrupt_pieces},
                      {"peers_served", t.totals.peers_served},
                      {"bytes_up", t.totals.bytes_up},
                      {"pieces_served", t.totals.pieces_served},
                      {"peer_book", peer_book_json(t.peer_book)}};
  if (t.resume) j["resume"] = resume_json(*t.resume);
  if (t.added_at_s) j["added_at_s"] = *t.added_at_s;
  if (t.removed_at_s) j["removed_at_s"] = *t.removed_at_s;
  if (with_trackers) {
    j["trackers"] = trackers_json(t.trackers);
    j["tracker_peers_new"] = t.tracker_peers_new;
  }
  return j;
}
}  // namespace

nlohmann::json seed_summary(const SeedReport& r) {
  const PoolTotals& t = r.result->pool;
  nlohmann::json s = build_summary(r.result->view, r.ctx);
  nlohmann::json disc = nlohmann::json::object();
  for (auto& [reason, count] : disconnect_list(t)) disc[reason] = count;
  s["seed"] = {{"peers_served", t.peers_served},
               {"peers_encrypted", t.peers_encrypted},
               {"zero_copy_sends", t.zero_copy_sends},
               {"encryption", encryption_policy_name(r.encryption)},
               {"bytes_up", t.bytes_up},
               {"pieces_served", t.pieces_served},
               {"blocks_served", t.blocks_served},
               {"upload_bytes_per_s", t.bytes_up / std::max(1e-9, r.result->duration_s)},
               {"inbound",
                {{"accepted", t.inbound_accepted},
                 {"rejected_max_peers", t.inbound_rejected_full},
                 {"rejected_rate", t.inbound_rejected_rate},
                 {"accept_failed_fds", t.inbound_accept_failed_fds}}},
               {"disconnects", disc},
               {"store",
                {{"files_changed", r.result->files_changed},
                 {"pieces_withheld", r.result->pieces_withheld},
                 {"requests_withheld", t.requests_withheld}}},
               {"redial", redial_json(r.result->redial)},
               {"dials",
                {{"order", r.dial_order == DialOrder::kFair ? "fair" : "fifo"},
                 {"waiting", r.result->dials_waiting},
                 {"dropped", r.result->dials_dropped}}}};
  PeerBookCounts book;
  for (const auto& tr : r.torrents) {
    for (size_t i = 0; i < book.by_state.size(); ++i) book.by_state[i] += tr.peer_book.by_state[i];
    book.seeds += tr.peer_book.seeds;
    book.forgotten += tr.peer_book.forgotten;
    book.refused_full += tr.peer_book.refused_full;
  }
  s["seed"]["peer_book"] = peer_book_json(book);
  nlohmann::json torrents = nlohmann::json::array();
  for (const auto& tr : r.torrents) torrents.push_back(torrent_json(tr, r.with_trackers));
  s["seed"]["torrents"] = torrents;
  if (r.watching)
    s["seed"]["torrents_dir"] = {{"added", r.torrents_added}, {"removed", r.torrents_removed}};
  if (r.torrents.size() == 1) {
    const SeedTorrentReport& one = r.torrents[0];
    s["seed"]["torrent"] = one.meta->name;
    s["seed"]["info_hash"] = info_hash_hex(one.meta->info_hash);
    s["seed"]["pieces"] = one.meta->num_pieces;
    s["seed"]["pieces_verified"] = one.pieces_verified;
    s["seed"]["corrupt_pieces"] = one.corrupt_pieces;
    if (one.resume) s["seed"]["resume"] = resume_json(*one.resume);
  }
  if (const auto& k = r.result->kernel_listen)
    s["seed"]["inbound"]["kernel_netns"] = {{"syncookies_sent", k->syncookies_sent},
                                            {"listen_overflows", k->listen_overflows},
                                            {"listen_drops", k->listen_drops}};
  if (r.with_trackers) {
    std::vector<TrackerState> all;
    uint64_t peers_new = 0;
    for (const auto& tr : r.torrents) {
      all.insert(all.end(), tr.trackers.begin(), tr.trackers.end());
      peers_new += tr.tracker_peers_new;
    }
    s["trackers"] = trackers_json(all);
    s["tracker_peers_new"] = peers_new;
    s["announces"] = {{"started", r.announces.started},
                      {"late", r.announces.late},
                      {"queued_at_end", r.announces.queued},
                      {"udp_connects", r.announces.udp_connects}};
  }
  return s;
}

namespace {
// Per kind of request: sent and checked-good answers; announces with the
// peer records they brought, scrapes with the info-hashes they asked about.
nlohmann::json load_requests_json(const LoadCounters& c) {
  auto kind = [&](LoadKind k) {
    auto i = static_cast<size_t>(k);
    return nlohmann::json{{"sent", c.kind_sent[i].get()}, {"ok", c.kind_ok[i].get()}};
  };
  nlohmann::json j = {{"announce", kind(LoadKind::kAnnounce)},
                      {"scrape", kind(LoadKind::kScrape)},
                      {"connect", kind(LoadKind::kConnect)}};
  j["announce"]["peers_received"] = c.peers_received.get();
  j["announce"]["peers6_received"] = c.peers6_received.get();
  j["announce"]["peers_withheld"] = c.peers_withheld.get();
  j["scrape"]["info_hashes"] = c.scrape_hashes.get();
  return j;
}
}  // namespace

nlohmann::json tracker_load_summary(const TrackerLoadReport& r) {
  const LoadCounters& c = *r.counters;
  const TrackerLoadOptions& load = *r.load;
  uint32_t torrents = load.swarm.info_hashes ? static_cast<uint32_t>(load.swarm.info_hashes->size())
                                             : load.swarm.torrents;
  uint64_t sent = c.sent.get(), ok = c.ok.get(), errs = 0;
  double d = std::max(r.result.duration_s, 1e-9);
  nlohmann::json errors = nlohmann::json::object();
  for (size_t i = 0; i < c.errors.size(); ++i) {
    errors[std::string(load_error_name(static_cast<LoadError>(i)))] = c.errors[i].get();
    errs += c.errors[i].get();
  }
  nlohmann::json trackers = nlohmann::json::array();
  for (const auto& t : load.trackers) trackers.push_back(t.text);
  auto latency = c.latency.snapshot(), lag = c.send_lag.snapshot();
  nlohmann::json latency_j = latency_json(latency), lag_j = latency_json(lag);
  latency_j["histogram"] = histogram_json(latency);
  lag_j["histogram"] = histogram_json(lag);
  return {
      {"command", "tracker-load"},
      {"trackers", trackers},
      {"interrupted", r.interrupted},
      {"forced_exit", r.forced},
      {"target_rate", load.rate},
      {"duration_s", r.result.duration_s},
      {"sent", sent},
      {"ok", ok},
      {"errors", errors},
      {"error_total", errs},
      {"achieved_rate", static_cast<double>(ok) / d},
      {"sent_rate", static_cast<double>(sent) / d},
      // Offered: the requests whose time came (the timetable's, or with
      // --reannounce interval the peers' own).
      {"offered_rate", static_cast<double>(c.due.get()) / d},
      {"achieved_vs_target", load.reannounce_interval
                                 ? static_cast<double>(ok) / std::max<double>(1, c.due.get())
                                 : static_cast<double>(ok) / d / load.rate},
      {"reannounce",
       {{"mode", load.reannounce_interval ? "interval" : "rate"},
        {"interval_scale", load.interval_scale},
        {"joined", r.result.joined},
        {"reannounces", r.result.reannounces},
        {"retries", r.result.retries}}},
      {"latency_us", latency_j},
      {"send_lag_us", lag_j},
      {"stray_replies", c.stray_replies.get()},
      {"requests", load_requests_json(c)},
      // By the family of the peer each request came from.
      {"families",
       {{"ipv4", {{"sent", c.family_sent[0].get()}, {"ok", c.family_ok[0].get()}}},
        {"ipv6", {{"sent", c.family_sent[1].get()}, {"ok", c.family_ok[1].get()}}}}},
      {"interval_s", {{"min", c.interval_min.get()}, {"max", c.interval_max.get()}}},
      {"udp",
       {{"announces", c.udp_sent.get()},
        {"connects", c.udp_connects.get()},
        {"gso_sends", c.udp_gso_sends.get()}}},
      {"http", {{"announces", c.http_sent.get()}, {"connections", c.http_connects.get()}}},
      {"swarm",
       {{"torrents", torrents},
        {"peers_per_torrent", load.swarm.peers},
        {"popularity", load.swarm.zipf > 0 ? "zipf" : "uniform"},
        {"zipf_exponent", load.swarm.zipf},
        {"seeders", load.swarm.seeders},
        {"completed", load.swarm.completed},
        {"stopped", load.swarm.stopped},
        {"numwant", load.swarm.numwant},
        {"ipv6_peers", load.swarm.ipv6},
        {"request_mix",
         {{"announce", load.swarm.announce_weight},
          {"scrape", load.swarm.scrape_weight},
          {"connect", load.swarm.connect_weight}}},
        {"scrape_torrents_max", load.swarm.scrape_max},
        {"info_hashes", load.swarm.info_hashes ? "file" : "synthetic"}}},
      {"cpu",
       {{"generator_s", r.result.cpu_s},
        {"us_per_announce", sent ? r.result.cpu_s * 1e6 / static_cast<double>(sent) : 0.0}}},
      // What `merge` checks before it adds generators up.
      {"run",
       {{"trackers", trackers},
        {"torrents", torrents},
        {"peers_per_torrent", load.swarm.peers},
        {"model",
         {{"zipf_exponent", load.swarm.zipf},
          {"seeders", load.swarm.seeders},
          {"completed", load.swarm.completed},
          {"stopped", load.swarm.stopped},
          {"ipv6_peers", load.swarm.ipv6}}},
        {"partition", {{"index", load.swarm.part}, {"count", load.swarm.parts}}}}},
  };
}

std::string write_summary_file(const std::string& path, const nlohmann::json& summary,
                               const std::string& flag) {
  std::ofstream out(path, std::ios::trunc);
  out << summary.dump(2) << "\n";
  out.close();
  if (!out) return flag + " " + path + ": write failed";
  return {};
}

}  // namespace swarmdial
