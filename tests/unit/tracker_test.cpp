#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

#include "engine/tracker/announce_gate.hpp"
#include "engine/tracker/http_announce.hpp"
#include "engine/tracker/tracker_tiers.hpp"
#include "engine/tracker/tracker_url.hpp"
#include "engine/tracker/udp_exchange.hpp"

using namespace swarmdial;

namespace {
constexpr int64_t kSec = 1'000'000'000;

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string be(uint64_t v, int n) {
  std::string out;
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}
uint32_t tid_of(const std::string& request) {
  return static_cast<uint32_t>(
      static_cast<uint8_t>(request[12]) << 24 | static_cast<uint8_t>(request[13]) << 16 |
      static_cast<uint8_t>(request[14]) << 8 | static_cast<uint8_t>(request[15]));
}
AnnounceRequest sample_request() {
  AnnounceRequest r;
  r.info_hash = *parse_info_hash_hex("0102030405060708090a0b0c0d0e0f1011121314");
  r.peer_id = make_peer_id(3);
  r.port = 6881;
  r.left = 0;
  r.uploaded = 12345;
  r.event = AnnounceEvent::kStarted;
  r.key = 0xdeadbeef;
  return r;
}
}  // namespace

TEST(TrackerUrl, ParsesUdpAndHttpAndRefusesTheRest) {
  std::string err;
  auto u = parse_tracker_url("udp://127.0.0.1:6969/announce", err);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, TrackerUrl::Scheme::kUdp);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 6969);
  auto h = parse_tracker_url("http://tracker.local/announce?passkey=ab", err);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->port, 80);
  EXPECT_EQ(h->target, "/announce?passkey=ab");
  auto v6 = parse_tracker_url("http://[::1]:8000/a", err);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8000);
  EXPECT_FALSE(parse_tracker_url("udp://127.0.0.1/announce", err));
  EXPECT_NE(err.find("port"), std::string::npos);
  EXPECT_FALSE(parse_tracker_url("https://t/announce", err));
  EXPECT_NE(err.find("https"), std::string::npos);
  EXPECT_FALSE(parse_tracker_url("ftp://x", err));
  EXPECT_FALSE(parse_tracker_url("http://h:99999/", err));
  EXPECT_FALSE(parse_tracker_url("http:///x", err));
}

TEST(HttpAnnounce, TargetCarriesEveryKeyUrlEncoded) {
  std::string err;
  auto u = *parse_tracker_url("http://t:1/announce?passkey=x", err);
  auto r = sample_request();
  r.tracker_id = "id 1";
  std::string t = http_announce_target(u, r);
  EXPECT_EQ(t.rfind("/announce?passkey=x&info_hash=%01%02%03%04%05%06%07%08%09%0A%0B%0C", 0), 0u)
      << t;
  EXPECT_NE(t.find("&peer_id=-SZ0100-"), std::string::npos);
  EXPECT_NE(t.find("&port=6881&uploaded=12345&downloaded=0&left=0&compact=1"), std::string::npos);
  EXPECT_NE(t.find("&key=deadbeef"), std::string::npos);
  EXPECT_NE(t.find("&event=started"), std::string::npos);
  EXPECT_NE(t.find("&trackerid=id%201"), std::string::npos);
}

TEST(HttpAnnounce, ParsesCompactPeers6DictPeersAndFields) {
  std::string peers =
      std::string("\x7f\x00\x00\x02\x1a\xe1", 6) + std::string("\x7f\x00\x00\x03\x00\x00", 6);
  std::string p6(16, '\0');
  p6[15] = 1;
  p6 += std::string("\x1a\xe2", 2);
  std::string body =
      "d8:completei5e10:incompletei3e8:intervali900e12:min intervali60e5:peers12:" + peers +
      "6:peers618:" + p6 + "10:tracker id3:abc15:warning message4:slowe";
  auto r = parse_http_announce(body);
  ASSERT_TRUE(std::holds_alternative<AnnounceResponse>(r));
  auto& a = std::get<AnnounceResponse>(r);
  EXPECT_EQ(a.interval_s, 900);
  EXPECT_EQ(a.min_interval_s, 60);
  EXPECT_EQ(a.tracker_id, "abc");
  EXPECT_EQ(a.warning, "slow");
  EXPECT_EQ(a.seeders, 5u);
  EXPECT_EQ(a.leechers, 3u);
  ASSERT_EQ(a.peers.size(), 2u);  // the port-0 peer is dropped
  EXPECT_EQ(format_endpoint(a.peers[0]), "127.0.0.2:6881");
  EXPECT_EQ(format_endpoint(a.peers[1]), "[::1]:6882");

  auto d = parse_http_announce("d8:intervali30e5:peersld2:ip9:127.0.0.94:porti7000eeee");
  ASSERT_TRUE(std::holds_alternative<AnnounceResponse>(d));
  ASSERT_EQ(std::get<AnnounceResponse>(d).peers.size(), 1u);
  EXPECT_EQ(format_endpoint(std::get<AnnounceResponse>(d).peers[0]), "127.0.0.9:7000");
  // A hostile interval is clamped, never 0.
  EXPECT_EQ(std::get<AnnounceResponse>(parse_http_announce("d8:intervali0e5:peers0:e")).interval_s,
            10);
}

