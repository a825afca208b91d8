#pragma once
// Visits 0..n-1 exactly once each in a pseudorandom order without storing the
// order: iterate x <- x*g mod p over the multiplicative group of a prime p > n
// with a primitive root g (the technique zmap uses), skipping values >= n.
// Consecutive outputs land far apart, so a range scan spreads load over hosts.
#include <cstdint>
#include <optional>

namespace swarmdial {

class CyclicPermutation {
 public:
  // n >= 1, n < 2^62. The seed selects the generator and the starting point.
  // Part `part` of `parts` walks only its contiguous slice of the cycle
  // (as zmap splits a scan): the parts of one seed together visit every
  // index exactly once.
  CyclicPermutation(uint64_t n, uint64_t seed, uint64_t part = 0, uint64_t parts = 1);

  // Next index, or nullopt once every index has been produced.
  std::optional<uint64_t> next();
  uint64_t size() const { return n_; }
  uint64_t prime() const { return p_; }
  uint64_t generator() const { return g_; }

 private:
  uint64_t n_, p_, g_, current_;
  uint64_t steps_left_;  // group elements of this part's slice not yet visited
};

bool is_prime_u64(uint64_t n);
// Whether g generates the whole group (Z/pZ)*, p prime.
bool is_primitive_root(uint64_t g, uint64_t p);

}  // namespace swarmdial
