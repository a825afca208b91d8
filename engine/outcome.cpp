#include "outcome.hpp"

#include <cerrno>
#include <cstring>

namespace swarmdial {

Outcome classify_connect_error(int err) {
  switch (err) {
    case 0:
      return Outcome::kEstablished;
    case ECONNREFUSED:
      return Outcome::kRefused;
    case ETIMEDOUT:
      return Outcome::kTimeout;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
      return Outcome::kUnreachable;
    default:
      return Outcome::kError;
  }
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kEstablished:
      return "established";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kUnreachable:
      return "unreachable";
    case Outcome::kError:
      break;
  }
  return "error";
}

std::string outcome_label(Outcome outcome, int err) {
  if (outcome != Outcome::kError) return std::string(outcome_name(outcome));
  const char* name = strerrorname_np(err);
  return std::string("error:") + (name ? name : std::to_string(err).c_str());
}

}  // namespace swarmdial