TEST(HttpAnnounce, RejectsBadRepliesWithAReason) {
  auto fail = [](std::string_view body) {
    auto r = parse_http_announce(body);
    EXPECT_TRUE(std::holds_alternative<TrackerFailure>(r)) << body;
    return std::holds_alternative<TrackerFailure>(r) ? std::get<TrackerFailure>(r)
                                                     : TrackerFailure{};
  };
  auto f = fail("d14:failure reason12:unregisterede");
  EXPECT_TRUE(f.from_tracker);
  EXPECT_EQ(f.text, "unregistered");
  EXPECT_EQ(fail("d8:interval4:fai\xe5"
                 "14:failure reason0:e")
                .text,
            "failure with an empty reason");
  EXPECT_NE(fail("d8:intervali30e5:peers7:abcdefge").text.find("not a multiple of 6"),
            std::string::npos);
  EXPECT_NE(fail("d8:intervali30e6:peers65:abcdee").text.find("not a multiple of 18"),
            std::string::npos);
  EXPECT_NE(fail("<html>nope</html>").text.find("bad bencode"), std::string::npos);
  EXPECT_FALSE(fail("d8:intervali30e5:peersi3ee").from_tracker);
  EXPECT_NE(fail("d5:peers0:e").text.find("interval"), std::string::npos);
  EXPECT_NE(fail("le").text.find("dictionary"), std::string::npos);
  std::string deep(100, 'l');
  fail(deep + std::string(100, 'e'));
  TrackerReplyLimits small;
  small.max_body = 10;
  EXPECT_TRUE(std::holds_alternative<TrackerFailure>(
      parse_http_announce("d8:intervali30e5:peers0:e", small)));
}

TEST(UdpMessages, BuildsBep15Requests) {
  std::string c = udp_connect_request(0x11223344);
  EXPECT_EQ(c, be(0x41727101980ULL, 8) + be(0, 4) + be(0x11223344, 4));
  auto r = sample_request();
  std::string a = udp_announce_request(0xabcdef, 7, r);
  ASSERT_EQ(a.size(), 98u);
  EXPECT_EQ(a.substr(0, 16), be(0xabcdef, 8) + be(1, 4) + be(7, 4));
  EXPECT_EQ(a.substr(72, 8), be(12345, 8));  // uploaded (after downloaded and left)
  EXPECT_EQ(a.substr(80, 4), be(2, 4));      // event started
  EXPECT_EQ(a.substr(96, 2), be(6881, 2));
  InfoHash hs[2] = {r.info_hash, r.info_hash};
  EXPECT_EQ(udp_scrape_request(1, 2, hs).size(), 16u + 40u);
}

