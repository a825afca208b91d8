// MSE/PE handshakes under attack. Half the inputs are a stranger's raw
// stream to the inbound side (plaintext detection, the req1 search, the
// limits); the other half run our outbound side against our inbound side
// with the fuzzer's bytes XORed into the messages that cross, which reaches
// the fields behind the key exchange (VC, crypto_provide, pad lengths,
// SKEY). Either way: no crash and an end (done or failed) within its limits.
// Two sides left alone must both finish on RC4. Two sides whose messages
// were changed need not agree: MSE has no integrity check past the VC, so a
// flipped crypto_select ends A in plaintext and B in RC4, and the first
// peer-wire message then fails to parse; that is the peer session's job.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/peerwire/mse_handshake.hpp"

using namespace swarmdial;

namespace {

const InfoHash kTorrent = [] {
  InfoHash h;
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(i + 1);
  return h;
}();

EncryptionPolicy policy(uint8_t b) {
  return static_cast<EncryptionPolicy>(b % 3);
}

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void stranger(const uint8_t* data, size_t size) {
  MseHandshake b = MseHandshake::inbound(policy(data[0] >> 2), std::vector<InfoHash>{kTorrent});
  size_t chunk = 1 + (data[0] >> 4) * 37;
  std::string out;
  for (size_t at = 1; at < size; at += chunk) {
    size_t n = std::min(chunk, size - at);
    if (b.on_receive({data + at, n}, out) != MseStatus::kMore) break;
  }
  // Our reply is a key and a pad, or that and step 4: never more.
  if (out.size() > MseHandshake::kKeySize + MseHandshake::kMaxPad + 14) abort();
}

void corrupted_exchange(const uint8_t* data, size_t size) {
  std::string ia =
      "\x13"
      "BitTorrent protocol";
  MseHandshake a = MseHandshake::outbound(policy(data[0] >> 2), kTorrent, ia);
  MseHandshake b = MseHandshake::inbound(policy(data[0] >> 4), std::vector<InfoHash>{kTorrent});
  std::string a_out, b_out;
  a.start(a_out);
  size_t f = 1;
  bool changed = false;
  // XORs the fuzzer's next bytes into a message, at an offset it picks.
  auto corrupt = [&](std::string& m) {
    if (f + 2 > size || m.empty()) return;
    size_t at = (size_t{data[f]} << 8 | data[f + 1]) % m.size();
    f += 2;
    size_t n = std::min<size_t>(size - f, 4);
    for (size_t i = 0; i < n && at + i < m.size(); ++i) {
      m[at + i] ^= static_cast<char>(data[f + i]);
      changed |= data[f + i] != 0;
    }
    f += n;
  };
  MseStatus sa = MseStatus::kMore, sb = MseStatus::kMore;
  for (int round = 0; round < 4 && sa == MseStatus::kMore; ++round) {
    corrupt(a_out);
    std::string in;
    in.swap(a_out);
    if (sb == MseStatus::kMore) sb = b.on_receive(bytes(in), b_out);
    corrupt(b_out);
    in.clear();
    in.swap(b_out);
    if (!in.empty()) sa = a.on_receive(bytes(in), a_out);
  }
  if (changed) return;
  // Untouched, B refuses only when it takes no encrypted peers at all, and
  // otherwise picks RC4, which every outbound offer holds.
  if (policy(data[0] >> 4) == EncryptionPolicy::kOff) {
    if (sb != MseStatus::kFailed) abort();
  } else if (sa != MseStatus::kDone || sb != MseStatus::kDone || !a.rc4() || !b.rc4()) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 4096) return 0;
  if (data[0] & 1)
    corrupted_exchange(data, size);
  else
    stranger(data, size);
  return 0;
}
