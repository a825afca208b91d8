#include "engine/cyclic_permutation.hpp"

#include <gtest/gtest.h>

#include <vector>

using swarmdial::CyclicPermutation;

namespace {
void expect_each_exactly_once(uint64_t n, uint64_t seed) {
  CyclicPermutation perm(n, seed);
  std::vector<int> seen(n, 0);
  uint64_t count = 0;
  while (auto i = perm.next()) {
    ASSERT_LT(*i, n);
    ++seen[*i];
    ++count;
    ASSERT_LE(count, n) << "more outputs than elements";
  }
  EXPECT_EQ(count, n);
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "index " << i << " n " << n;
  EXPECT_FALSE(perm.next()) << "stays exhausted";
}
}  // namespace

TEST(CyclicPermutation, SizeOne) {
  expect_each_exactly_once(1, 42);
}

TEST(CyclicPermutation, PrimeSizes) {
  for (uint64_t n : {2, 3, 5, 7, 13, 251, 7919, 65521})
    for (uint64_t seed : {1, 2, 3}) expect_each_exactly_once(n, seed);
}

TEST(CyclicPermutation, PowerOfTwoSizes) {
  for (int k = 1; k <= 17; ++k)
    for (uint64_t seed : {7, 8}) expect_each_exactly_once(uint64_t{1} << k, seed);
}

TEST(CyclicPermutation, OtherSizes) {
  for (uint64_t n : {4, 6, 9, 100, 1000, 65535, 100000}) expect_each_exactly_once(n, 99);
}

TEST(CyclicPermutation, SeedsGiveDifferentOrdersAndOrderIsScattered) {
  CyclicPermutation a(1000, 1), b(1000, 2);
  std::vector<uint64_t> oa, ob;
  while (auto i = a.next()) oa.push_back(*i);
  while (auto i = b.next()) ob.push_back(*i);
  EXPECT_NE(oa, ob);
  // Consecutive outputs should rarely be neighbours (a scan must not walk hosts in order).
  int adjacent = 0;
  for (size_t i = 1; i < oa.size(); ++i)
    if (oa[i] == oa[i - 1] + 1) ++adjacent;
  EXPECT_LT(adjacent, 20);
}

TEST(CyclicPermutation, GeneratorIsPrimitiveRoot) {
  for (uint64_t n : {10ULL, 1000ULL, 123457ULL, 1ULL << 32}) {
    CyclicPermutation p(n, 5);
    EXPECT_TRUE(swarmdial::is_prime_u64(p.prime()));
    EXPECT_GT(p.prime(), n);
    EXPECT_TRUE(swarmdial::is_primitive_root(p.generator(), p.prime()));
  }
}

TEST(CyclicPermutation, PrimalityKnownValues) {
  EXPECT_TRUE(swarmdial::is_prime_u64(2));
  EXPECT_TRUE(swarmdial::is_prime_u64(4294967311ULL));
  EXPECT_FALSE(swarmdial::is_prime_u64(4294967297ULL));  // 641 * 6700417
  EXPECT_FALSE(swarmdial::is_prime_u64(1));
  EXPECT_TRUE(swarmdial::is_prime_u64(18446744073709551557ULL));
}

namespace swarmdial {
namespace {

// --partition K/N: the parts of one seed cover every index exactly once,
// each in a contiguous slice of the cycle, of about equal size.
TEST(CyclicPermutationParts, PartsCoverEveryIndexExactlyOnce) {
  for (uint64_t n : {1ULL, 2ULL, 7ULL, 1000ULL, 65537ULL}) {
    for (uint64_t parts : {1ULL, 2ULL, 3ULL, 8ULL}) {
      std::vector<int> seen(n, 0);
      std::vector<uint64_t> sizes;
      for (uint64_t k = 0; k < parts; ++k) {
        CyclicPermutation perm(n, 42, k, parts);
        uint64_t count = 0;
        while (auto i = perm.next()) {
          ASSERT_LT(*i, n);
          ++seen[*i];
          ++count;
        }
        sizes.push_back(count);
      }
      for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "n=" << n << " parts=" << parts;
      if (n >= 1000) {
        for (uint64_t s : sizes) EXPECT_NEAR(static_cast<double>(s), double(n) / parts, n * 0.05);
      }
    }
  }
}

TEST(CyclicPermutationParts, OnePartIsTheWholeOrder) {
  CyclicPermutation whole(5000, 9), one(5000, 9, 0, 1);
  while (auto i = whole.next()) ASSERT_EQ(one.next(), i);
  EXPECT_FALSE(one.next());
}

}  // namespace
}  // namespace swarmdial
