#include "rc4_stream.hpp"

#include <openssl/provider.h>

#include <array>
#include <climits>
#include <mutex>
#include <stdexcept>

namespace swarmdial {
namespace {

// The default provider must be loaded explicitly once another one is, or
// SHA-1 and the rest would vanish from the default library context.
EVP_CIPHER* rc4_cipher() {
  static EVP_CIPHER* cipher = [] {
    OSSL_PROVIDER_load(nullptr, "default");
    OSSL_PROVIDER_load(nullptr, "legacy");
    return EVP_CIPHER_fetch(nullptr, "RC4", nullptr);
  }();
  return cipher;
}

}  // namespace

bool rc4_available() {
  return rc4_cipher() != nullptr;
}

Rc4Stream::Rc4Stream(std::span<const uint8_t, 20> key) {
  EVP_CIPHER* cipher = rc4_cipher();
  if (!cipher) throw std::runtime_error("OpenSSL has no RC4 (is its legacy provider installed?)");
  ctx_ = EVP_CIPHER_CTX_new();
  if (!ctx_ || EVP_CipherInit_ex(ctx_, cipher, nullptr, nullptr, nullptr, 1) != 1 ||
      EVP_CIPHER_CTX_set_key_length(ctx_, static_cast<int>(key.size())) != 1 ||
      EVP_CipherInit_ex(ctx_, nullptr, nullptr, key.data(), nullptr, 1) != 1) {
    EVP_CIPHER_CTX_free(ctx_);
    throw std::runtime_error("OpenSSL RC4 setup failed");
  }
  std::array<uint8_t, 1024> discard{};
  apply(discard.data(), discard.size());
}

Rc4Stream& Rc4Stream::operator=(Rc4Stream&& o) noexcept {
  if (this != &o) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = o.ctx_;
    o.ctx_ = nullptr;
  }
  return *this;
}

Rc4Stream::~Rc4Stream() {
  EVP_CIPHER_CTX_free(ctx_);
}

void Rc4Stream::apply(uint8_t* data, size_t n) {
  while (n > 0) {
    int chunk = static_cast<int>(std::min<size_t>(n, INT_MAX / 2));
    int out = 0;
    // A stream cipher never fails on a valid context; in place is allowed.
    EVP_CipherUpdate(ctx_, data, &out, data, chunk);
    data += chunk;
    n -= static_cast<size_t>(chunk);
  }
}

}  // namespace swarmdial
