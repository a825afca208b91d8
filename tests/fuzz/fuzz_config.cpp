// INI --config files, through each command's real parser: whatever the file
// holds, the only way out is a config or a UsageError whose text is one
// non-empty line (the command prints it and exits 2). Any other exception
// (a bad cast, a stoi out of range) would reach the user as a crash.
//
// Input: byte 0 picks the command and whether a minimal valid command line
// comes with the file (so the file's other keys get validated too); the
// rest is the file, handed over as /proc/self/fd/N of a memfd.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tools/swarmdial/options/ceiling_config.hpp"
#include "tools/swarmdial/options/dial_config.hpp"
#include "tools/swarmdial/options/seed_config.hpp"
#include "tools/swarmdial/options/swarm_config.hpp"
#include "tools/swarmdial/options/tracker_load_config.hpp"

using namespace swarmdial;

namespace {

int config_fd() {
  static int fd = memfd_create("fuzz_config", 0);
  return fd;
}

template <typename Parse>
void run(Parse parse, std::vector<std::string> args) {
  std::string help;
  try {
    (void)parse(args, help);
  } catch (const UsageError& e) {
    std::string what = e.what();
    if (what.empty() || what.find('\n') != std::string::npos) {
      fprintf(stderr, "usage error is not one line: [%s]\n", what.c_str());
      abort();
    }
  }
  // Anything else propagates: libFuzzer reports the uncaught exception.
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  int fd = config_fd();
  if (fd < 0) abort();
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data + 1, size - 1, 0) != ssize_t(size - 1)) abort();
  std::vector<std::string> args = {"--config", "/proc/self/fd/" + std::to_string(fd)};
  bool base = data[0] & 0x80;
  auto with = [&](std::initializer_list<const char*> extra) {
    std::vector<std::string> a = args;
    if (base) a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  switch (data[0] % 5) {
    case 0:
      run(parse_dial_args, with({"--range", "198.18.0.0/30:6881"}));
      break;
    case 1:
      run(parse_seed_args,
          with({"--torrent", "t.torrent", "--data", "d", "--listen", "198.18.0.100:6881"}));
      break;
    case 2:
      run(parse_tracker_load_args, with({"--tracker", "udp://198.18.0.1:6969/announce"}));
      break;
    case 3:
      run(parse_ceiling_args, with({"--range", "198.18.0.0/30:6881"}));
      break;
    case 4:
      run(parse_swarm_args, with({"--peers", "4"}));
      break;
  }
  return 0;
}
