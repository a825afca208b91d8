// swarmdial: a peer connection engine. This file only dispatches subcommands.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "ceiling_command.hpp"
#include "cleanup_command.hpp"
#include "demo_command.hpp"
#include "dial_command.hpp"
#include "merge_command.hpp"
#include "seed_command.hpp"
#include "swarm_command.hpp"
#include "tracker_load_command.hpp"

namespace {
constexpr const char* kUsage =
    "usage: swarmdial <command> [options]\n"
    "\n"
    "commands:\n"
    "  dial           open TCP connections to many targets inside a strict half-open budget\n"
    "  seed           serve a torrent to real BitTorrent clients, dialing them and accepting them\n"
    "  tracker-load   announce a synthetic swarm to a tracker at a fixed rate (open loop)\n"
    "  ceiling        find the highest connection (or announce) rate a path sustains\n"
    "  merge          add up the summaries of a partitioned run, exactly\n"
    "  cleanup        undo what a killed DPDK run left on the host (XDP, nftables, ports...)\n"
    "  swarm          run an emulated swarm on loopback: leechers, slow, dead and black-holed "
    "peers\n"
    "  demo           seed a temporary torrent to an emulated swarm and report (no root, no "
    "setup)\n"
    "\n"
    "Run 'swarmdial <command> --help' for the options of a command.\n";
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "dial") return swarmdial::run_dial_command(args);
  if (command == "seed") return swarmdial::run_seed_command(args);
  if (command == "swarm") return swarmdial::run_swarm_command(args);
  if (command == "tracker-load") return swarmdial::run_tracker_load_command(args);
  if (command == "demo") return swarmdial::run_demo_command(args);
  if (command == "ceiling") return swarmdial::run_ceiling_command(args);
  if (command == "merge") return swarmdial::run_merge_command(args);
  if (command == "cleanup") return swarmdial::run_cleanup_command(args);
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << "swarmdial: unknown command '" << command << "' (try: swarmdial --help)\n";
  return 2;
}
