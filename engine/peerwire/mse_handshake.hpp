#pragma once
// MSE/PE, the BitTorrent "protocol encryption" that libtorrent, Vuze,
// Transmission and qBittorrent speak, sans-I/O: bytes in, bytes out, and at
// the end the two RC4 streams and whatever payload came with the handshake.
//
//   A -> B  Ya, PadA                          (DH over a fixed 768-bit group)
//   B -> A  Yb, PadB
//   A -> B  HASH('req1',S), HASH('req2',SKEY)^HASH('req3',S),
//           ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
//   B -> A  ENCRYPT(VC, crypto_select, len(PadD), PadD), then the stream
//
// SKEY is the torrent's info-hash, so an inbound connection names its
// torrent before any BitTorrent byte is read; ENCRYPT is RC4 keyed by
// HASH('keyA'|'keyB', S, SKEY) with 1024 bytes discarded. The stream after
// the handshake stays RC4 when crypto_select chose it, or turns plaintext.
// The padding is random, so each side finds the other's next field by
// searching for a value it can predict (req1's hash, or the encrypted VC)
// within the 512 bytes a pad may take; past that the peer is not speaking
// MSE. DH and RC4 are OpenSSL's; nothing cryptographic is written here.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bt_handshake.hpp"
#include "rc4_stream.hpp"

namespace swarmdial {

// --encryption: prefer (RC4 when the peer can, plaintext otherwise: what
// libtorrent-based clients default to), require (RC4 only), off (plaintext
// only; MSE peers are refused).
enum class EncryptionPolicy : uint8_t { kPrefer, kRequire, kOff };
std::optional<EncryptionPolicy> parse_encryption_policy(std::string_view s);
std::string_view encryption_policy_name(EncryptionPolicy p);

enum class MseStatus : uint8_t { kMore, kDone, kFailed };

enum class MseFailure : uint8_t {
  kNone,
  kPlaintextRefused,  // a plaintext handshake under --encryption require
  kEncryptedRefused,  // not a plaintext handshake under --encryption off
  kBadKey,            // a DH public value out of range
  kNoSync,            // the predictable field did not come within the pad limit
  kUnknownInfoHash,   // SKEY is none of our torrents
  kBadVc,             // the verification constant did not decrypt to zeros
  kBadPad,            // a pad over 512 bytes
  kNoCommonMethod,    // crypto_provide/crypto_select share nothing we allow
  kTooLarge,          // the initial payload over its limit
};
std::string_view mse_failure_name(MseFailure f);

// The torrents an inbound peer may ask for, found by the hash that hides
// the info-hash in step 3 (HASH('req2', SKEY)): one lookup, whatever the
// number of torrents a node seeds, instead of a SHA-1 per torrent.
class MseSkeys {
 public:
  explicit MseSkeys(std::span<const InfoHash> torrents);
  const InfoHash* find(const std::array<uint8_t, 20>& req2) const;
  size_t size() const { return by_req2_.size(); }

 private:
  std::vector<std::pair<std::array<uint8_t, 20>, InfoHash>> by_req2_;  // sorted
};

class MseHandshake {
 public:
  static constexpr size_t kKeySize = 96;  // a DH public value, big-endian
  static constexpr size_t kMaxPad = 512;
  static constexpr uint32_t kCryptoPlaintext = 1, kCryptoRc4 = 2;

  // We were dialled (B). A plaintext BitTorrent handshake passes through,
  // unless the policy requires encryption; anything else is read as A's key.
  static MseHandshake inbound(EncryptionPolicy policy, std::span<const InfoHash> skeys);
  // The same over a set the caller keeps alive longer than the handshake.
  static MseHandshake inbound(EncryptionPolicy policy, const MseSkeys& skeys);
  // We dial (A), for the torrent skey; ia is sent encrypted with step 3 (our
  // BitTorrent handshake, saving a round trip). kOff never runs MSE.
  static MseHandshake outbound(EncryptionPolicy policy, const InfoHash& skey, std::string_view ia);

  // Outbound: Ya and PadA. Inbound: nothing.
  void start(std::string& out);
  MseStatus on_receive(std::span<const uint8_t> in, std::string& out);

  MseFailure failure() const { return failure_; }
  // Once kDone:
  bool encrypted() const { return !plaintext_peer_; }  // ran MSE (false: plaintext handshake)
  bool rc4() const { return rc4_; }                    // the stream after it is RC4
  // Bytes that came past the handshake (for inbound: the peer's initial
  // payload, its BitTorrent handshake), decrypted: the peer-wire session's.
  std::span<const uint8_t> payload() const;
  const InfoHash& skey() const { return skey_; }
  Rc4Stream take_send() { return std::move(send_); }
  Rc4Stream take_recv() { return std::move(recv_); }

 private:
  enum class State : uint8_t {
    kFirst,
    kPeerKey,
    kSyncReq1,
    kReq3,
    kProvide,
    kPadC,
    kIa,
    kSyncVc,
    kSelect,
    kPadD,
    kDone,
    kFailed
  };
  MseHandshake(bool outbound, EncryptionPolicy policy) : outbound_(outbound), policy_(policy) {}
  MseStatus fail(MseFailure f);
  bool read_peer_key(std::string& out);
  // Decrypts buf_[dec_, upto) with the receive stream once, and says
  // whether that much has arrived.
  bool have_decrypted(size_t upto);
  MseStatus done();
  uint32_t offer() const;

  bool outbound_;
  EncryptionPolicy policy_;
  State state_ = State::kFirst;
  MseFailure failure_ = MseFailure::kNone;
  bool plaintext_peer_ = false, rc4_ = false;
  std::array<uint8_t, 20> private_key_{};
  std::array<uint8_t, kKeySize> secret_{};  // S
  std::unique_ptr<MseSkeys> own_skeys_;
  const MseSkeys* skeys_ = nullptr;
  InfoHash skey_{};
  std::string ia_;  // outbound: the payload to send with step 3
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;  // where the next field starts in buf_
  size_t dec_ = 0;  // buf_ is decrypted up to here
  uint32_t provide_ = 0, select_ = 0;
  uint16_t pad_len_ = 0, ia_len_ = 0;
  std::array<uint8_t, 20> req1_{};
  std::array<uint8_t, 8> vc_pattern_{};
  Rc4Stream send_, recv_;
};

}  // namespace swarmdial