TEST(UdpMessages, ValidatesRepliesAgainstIdAndAction) {
  std::string reply = be(1, 4) + be(99, 4) + be(1800, 4) + be(2, 4) + be(4, 4) +
                      std::string("\x7f\x00\x00\x05\x1a\xe1", 6) + "\x7f\x00";  // trailing junk
  auto ok = parse_udp_reply(bytes(reply), 99, UdpAction::kAnnounce);
  ASSERT_TRUE(std::holds_alternative<AnnounceResponse>(ok));
  EXPECT_EQ(std::get<AnnounceResponse>(ok).seeders, 4u);
  EXPECT_EQ(std::get<AnnounceResponse>(ok).peers.size(), 1u);
  EXPECT_TRUE(
      std::holds_alternative<UdpIgnored>(parse_udp_reply(bytes(reply), 98, UdpAction::kAnnounce)));
  EXPECT_TRUE(
      std::holds_alternative<UdpIgnored>(parse_udp_reply(bytes(reply), 99, UdpAction::kConnect)));
  EXPECT_TRUE(std::holds_alternative<UdpIgnored>(
      parse_udp_reply(bytes(reply.substr(0, 12)), 99, UdpAction::kAnnounce)));
  EXPECT_TRUE(
      std::holds_alternative<UdpIgnored>(parse_udp_reply(bytes("abc"), 99, UdpAction::kAnnounce)));
  auto err = parse_udp_reply(bytes(be(3, 4) + be(99, 4) + "banned"), 99, UdpAction::kAnnounce);
  ASSERT_TRUE(std::holds_alternative<TrackerFailure>(err));
  EXPECT_EQ(std::get<TrackerFailure>(err).text, "banned");
  auto conn = parse_udp_reply(bytes(be(0, 4) + be(5, 4) + be(0x1234, 8)), 5, UdpAction::kConnect);
  ASSERT_TRUE(std::holds_alternative<UdpConnectReply>(conn));
  EXPECT_EQ(std::get<UdpConnectReply>(conn).connection_id, 0x1234u);
}

TEST(UdpExchange, ConnectsAnnouncesAndReusesTheConnectionIdFor60s) {
  UdpExchangeOptions o;
  UdpAnnounceExchange x(o, 42);
  x.begin(sample_request(), 0);
  auto c = x.poll(0);
  ASSERT_TRUE(c && c->size() == 16);
  EXPECT_FALSE(x.poll(1));  // nothing until the timeout
  x.on_datagram(bytes(be(0, 4) + be(tid_of(*c), 4) + be(777, 8)), 10);
  auto a = x.poll(10);
  ASSERT_TRUE(a && a->size() == 98);
  EXPECT_EQ(a->substr(0, 8), be(777, 8));
  x.on_datagram(bytes(be(1, 4) + be(tid_of(*a), 4) + be(120, 4) + be(0, 4) + be(0, 4)), 20);
  EXPECT_EQ(x.state(), UdpAnnounceExchange::State::kDone);
  EXPECT_EQ(x.response().interval_s, 120);
  // 59 s later the id is reused; 61 s later a new connect comes first.
  x.begin(sample_request(), 59 * kSec);
  EXPECT_EQ(x.poll(59 * kSec)->size(), 98u);
  UdpAnnounceExchange y(o, 43);
  y.begin(sample_request(), 0);
  auto yc = *y.poll(0);
  y.on_datagram(bytes(be(0, 4) + be(tid_of(yc), 4) + be(1, 8)), 0);
  auto ya = *y.poll(0);
  y.on_datagram(bytes(be(1, 4) + be(tid_of(ya), 4) + be(60, 4) + be(0, 4) + be(0, 4)), 0);
  EXPECT_EQ(y.state(), UdpAnnounceExchange::State::kDone);
  y.begin(sample_request(), 61 * kSec);
  EXPECT_EQ(y.poll(61 * kSec)->size(), 16u);
}

TEST(UdpExchange, AnAdoptedConnectionIdSkipsTheConnectUntilItExpires) {
  UdpExchangeOptions o;
  UdpAnnounceExchange first(o, 7);
  first.begin(sample_request(), 0);
  auto c = *first.poll(0);
  first.on_datagram(bytes(be(0, 4) + be(tid_of(c), 4) + be(4242, 8)), 5 * kSec);
  uint64_t id = 0;
  int64_t at = 0;
  ASSERT_TRUE(first.connection_id(id, at));
  EXPECT_EQ(id, 4242u);
  EXPECT_EQ(at, 5 * kSec);
  // Another torrent's exchange to the same tracker announces at once with it.
  UdpAnnounceExchange second(o, 8);
  uint64_t none_id;
  int64_t none_at;
  EXPECT_FALSE(second.connection_id(none_id, none_at));
  second.adopt_connection_id(id, at);
  second.begin(sample_request(), 30 * kSec);
  auto a = *second.poll(30 * kSec);
  ASSERT_EQ(a.size(), 98u);
  EXPECT_EQ(a.substr(0, 8), be(4242, 8));
  // An older id does not replace a newer one; an expired one means a connect.
  second.adopt_connection_id(1, 0);
  ASSERT_TRUE(second.connection_id(id, at));
  EXPECT_EQ(id, 4242u);
  UdpAnnounceExchange third(o, 9);
  third.adopt_connection_id(4242, 5 * kSec);
  third.begin(sample_request(), 66 * kSec);
  EXPECT_EQ(third.poll(66 * kSec)->size(), 16u);
}

