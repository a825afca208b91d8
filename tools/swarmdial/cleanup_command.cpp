#include "cleanup_command.hpp"

#include <iostream>

#include "dpdk_glue/dpdk_backend.hpp"

namespace swarmdial {

int run_cleanup_command(const std::vector<std::string>& args) {
  bool dry_run = false;
  for (const auto& a : args) {
    if (a == "--dry-run") {
      dry_run = true;
    } else if (a == "--help" || a == "-h") {
      std::cout
          << "swarmdial cleanup [--dry-run]: undo what killed DPDK runs left in this network\n"
             "namespace (their journals in /run/swarmdial). A DPDK run does this itself\n"
             "when it starts.\n";
      return 0;
    } else {
      std::cerr << "swarmdial cleanup: unknown option '" << a << "'\n";
      return 2;
    }
  }
  std::vector<std::string> notes;
  auto removed = clean_dpdk_leftovers(dry_run, notes);
  for (const auto& line : removed) std::cout << (dry_run ? "" : "removed: ") << line << "\n";
  for (const auto& line : notes) std::cout << "note: " << line << "\n";
  if (removed.empty()) std::cout << "nothing to clean up\n";
  return 0;
}

}  // namespace swarmdial
