#include "gnuplot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

extern char** environ;

namespace swarmdial {

namespace {
std::string substitute(std::string text, const std::string& key, const std::string& value) {
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
    text.replace(at, key.size(), value);
  return text;
}
}  // namespace

std::string run_gnuplot(const std::string& script, const std::string& data,
                        const std::string& svg_path) {
  std::string dat = svg_path + ".dat", gp = svg_path + ".gp";
  {
    std::ofstream d(dat, std::ios::trunc);
    d << data;
    if (!d) return dat + ": write failed";
  }
  {
    std::ofstream g(gp, std::ios::trunc);
    g << substitute(substitute(script, "DATA", "'" + dat + "'"), "SVG", "'" + svg_path + "'");
    if (!g) return gp + ": write failed";
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  const char* argv[] = {"gnuplot", gp.c_str(), nullptr};
  pid_t pid;
  int rc = posix_spawnp(&pid, "gnuplot", &fa, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::remove(gp.c_str());
    std::remove(dat.c_str());
    return "gnuplot not found (apt-get install gnuplot-nox); plot skipped";
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::remove(gp.c_str());
  std::remove(dat.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "gnuplot failed; plot skipped";
  return {};
}

}  // namespace swarmdial