TEST(AnnounceGate, CapsPerTrackerAndInTotalAndAdmitsOldestFirst) {
  AnnounceGate g({.per_tracker = 2, .total = 3, .late_after_ns = 5 * kSec});
  std::vector<AnnounceGate::Ticket> a, b;
  for (int i = 0; i < 4; ++i) a.push_back(g.enqueue("udp://a:1", 0));
  for (int i = 0; i < 2; ++i) b.push_back(g.enqueue("udp://b:1", 0));
  EXPECT_EQ(g.queued(), 6u);
  // Two for a (its cap), then b's oldest: the third a does not block b.
  auto first = g.admit(0);
  EXPECT_EQ(first, (std::vector<AnnounceGate::Ticket>{a[0], a[1], b[0]}));
  EXPECT_EQ(g.in_flight(), 3u);
  EXPECT_EQ(g.in_flight_to("udp://a:1"), 2u);
  EXPECT_TRUE(g.admitted(a[0]));
  EXPECT_FALSE(g.admitted(a[2]));
  EXPECT_TRUE(g.admit(0).empty());  // total cap reached
  // b finishing frees a total slot, but a is still at its own cap: b[1].
  g.finish(b[0]);
  EXPECT_EQ(g.admit(1 * kSec), (std::vector<AnnounceGate::Ticket>{b[1]}));
  g.finish(a[0]);
  g.finish(b[1]);
  // Ten seconds after they were due: both late.
  EXPECT_EQ(g.admit(10 * kSec), (std::vector<AnnounceGate::Ticket>{a[2]}));
  g.cancel(a[3]);  // gave up waiting
  EXPECT_EQ(g.queued(), 0u);
  g.finish(a[1]);
  g.finish(a[2]);
  EXPECT_TRUE(g.admit(11 * kSec).empty());
  EXPECT_EQ(g.in_flight(), 0u);
  EXPECT_EQ(g.started(), 5u);
  EXPECT_EQ(g.late(), 1u);
  g.finish(a[2]);  // twice is harmless
  EXPECT_EQ(g.in_flight(), 0u);
}

TEST(AnnounceGate, CancelledWaitersAreSkippedAndNeverAdmitted) {
  AnnounceGate g({.per_tracker = 1, .total = 1, .late_after_ns = 5 * kSec});
  AnnounceGate::Ticket busy = g.enqueue("udp://a:1", 0);
  ASSERT_EQ(g.admit(0), (std::vector<AnnounceGate::Ticket>{busy}));
  std::vector<AnnounceGate::Ticket> waiting;
  for (int i = 0; i < 10000; ++i) waiting.push_back(g.enqueue("udp://a:1", 0));
  // Shutdown: all but the last give up; the queue count follows at once.
  for (int i = 0; i + 1 < 10000; ++i) g.cancel(waiting[i]);
  EXPECT_EQ(g.queued(), 1u);
  g.cancel(waiting[0]);  // twice is harmless
  EXPECT_EQ(g.queued(), 1u);
  g.finish(busy);
  EXPECT_EQ(g.admit(kSec), (std::vector<AnnounceGate::Ticket>{waiting.back()}));
  EXPECT_FALSE(g.admitted(waiting[0]));
  EXPECT_EQ(g.queued(), 0u);
  EXPECT_EQ(g.started(), 2u);
  g.finish(waiting.back());
  EXPECT_TRUE(g.admit(2 * kSec).empty());
  EXPECT_EQ(g.in_flight(), 0u);
}

