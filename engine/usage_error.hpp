#pragma once
// An input the user gave cannot work: a flag, a file, or a value a backend
// cannot honour. Its text names the flag (or file and line); the command
// prints it on one line and exits 2.
#include <stdexcept>

namespace swarmdial {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace swarmdial
