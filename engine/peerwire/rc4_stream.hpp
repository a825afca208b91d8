#pragma once
// One direction of an MSE/PE connection's RC4 stream, from OpenSSL (RC4
// lives in OpenSSL 3's legacy provider, loaded once). The first 1024 bytes
// of keystream are discarded, as MSE requires (RC4's early output is biased).
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace swarmdial {

class Rc4Stream {
 public:
  Rc4Stream() = default;
  // Throws std::runtime_error when OpenSSL has no RC4 (legacy provider missing).
  explicit Rc4Stream(std::span<const uint8_t, 20> key);
  Rc4Stream(Rc4Stream&& o) noexcept : ctx_(o.ctx_) { o.ctx_ = nullptr; }
  Rc4Stream& operator=(Rc4Stream&& o) noexcept;
  ~Rc4Stream();

  explicit operator bool() const { return ctx_ != nullptr; }
  // Encrypts or decrypts (the same for a stream cipher) in place.
  void apply(uint8_t* data, size_t n);

 private:
  EVP_CIPHER_CTX* ctx_ = nullptr;
};

// Whether this OpenSSL can do RC4 (for --encryption's startup check).
bool rc4_available();

}  // namespace swarmdial