TEST(AnnounceGate, ThousandsOfTorrentsOnOneTrackerNeverExceedItsCap) {
  AnnounceGate g({.per_tracker = 8, .total = 64, .late_after_ns = 5 * kSec});
  std::deque<AnnounceGate::Ticket> running;
  for (int i = 0; i < 5000; ++i) g.enqueue(i % 2 ? "http://t:80" : "udp://t:6969", 0);
  uint64_t max_to_one = 0, max_total = 0, done = 0;
  for (int64_t t = 0; done < 5000; t += 100'000'000) {  // each announce takes 100 ms
    while (!running.empty()) {
      g.finish(running.front());
      running.pop_front();
      ++done;
    }
    for (auto tk : g.admit(t)) running.push_back(tk);
    max_to_one =
        std::max({max_to_one, g.in_flight_to("http://t:80"), g.in_flight_to("udp://t:6969")});
    max_total = std::max(max_total, g.in_flight());
  }
  EXPECT_EQ(max_to_one, 8u);
  EXPECT_EQ(max_total, 16u);
  EXPECT_EQ(g.started(), 5000u);
  // 16 per 100 ms: the last ones start 31 s after they were due.
  EXPECT_GT(g.late(), 4000u);
}

TEST(UdpExchange, RetransmitsAfter15Times2ToTheNAndGivesUp) {
  UdpExchangeOptions o;
  o.max_exponent = 3;
  UdpAnnounceExchange x(o, 1);
  x.begin(sample_request(), 0);
  auto first = *x.poll(0);
  int64_t t = 0;
  std::vector<int64_t> gaps;
  uint32_t last_tid = tid_of(first);
  for (int i = 0; i < 3; ++i) {
    int64_t d = x.next_deadline();
    EXPECT_FALSE(x.poll(d - 1));
    auto p = x.poll(d);
    ASSERT_TRUE(p);
    EXPECT_NE(tid_of(*p), last_tid);  // a fresh transaction id each time
    last_tid = tid_of(*p);
    gaps.push_back(d - t);
    t = d;
  }
  EXPECT_EQ(gaps, (std::vector<int64_t>{15 * kSec, 30 * kSec, 60 * kSec}));
  // A late reply to an earlier send, a wrong action and a runt are ignored.
  x.on_datagram(bytes(be(0, 4) + be(tid_of(first), 4) + be(1, 8)), t);
  x.on_datagram(bytes(be(2, 4) + be(last_tid, 4)), t);
  x.on_datagram(bytes("xy"), t);
  EXPECT_EQ(x.ignored(), 3u);
  EXPECT_EQ(x.state(), UdpAnnounceExchange::State::kConnecting);
  EXPECT_FALSE(x.poll(x.next_deadline()));
  EXPECT_EQ(x.state(), UdpAnnounceExchange::State::kFailed);
  EXPECT_NE(x.error().find("no reply after 4 tries"), std::string::npos);
}

TEST(UdpExchange, AnErrorReplyEndsTheExchangeWithTheTrackersWords) {
  UdpAnnounceExchange x({}, 5);
  x.begin(sample_request(), 0);
  auto c = *x.poll(0);
  x.on_datagram(bytes(be(3, 4) + be(tid_of(c), 4) + "go away"), 0);
  EXPECT_EQ(x.state(), UdpAnnounceExchange::State::kFailed);
  EXPECT_TRUE(x.tracker_said_no());
  EXPECT_EQ(x.error(), "tracker error: go away");
}

TEST(TrackerTiers, FailsOverInOrderAndPromotesTheOneThatAnswers) {
  TrackerTiers t({{"a1", "a2", "a3"}, {"b1"}}, 9);
  std::vector<std::string> tier0 = t.tiers()[0];
  EXPECT_EQ(t.current(), tier0[0]);
  EXPECT_TRUE(t.on_failure());
  EXPECT_EQ(t.current(), tier0[1]);
  EXPECT_TRUE(t.on_failure());
  EXPECT_TRUE(t.on_failure());
  EXPECT_EQ(t.current(), "b1");
  EXPECT_FALSE(t.on_failure());  // the round is over
  EXPECT_EQ(t.current(), tier0[0]);
  t.on_failure();
  t.on_failure();  // now at tier0[2]
  std::string answered = t.current();
  t.on_success();
  EXPECT_EQ(t.tiers()[0][0], answered);
  EXPECT_EQ(t.current(), answered);
  EXPECT_EQ(t.tiers()[0][1], tier0[0]);
  EXPECT_EQ(t.tiers()[0][2], tier0[1]);
}
