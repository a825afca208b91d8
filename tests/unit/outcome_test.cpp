#include "engine/outcome.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "engine/dialer.hpp"

using namespace swarmdial;

TEST(Outcome, KernelErrorsMapToDesignOutcomes) {
  EXPECT_EQ(classify_connect_error(0), Outcome::kEstablished);
  EXPECT_EQ(classify_connect_error(ECONNREFUSED), Outcome::kRefused);
  EXPECT_EQ(classify_connect_error(ETIMEDOUT), Outcome::kTimeout);
  EXPECT_EQ(classify_connect_error(EHOSTUNREACH), Outcome::kUnreachable);
  EXPECT_EQ(classify_connect_error(ENETUNREACH), Outcome::kUnreachable);
  EXPECT_EQ(classify_connect_error(EADDRNOTAVAIL), Outcome::kError);
  EXPECT_EQ(classify_connect_error(EMFILE), Outcome::kError);
}

TEST(Outcome, LabelsNameTheErrno) {
  EXPECT_EQ(outcome_label(Outcome::kRefused, ECONNREFUSED), "refused");
  EXPECT_EQ(outcome_label(Outcome::kError, EADDRNOTAVAIL), "error:EADDRNOTAVAIL");
  EXPECT_EQ(outcome_label(Outcome::kError, EMFILE), "error:EMFILE");
  EXPECT_EQ(outcome_name(Outcome::kError), "error");
}

TEST(SynRetries, FitInsideTheEngineTimeout) {
  EXPECT_EQ(syn_retries_for_timeout(300'000'000), 1);
  EXPECT_EQ(syn_retries_for_timeout(1'000'000'000), 1);
  EXPECT_EQ(syn_retries_for_timeout(2'000'000'000), 1);   // resend at 1 s
  EXPECT_EQ(syn_retries_for_timeout(3'500'000'000), 2);   // resends at 1 s and 3 s
  EXPECT_EQ(syn_retries_for_timeout(10'000'000'000), 3);  // 1, 3, 7 s
  EXPECT_EQ(syn_retries_for_timeout(600'000'000'000), 9);
}
