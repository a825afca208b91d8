#include "mse_handshake.hpp"

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace swarmdial {
namespace {

// The group every MSE implementation uses: a 768-bit safe prime, generator 2.
constexpr char kPrimeHex[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A3621"
    "0000000000090563";
static_assert(sizeof kPrimeHex - 1 == 2 * MseHandshake::kKeySize);

// A verification constant (8 zero bytes), crypto field (4), pad length (2).
constexpr size_t kVcFields = 8 + 4 + 2;
constexpr size_t kMaxInitialPayload = 65535;  // len(IA) is 16 bits

using Bn = std::unique_ptr<BIGNUM, decltype(&BN_clear_free)>;
using BnCtx = std::unique_ptr<BN_CTX, decltype(&BN_CTX_free)>;

Bn bn(BIGNUM* b) {
  if (!b) throw std::bad_alloc();
  return Bn(b, &BN_clear_free);
}

const BIGNUM* prime() {
  static BIGNUM* p = [] {
    BIGNUM* b = nullptr;
    BN_hex2bn(&b, kPrimeHex);
    return b;
  }();
  return p;
}

// base^exponent mod P, as kKeySize big-endian bytes; the exponent is secret,
// so the constant-time exponentiation.
bool mod_exp(const BIGNUM* base, std::span<const uint8_t> exponent, uint8_t* out) {
  BnCtx ctx(BN_CTX_new(), &BN_CTX_free);
  Bn x = bn(BN_bin2bn(exponent.data(), static_cast<int>(exponent.size()), nullptr));
  Bn r = bn(BN_new());
  BN_set_flags(x.get(), BN_FLG_CONSTTIME);
  return ctx &&
         BN_mod_exp_mont_consttime(r.get(), base, x.get(), prime(), ctx.get(), nullptr) == 1 &&
         BN_bn2binpad(r.get(), out, MseHandshake::kKeySize) ==
             static_cast<int>(MseHandshake::kKeySize);
}

void random_bytes(uint8_t* p, size_t n) {
  if (RAND_bytes(p, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

// HASH(label, a, b): SHA-1 over their concatenation (at most 4 + 96 + 20 bytes).
std::array<uint8_t, 20> hash(std::string_view label, std::span<const uint8_t> a,
                             std::span<const uint8_t> b = {}) {
  std::array<uint8_t, 4 + MseHandshake::kKeySize + 20> in;
  size_t n = 0;
  for (std::span<const uint8_t> part :
       {std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(label.data()), label.size()), a,
        b}) {
    if (part.empty()) continue;  // an empty span's data() may be null
    std::memcpy(in.data() + n, part.data(), part.size());
    n += part.size();
  }
  std::array<uint8_t, 20> d;
  SHA1(in.data(), n, d.data());
  return d;
}

// A random pad, 0 to max bytes, so the handshake has no fixed length.
void append_pad(std::string& out, size_t max) {
  uint16_t r;
  random_bytes(reinterpret_cast<uint8_t*>(&r), sizeof r);
  size_t n = r % (max + 1);
  size_t at = out.size();
  out.resize(at + n);
  if (n) random_bytes(reinterpret_cast<uint8_t*>(out.data() + at), n);
}

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_be(const uint8_t* p, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::optional<EncryptionPolicy> parse_encryption_policy(std::string_view s) {
  if (s == "prefer") return EncryptionPolicy::kPrefer;
  if (s == "require") return EncryptionPolicy::kRequire;
  if (s == "off") return EncryptionPolicy::kOff;
  return std::nullopt;
}

std::string_view encryption_policy_name(EncryptionPolicy p) {
  switch (p) {
    case EncryptionPolicy::kPrefer:
      return "prefer";
    case EncryptionPolicy::kRequire:
      return "require";
    case EncryptionPolicy::kOff:
      return "off";
  }
  return "?";
}

std::string_view mse_failure_name(MseFailure f) {
  switch (f) {
    case MseFailure::kNone:
      return "none";
    case MseFailure::kPlaintextRefused:
      return "plaintext_refused";
    case MseFailure::kEncryptedRefused:
      return "encrypted_refused";
    case MseFailure::kBadKey:
      return "bad_key";
    case MseFailure::kNoSync:
      return "no_sync";
    case MseFailure::kUnknownInfoHash:
      return "unknown_info_hash";
    case MseFailure::kBadVc:
      return "bad_vc";
    case MseFailure::kBadPad:
      return "bad_pad";
    case MseFailure::kNoCommonMethod:
      return "no_common_method";
    case MseFailure::kTooLarge:
      return "too_large";
  }
  return "?";
}

MseSkeys::MseSkeys(std::span<const InfoHash> torrents) {
  by_req2_.reserve(torrents.size());
  for (const InfoHash& ih : torrents) by_req2_.emplace_back(hash("req2", ih), ih);
  std::sort(by_req2_.begin(), by_req2_.end());
}

const InfoHash* MseSkeys::find(const std::array<uint8_t, 20>& req2) const {
  auto it = std::lower_bound(by_req2_.begin(), by_req2_.end(), req2,
                             [](const auto& e, const auto& k) { return e.first < k; });
  return it != by_req2_.end() && it->first == req2 ? &it->second : nullptr;
}

MseHandshake MseHandshake::inbound(EncryptionPolicy policy, std::span<const InfoHash> skeys) {
  MseHandshake h(false, policy);
  h.own_skeys_ = std::make_unique<MseSkeys>(skeys);
  h.skeys_ = h.own_skeys_.get();
  return h;
}

MseHandshake MseHandshake::inbound(EncryptionPolicy policy, const MseSkeys& skeys) {
  MseHandshake h(false, policy);
  h.skeys_ = &skeys;
  return h;
}

MseHandshake MseHandshake::outbound(EncryptionPolicy policy, const InfoHash& skey,
                                    std::string_view ia) {
  MseHandshake h(true, policy);
  h.skey_ = skey;
  h.ia_.assign(ia.substr(0, kMaxInitialPayload));
  h.state_ = State::kPeerKey;
  return h;
}

uint32_t MseHandshake::offer() const {
  return policy_ == EncryptionPolicy::kRequire ? kCryptoRc4 : kCryptoRc4 | kCryptoPlaintext;
}

MseStatus MseHandshake::fail(MseFailure f) {
  failure_ = f;
  state_ = State::kFailed;
  buf_.clear();
  return MseStatus::kFailed;
}

void MseHandshake::start(std::string& out) {
  if (!outbound_) return;
  random_bytes(private_key_.data(), private_key_.size());
  Bn g = bn(BN_new());
  BN_set_word(g.get(), 2);
  size_t at = out.size();
  out.resize(at + kKeySize);
  if (!mod_exp(g.get(), private_key_, reinterpret_cast<uint8_t*>(out.data() + at)))
    throw std::runtime_error("MSE: DH key generation failed");
  append_pad(out, kMaxPad);
}

// The peer's public value arrived: our own (inbound), and the shared secret.
bool MseHandshake::read_peer_key(std::string& out) {
  Bn y = bn(BN_bin2bn(buf_.data(), kKeySize, nullptr));
  // 1 < Y < P-1: anything else makes the secret guessable.
  Bn top = bn(BN_dup(prime()));
  BN_sub_word(top.get(), 1);
  if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), top.get()) >= 0) return false;
  if (!outbound_) {
    random_bytes(private_key_.data(), private_key_.size());
    Bn g = bn(BN_new());
    BN_set_word(g.get(), 2);
    size_t at = out.size();
    out.resize(at + kKeySize);
    if (!mod_exp(g.get(), private_key_, reinterpret_cast<uint8_t*>(out.data() + at))) return false;
    append_pad(out, kMaxPad);
  }
  return mod_exp(y.get(), private_key_, secret_.data());
}

bool MseHandshake::have_decrypted(size_t upto) {
  if (buf_.size() < upto) return false;
  if (upto > dec_) {
    recv_.apply(buf_.data() + dec_, upto - dec_);
    dec_ = upto;
  }
  return true;
}

std::span<const uint8_t> MseHandshake::payload() const {
  if (state_ != State::kDone || pos_ >= buf_.size()) return {};
  return std::span<const uint8_t>(buf_).subspan(pos_);
}

// The handshake is over; payload() starts at pos_. The bytes past what the
// handshake decrypted are the stream's: decrypted now if it is RC4.
MseStatus MseHandshake::done() {
  state_ = State::kDone;
  if (rc4_) {
    have_decrypted(buf_.size());
  } else {
    send_ = Rc4Stream{};
    recv_ = Rc4Stream{};
  }
  return MseStatus::kDone;
}

MseStatus MseHandshake::on_receive(std::span<const uint8_t> in, std::string& out) {
  if (state_ == State::kFailed) return MseStatus::kFailed;
  if (state_ == State::kDone) return MseStatus::kDone;
  // The most a well-behaved peer sends before the handshake ends: key, pad,
  // two hashes, the VC fields, another pad and the initial payload.
  constexpr size_t kMaxBuffered =
      kKeySize + kMaxPad + 40 + kVcFields + kMaxPad + 2 + kMaxInitialPayload;
  if (buf_.size() + in.size() > kMaxBuffered) return fail(MseFailure::kTooLarge);
  buf_.insert(buf_.end(), in.begin(), in.end());
  for (;;) {
    switch (state_) {
      case State::kFirst:  // inbound: plaintext or a key?
        if (buf_.size() < 20) {
          // A plaintext handshake shows in its first byte already.
          if (!buf_.empty() && buf_[0] != 0x13 && policy_ == EncryptionPolicy::kOff)
            return fail(MseFailure::kEncryptedRefused);
          return MseStatus::kMore;
        }
        if (begins_bt_handshake(buf_)) {
          if (policy_ == EncryptionPolicy::kRequire) return fail(MseFailure::kPlaintextRefused);
          plaintext_peer_ = true;
          pos_ = 0;
          state_ = State::kDone;
          return MseStatus::kDone;
        }
        if (policy_ == EncryptionPolicy::kOff) return fail(MseFailure::kEncryptedRefused);
        state_ = State::kPeerKey;
        break;
      case State::kPeerKey: {
        if (buf_.size() < kKeySize) return MseStatus::kMore;
        if (!read_peer_key(out)) return fail(MseFailure::kBadKey);
        pos_ = kKeySize;
        if (!outbound_) {
          req1_ = hash("req1", secret_);
          state_ = State::kSyncReq1;
          break;
        }
        // Step 3: both hashes, then the encrypted VC, offer, pad and payload.
        auto req1 = hash("req1", secret_);
        auto req2 = hash("req2", skey_);
        auto req3 = hash("req3", secret_);
        out.append(reinterpret_cast<const char*>(req1.data()), req1.size());
        for (size_t i = 0; i < 20; ++i) out.push_back(static_cast<char>(req2[i] ^ req3[i]));
        send_ = Rc4Stream(hash("keyA", secret_, skey_));
        recv_ = Rc4Stream(hash("keyB", secret_, skey_));
        size_t at = out.size();
        out.append(8, '\0');
        put_be(out, offer(), 4);
        put_be(out, 0, 2);  // PadC: none, the DH pads already vary the length
        put_be(out, ia_.size(), 2);
        out.append(ia_);
        send_.apply(reinterpret_cast<uint8_t*>(out.data() + at), out.size() - at);
        // B's reply starts with the VC encrypted under keyB: eight bytes we
        // can predict, found past PadB.
        Rc4Stream probe(hash("keyB", secret_, skey_));
        vc_pattern_.fill(0);
        probe.apply(vc_pattern_.data(), vc_pattern_.size());
        state_ = State::kSyncVc;
        break;
      }
      case State::kSyncReq1: {
        auto it = std::search(buf_.begin() + static_cast<ptrdiff_t>(pos_), buf_.end(),
                              req1_.begin(), req1_.end());
        if (it == buf_.end()) {
          if (buf_.size() >= kKeySize + kMaxPad + req1_.size()) return fail(MseFailure::kNoSync);
          return MseStatus::kMore;
        }
        pos_ = static_cast<size_t>(it - buf_.begin()) + req1_.size();
        if (pos_ - req1_.size() > kKeySize + kMaxPad) return fail(MseFailure::kNoSync);
        state_ = State::kReq3;
        break;
      }
      case State::kReq3: {
        if (buf_.size() < pos_ + 20) return MseStatus::kMore;
        auto req3 = hash("req3", secret_);
        std::array<uint8_t, 20> req2;
        for (size_t i = 0; i < 20; ++i) req2[i] = buf_[pos_ + i] ^ req3[i];
        const InfoHash* found = skeys_->find(req2);
        if (!found) return fail(MseFailure::kUnknownInfoHash);
        skey_ = *found;
        pos_ += 20;
        recv_ = Rc4Stream(hash("keyA", secret_, skey_));
        send_ = Rc4Stream(hash("keyB", secret_, skey_));
        dec_ = pos_;
        state_ = State::kProvide;
        break;
      }
      case State::kProvide: {
        if (!have_decrypted(pos_ + kVcFields)) return MseStatus::kMore;
        const uint8_t* p = buf_.data() + pos_;
        if (std::any_of(p, p + 8, [](uint8_t b) { return b != 0; }))
          return fail(MseFailure::kBadVc);
        provide_ = get_be(p + 8, 4);
        pad_len_ = static_cast<uint16_t>(get_be(p + 12, 2));
        if (pad_len_ > kMaxPad) return fail(MseFailure::kBadPad);
        pos_ += kVcFields;
        state_ = State::kPadC;
        break;
      }
      case State::kPadC: {
        if (!have_decrypted(pos_ + pad_len_ + 2)) return MseStatus::kMore;
        ia_len_ = static_cast<uint16_t>(get_be(buf_.data() + pos_ + pad_len_, 2));
        pos_ += pad_len_ + 2;
        state_ = State::kIa;
        break;
      }
      case State::kIa: {
        if (!have_decrypted(pos_ + ia_len_)) return MseStatus::kMore;
        // Choose: RC4 whenever both allow it, plaintext only if we do.
        if ((provide_ & kCryptoRc4) != 0)
          select_ = kCryptoRc4;
        else if ((provide_ & kCryptoPlaintext) != 0 && policy_ == EncryptionPolicy::kPrefer)
          select_ = kCryptoPlaintext;
        else
          return fail(MseFailure::kNoCommonMethod);
        rc4_ = select_ == kCryptoRc4;
        size_t at = out.size();
        out.append(8, '\0');
        put_be(out, select_, 4);
        put_be(out, 0, 2);  // PadD: none
        send_.apply(reinterpret_cast<uint8_t*>(out.data() + at), out.size() - at);
        // The initial payload is the stream's first bytes, decrypted; what
        // came after it (a peer that pipelines) is RC4 or plaintext as chosen.
        return done();
      }
      case State::kSyncVc: {
        auto it = std::search(buf_.begin() + static_cast<ptrdiff_t>(pos_), buf_.end(),
                              vc_pattern_.begin(), vc_pattern_.end());
        if (it == buf_.end()) {
          if (buf_.size() >= kKeySize + kMaxPad + vc_pattern_.size())
            return fail(MseFailure::kNoSync);
          return MseStatus::kMore;
        }
        pos_ = static_cast<size_t>(it - buf_.begin());
        if (pos_ > kKeySize + kMaxPad) return fail(MseFailure::kNoSync);
        dec_ = pos_;
        state_ = State::kSelect;
        break;
      }
      case State::kSelect: {
        if (!have_decrypted(pos_ + kVcFields)) return MseStatus::kMore;
        const uint8_t* p = buf_.data() + pos_;
        select_ = get_be(p + 8, 4);
        pad_len_ = static_cast<uint16_t>(get_be(p + 12, 2));
        if (pad_len_ > kMaxPad) return fail(MseFailure::kBadPad);
        // Exactly one method, one we offered.
        if ((select_ != kCryptoRc4 && select_ != kCryptoPlaintext) || (select_ & offer()) == 0)
          return fail(MseFailure::kNoCommonMethod);
        pos_ += kVcFields;
        state_ = State::kPadD;
        break;
      }
      case State::kPadD: {
        if (!have_decrypted(pos_ + pad_len_)) return MseStatus::kMore;
        pos_ += pad_len_;
        rc4_ = select_ == kCryptoRc4;
        return done();
      }
      case State::kDone:
        return MseStatus::kDone;
      case State::kFailed:
        return MseStatus::kFailed;
    }
  }
}

}  // namespace swarmdial
