#pragma once
// The final result of one target, and how kernel errors map onto it.
#include <cstdint>
#include <string>
#include <string_view>

namespace swarmdial {

enum class Outcome : uint8_t { kEstablished, kRefused, kTimeout, kUnreachable, kError };
constexpr int kOutcomeCount = 5;

// err is 0 for success, otherwise a positive errno from connect() or the
// dialer (ETIMEDOUT for an engine timeout).
Outcome classify_connect_error(int err);

// "established", "refused", "timeout", "unreachable", or "error:<ERRNO_NAME>".
std::string outcome_label(Outcome outcome, int err);
std::string_view outcome_name(Outcome outcome);  // "error" for kError

}  // namespace swarmdial
