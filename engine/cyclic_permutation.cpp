#include "cyclic_permutation.hpp"

#include <numeric>
#include <vector>

namespace swarmdial {

namespace {
uint64_t mul_mod(uint64_t a, uint64_t b, uint64_t m) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b % m);
}

uint64_t pow_mod(uint64_t base, uint64_t exp, uint64_t m) {
  uint64_t result = 1 % m;
  base %= m;
  while (exp) {
    if (exp & 1) result = mul_mod(result, base, m);
    base = mul_mod(base, base, m);
    exp >>= 1;
  }
  return result;
}

std::vector<uint64_t> distinct_prime_factors(uint64_t n) {
  std::vector<uint64_t> factors;
  for (uint64_t d = 2; d * d <= n; d += (d == 2 ? 1 : 2)) {
    if (n % d == 0) {
      factors.push_back(d);
      while (n % d == 0) n /= d;
    }
  }
  if (n > 1) factors.push_back(n);
  return factors;
}

uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

bool is_prime_u64(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t p : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    if (n % p == 0) return n == p;
  }
  uint64_t d = n - 1;
  int r = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++r;
  }
  // These bases make Miller-Rabin deterministic for all 64-bit n.
  for (uint64_t a : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    uint64_t x = pow_mod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int i = 1; i < r; ++i) {
      x = mul_mod(x, x, n);
      if (x == n - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

bool is_primitive_root(uint64_t g, uint64_t p) {
  if (p == 2) return g % 2 == 1;
  if (g % p == 0) return false;
  for (uint64_t q : distinct_prime_factors(p - 1))
    if (pow_mod(g, (p - 1) / q, p) == 1) return false;
  return true;
}

CyclicPermutation::CyclicPermutation(uint64_t n, uint64_t seed, uint64_t part, uint64_t parts)
    : n_(n) {
  p_ = n + 1;
  while (!is_prime_u64(p_)) ++p_;
  uint64_t rng = seed;
  uint64_t start = 1;
  if (p_ == 2) {
    g_ = 1;
  } else {
    // Find one primitive root r, then take g = r^k with gcd(k, p-1) = 1 so the
    // seed picks among all generators, not just the smallest.
    uint64_t r = 2;
    while (!is_primitive_root(r, p_)) ++r;
    uint64_t k;
    do {
      k = 1 + splitmix(rng) % (p_ - 1);
    } while (std::gcd(k, p_ - 1) != 1);
    g_ = pow_mod(r, k, p_);
    start = 1 + splitmix(rng) % (p_ - 1);
  }
  // The cycle has p-1 elements; this part walks positions [lo, hi).
  uint64_t cycle = p_ - 1;
  parts = parts == 0 ? 1 : parts;
  auto edge = [&](uint64_t k) {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(cycle) * k / parts);
  };
  uint64_t lo = edge(part), hi = edge(part + 1);
  current_ = mul_mod(start, pow_mod(g_, lo, p_), p_);
  steps_left_ = hi - lo;
}

std::optional<uint64_t> CyclicPermutation::next() {
  while (steps_left_ > 0) {
    uint64_t value = current_;
    current_ = mul_mod(current_, g_, p_);
    --steps_left_;
    if (value - 1 < n_) return value - 1;
  }
  return std::nullopt;
}

}  // namespace swarmdial
