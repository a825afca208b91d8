#pragma once
// A DPDK run changes the host outside its own process: an XDP program on the
// wire interface, an nftables table, GRO, reserved ports, a source rule and
// addresses. Its destructors undo all that; a SIGKILL (or an OOM kill) does
// not run them. So each change is written down as it is made, in
// /run/swarmdial/dpdk-PID.json (with the run's network namespace and start
// time), and the file goes away once everything was undone. The next DPDK
// run and `swarmdial cleanup` read the journals of runs that are gone, in
// their own network namespace, and undo what they list, newest first.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace swarmdial {

class RunJournal {
 public:
  // nullptr when /run/swarmdial cannot be written (the run goes on; it
  // just cannot be cleaned up after a kill).
  static std::unique_ptr<RunJournal> open();
  ~RunJournal();  // the run undid everything: the journal goes
  RunJournal(const RunJournal&) = delete;
  RunJournal& operator=(const RunJournal&) = delete;

  // Records one change (an object with "kind" and what undoing it needs).
  void add(nlohmann::json entry);

 private:
  RunJournal() = default;
  void write();
  std::string path_;
  nlohmann::json doc_;
};

struct CleanupResult {
  std::vector<std::string> removed;  // one line per change undone
  std::vector<std::string> notes;    // journals left alone, and why
};

// Undoes the journals of runs that are no longer alive in this network
// namespace (dry_run: only says what it would undo).
CleanupResult clean_dead_runs(bool dry_run);

}  // namespace swarmdial
