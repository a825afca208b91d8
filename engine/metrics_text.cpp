#include "metrics_text.hpp"

#include <fmt/format.h>

#include <iterator>

#include "adaptive_budget.hpp"

namespace swarmdial {

namespace {
constexpr double kConnectBucketsS[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::string render_prometheus(const RunView& v, const PeerGauges& peers, const SeedCounters* seed,
                              const RingCounters* rings) {
  fmt::memory_buffer b;
  auto out = std::back_inserter(b);
  auto family = [&](const char* name, const char* type, const char* help) {
    fmt::format_to(out, "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  family("swarmdial_syn_sent_total", "counter",
         "Connection attempts started (SYNs), retries included.");
  for (size_t i = 0; i < v.shards.size(); ++i)
    fmt::format_to(out, "swarmdial_syn_sent_total{{shard=\"{}\"}} {}\n", i, v.shards[i].syn_sent);
  family("swarmdial_outcomes_total", "counter", "Final outcomes, one per target.");
  for (int o = 0; o < kOutcomeCount; ++o)
    fmt::format_to(out, "swarmdial_outcomes_total{{outcome=\"{}\"}} {}\n",
                   outcome_name(static_cast<Outcome>(o)), v.outcomes[o]);
  family("swarmdial_half_open", "gauge", "Half-open slots in use.");
  for (size_t i = 0; i < v.shards.size(); ++i)
    fmt::format_to(out, "swarmdial_half_open{{shard=\"{}\"}} {}\n", i, v.shards[i].half_open);
  family("swarmdial_half_open_budget", "gauge", "Half-open budget.");
  for (size_t i = 0; i < v.shards.size(); ++i)
    fmt::format_to(out, "swarmdial_half_open_budget{{shard=\"{}\"}} {}\n", i, v.shards[i].budget);
  family("swarmdial_syn_rate", "gauge", "SYN/s the shard is paced at now (0: unlimited).");
  for (size_t i = 0; i < v.shards.size(); ++i)
    fmt::format_to(out, "swarmdial_syn_rate{{shard=\"{}\"}} {}\n", i, v.shards[i].syn_rate);
  family("swarmdial_half_open_budget_decreases_total", "counter",
         "--half-open auto: budget decreases on loss or delay.");
  for (size_t i = 0; i < v.shards.size(); ++i)
    fmt::format_to(out, "swarmdial_half_open_budget_decreases_total{{shard=\"{}\"}} {}\n", i,
                   v.shards[i].budget_decreases);
  family("swarmdial_half_open_budget_reason", "gauge",
         "--half-open auto: why the budget last changed (the reason labelled 1).");
  for (size_t i = 0; i < v.shards.size(); ++i)
    for (size_t r = 0; r < static_cast<size_t>(BudgetReason::kCount); ++r)
      fmt::format_to(out, "swarmdial_half_open_budget_reason{{shard=\"{}\",reason=\"{}\"}} {}\n", i,
                     budget_reason_name(static_cast<BudgetReason>(r)),
                     v.shards[i].budget_reason == r + 1 ? 1 : 0);
  family("swarmdial_half_open_high_water", "gauge", "Most half-open slots ever in use at once.");
  for (size_t i = 0; i < v.shards.size(); ++i)
    fmt::format_to(out, "swarmdial_half_open_high_water{{shard=\"{}\"}} {}\n", i,
                   v.shards[i].high_water);
  family("swarmdial_connect_seconds", "histogram", "Time from SYN to established.");
  for (double le : kConnectBucketsS)
    fmt::format_to(out, "swarmdial_connect_seconds_bucket{{le=\"{}\"}} {}\n", le,
                   v.latency.count_at_most(static_cast<uint64_t>(le * 1e6)));
  fmt::format_to(out, "swarmdial_connect_seconds_bucket{{le=\"+Inf\"}} {}\n", v.latency.total);
  fmt::format_to(out, "swarmdial_connect_seconds_sum {}\n",
                 static_cast<double>(v.latency.sum_us) / 1e6);
  fmt::format_to(out, "swarmdial_connect_seconds_count {}\n", v.latency.total);
  family("swarmdial_peers", "gauge", "Connected peers.");
  fmt::format_to(out, "swarmdial_peers{{direction=\"outbound\"}} {}\n", peers.outbound);
  fmt::format_to(out, "swarmdial_peers{{direction=\"inbound\"}} {}\n", peers.inbound);
  if (seed) {
    family("swarmdial_inbound_total", "counter", "Inbound connections by admission result.");
    fmt::format_to(out, "swarmdial_inbound_total{{result=\"accepted\"}} {}\n",
                   seed->inbound_accepted);
    fmt::format_to(out, "swarmdial_inbound_total{{result=\"rejected_max_peers\"}} {}\n",
                   seed->inbound_rejected_full);
    fmt::format_to(out, "swarmdial_inbound_total{{result=\"rejected_rate\"}} {}\n",
                   seed->inbound_rejected_rate);
    fmt::format_to(out, "swarmdial_inbound_total{{result=\"accept_failed_fds\"}} {}\n",
                   seed->inbound_accept_failed_fds);
    family("swarmdial_torrents", "gauge", "Torrents this process seeds.");
    fmt::format_to(out, "swarmdial_torrents {}\n", seed->torrents);
    if (seed->with_torrent_changes) {
      family("swarmdial_torrents_added_total", "counter",
             "Torrents that started seeding while the process ran (--torrents-dir).");
      fmt::format_to(out, "swarmdial_torrents_added_total {}\n", seed->torrents_added);
      family("swarmdial_torrents_removed_total", "counter",
             "Torrents that stopped seeding while the process ran (--torrents-dir).");
      fmt::format_to(out, "swarmdial_torrents_removed_total {}\n", seed->torrents_removed);
    }
    family("swarmdial_dials_waiting", "gauge",
           "Peers waiting in the dial scheduler for a turn at the shared budget.");
    fmt::format_to(out, "swarmdial_dials_waiting {}\n", seed->dials_waiting);
    family("swarmdial_dials_dropped_total", "counter",
           "Peers not queued for a dial: their torrent's queue was full.");
    fmt::format_to(out, "swarmdial_dials_dropped_total {}\n", seed->dials_dropped);
    if (seed->with_announces) {
      family(
          "swarmdial_announces_queued", "gauge",
          "Tracker announces waiting for a slot (--announce-limit, --announce-limit-per-tracker).");
      fmt::format_to(out, "swarmdial_announces_queued {}\n", seed->announces_queued);
      family("swarmdial_announces_in_flight", "gauge", "Tracker announces in flight.");
      fmt::format_to(out, "swarmdial_announces_in_flight {}\n", seed->announces_in_flight);
      family("swarmdial_announces_started_total", "counter", "Tracker announces started.");
      fmt::format_to(out, "swarmdial_announces_started_total {}\n", seed->announces_started);
      family("swarmdial_announces_late_total", "counter",
             "Tracker announces that started more than 5 s after they were due.");
      fmt::format_to(out, "swarmdial_announces_late_total {}\n", seed->announces_late);
    }
    if (seed->with_peer_book) {
      family("swarmdial_peer_book_peers", "gauge",
             "Peers the node knows to dial (every torrent), by state.");
      for (size_t i = 0; i < seed->peer_book.by_state.size(); ++i)
        fmt::format_to(out, "swarmdial_peer_book_peers{{state=\"{}\"}} {}\n",
                       peer_book_state_name(static_cast<PeerBookState>(i)),
                       seed->peer_book.by_state[i]);
      family("swarmdial_peer_book_seeds", "gauge", "Known peers that said they have every piece.");
      fmt::format_to(out, "swarmdial_peer_book_seeds {}\n", seed->peer_book.seeds);
      family("swarmdial_peer_book_forgotten_total", "counter",
             "Peers given up and then dropped from the book.");
      fmt::format_to(out, "swarmdial_peer_book_forgotten_total {}\n", seed->peer_book.forgotten);
    }
    family("swarmdial_upload_bytes_total", "counter", "Piece bytes sent to peers.");
    fmt::format_to(out, "swarmdial_upload_bytes_total {}\n", seed->upload_bytes);
    family("swarmdial_pieces_served_total", "counter", "Pieces whose last block was sent.");
    fmt::format_to(out, "swarmdial_pieces_served_total {}\n", seed->pieces_served);
    family("swarmdial_disconnects_total", "counter", "Peer sessions ended, by reason.");
    for (const auto& [reason, n] : seed->disconnects)
      fmt::format_to(out, "swarmdial_disconnects_total{{reason=\"{}\"}} {}\n", reason, n);
    if (!seed->redials.empty()) {
      family("swarmdial_redials_total", "counter",
             "Outbound peers dialled again, by how the last attempt or session ended.");
      for (const auto& [cause, n] : seed->redials)
        fmt::format_to(out, "swarmdial_redials_total{{cause=\"{}\"}} {}\n", cause, n);
      family("swarmdial_peers_given_up_total", "counter",
             "Outbound peers no longer dialled after too many failures, by the last cause.");
      for (const auto& [cause, n] : seed->given_up)
        fmt::format_to(out, "swarmdial_peers_given_up_total{{cause=\"{}\"}} {}\n", cause, n);
    }
    if (!seed->trackers.empty()) {
      family("swarmdial_tracker_announces_total", "counter", "Tracker announces, by result.");
      for (const auto& t : seed->trackers) {
        // Label values escape backslash and quote, per the text format.
        std::string url;
        for (char c : t.url) {
          if (c == '\\' || c == '"') url.push_back('\\');
          if (c != '\n') url.push_back(c);
        }
        fmt::format_to(out,
                       "swarmdial_tracker_announces_total{{tracker=\"{}\",result=\"ok\"}} {}\n",
                       url, t.ok);
        fmt::format_to(out,
                       "swarmdial_tracker_announces_total{{tracker=\"{}\",result=\"error\"}} {}\n",
                       url, t.failed);
      }
    }
  }
  if (rings) {
    family("swarmdial_uring_overflow_total", "counter",
           "io_uring completions lost to a full CQ (cq) and submissions dropped (sq).");
    fmt::format_to(out, "swarmdial_uring_overflow_total{{queue=\"cq\"}} {}\n", rings->cq_overflow);
    fmt::format_to(out, "swarmdial_uring_overflow_total{{queue=\"sq\"}} {}\n", rings->sq_dropped);
  }
  return fmt::to_string(b);
}

}  // namespace swarmdial
