#pragma once
// Fast-resume files under --state-dir: <dir>/<info-hash hex>.resume, written
// whole to a temporary name, synced and renamed over the old one, so a crash
// or a full disk leaves the previous state, never half of one.
#include <optional>
#include <string>

#include "engine/peerwire/resume_data.hpp"

namespace swarmdial {

// Makes the directory when missing (not its parents); throws UsageError
// naming --state-dir when it cannot be written.
void prepare_state_dir(const std::string& dir);

std::string resume_path(const std::string& dir, const Metainfo& meta);

struct LoadedResume {
  std::optional<ResumeData> data;
  std::string problem;  // why a file that exists was not used; empty when there is none
};
LoadedResume load_resume(const std::string& path, const Metainfo& meta);

// "" or a one-line reason.
std::string save_resume(const std::string& path, const ResumeData& r);

}  // namespace swarmdial
