#include "run_journal.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gro_guard.hpp"
#include "kernel_side.hpp"
#include "reserved_ports.hpp"
#include "wire_ingress_guard.hpp"
#include "xdp_steal_table.hpp"

namespace swarmdial {

namespace {

constexpr const char* kDir = "/run/swarmdial";
constexpr size_t kMaxJournalBytes = 1 << 20;

uint64_t netns_inode() {
  struct stat st {};
  return ::stat("/proc/self/ns/net", &st) == 0 ? st.st_ino : 0;
}

// Field 22 of /proc/PID/stat: when the process started, in clock ticks
// since boot; with the PID it names one process even after PID reuse.
uint64_t start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i)
    if (i == 22) return std::stoull(field);
  return 0;
}

bool alive(pid_t pid, uint64_t started) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  return start_time(pid) == started;
}

std::string undo(const nlohmann::json& e) {
  const std::string kind = e.at("kind").get<std::string>();
  if (kind == "xdp")
    return XdpStealTable::undo_leftover(e.at("ifname").get<std::string>(),
                                        e.at("prog_id").get<uint32_t>());
  if (kind == "nft_table") return WireIngressGuard::undo_leftover(e.at("table").get<std::string>());
  if (kind == "gro_off") return GroGuard::undo_leftover(e.at("ifname").get<std::string>());
  if (kind == "reserved_ports")
    return ReservedPorts::undo_leftover(e.at("first").get<uint32_t>(),
                                        e.at("last").get<uint32_t>());
  if (kind == "kernel_side") return KernelSide::undo_leftover(e);
  return "unknown change '" + kind + "' left alone";
}

}  // namespace

std::unique_ptr<RunJournal> RunJournal::open() {
  std::error_code ec;
  std::filesystem::create_directories(kDir, ec);
  ::chmod(kDir, 0700);
  std::unique_ptr<RunJournal> j(new RunJournal);
  pid_t pid = ::getpid();
  j->path_ = std::string(kDir) + "/dpdk-" + std::to_string(pid) + ".json";
  j->doc_ = {{"pid", pid},
             {"start_time", start_time(pid)},
             {"netns", netns_inode()},
             {"changes", nlohmann::json::array()}};
  j->write();
  if (j->path_.empty()) return nullptr;
  return j;
}

void RunJournal::add(nlohmann::json entry) {
  doc_["changes"].push_back(std::move(entry));
  write();
}

void RunJournal::write() {
  if (path_.empty()) return;
  // Whole file, then rename: a kill mid-write leaves the previous version.
  std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << doc_.dump() << "\n";
    if (!out.flush()) {
      path_.clear();
      return;
    }
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) path_.clear();
}

RunJournal::~RunJournal() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

CleanupResult clean_dead_runs(bool dry_run) {
  CleanupResult r;
  std::error_code ec;
  uint64_t our_netns = netns_inode();
  for (const auto& f : std::filesystem::directory_iterator(kDir, ec)) {
    std::string name = f.path().filename().string();
    if (name.rfind("dpdk-", 0) != 0 || f.path().extension() != ".json") continue;
    nlohmann::json doc;
    try {
      if (f.file_size() > kMaxJournalBytes) throw std::runtime_error("larger than 1 MiB");
      std::ifstream in(f.path());
      doc = nlohmann::json::parse(in);
      pid_t pid = doc.at("pid").get<pid_t>();
      if (alive(pid, doc.at("start_time").get<uint64_t>())) continue;  // a run still going
      if (doc.at("netns").get<uint64_t>() != our_netns) {
        r.notes.push_back(name + ": a run in another network namespace; run cleanup there");
        continue;
      }
      const auto& changes = doc.at("changes");
      for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
        if (dry_run)
          r.removed.push_back("would undo: " + it->dump() + " (run " + std::to_string(pid) + ")");
        else
          r.removed.push_back(undo(*it) + " (left by run " + std::to_string(pid) + ")");
      }
      if (!dry_run) std::filesystem::remove(f.path(), ec);
    } catch (const std::exception& e) {
      r.notes.push_back(name + ": unreadable journal (" + e.what() + "), left in place");
    }
  }
  return r;
}

}  // namespace swarmdial
