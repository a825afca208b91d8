#include "demo_chart.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

extern char** environ;

namespace swarmdial {

std::string write_chart_svg(const std::vector<ChartSample>& samples, const std::string& svg_path) {
  std::string dat = svg_path + ".dat", script = svg_path + ".gp";
  {
    std::ofstream d(dat, std::ios::trunc);
    d << "# t_s half_open budget established_per_s upload_MB_per_s\n";
    for (const auto& s : samples)
      d << s.t_s << ' ' << s.half_open << ' ' << s.budget << ' ' << s.established_per_s << ' '
        << s.upload_mb_per_s << '\n';
    if (!d) return dat + ": write failed";
  }
  {
    std::ofstream g(script, std::ios::trunc);
    g << "set terminal svg size 900,720 dynamic font 'sans,11'\n"
      << "set output '" << svg_path << "'\n"
      << "set multiplot layout 3,1 title 'swarmdial demo'\n"
      << "set grid\nset key top right\nset xlabel 'seconds'\n"
      << "set ylabel 'sockets'\nset yrange [0:*]\n"
      << "plot '" << dat << "' using 1:2 with steps lw 2 title 'half-open', '" << dat
      << "' using 1:3 with lines dt 2 title 'budget'\n"
      << "set ylabel 'per second'\n"
      << "plot '" << dat << "' using 1:4 with steps lw 2 title 'established/s'\n"
      << "set ylabel 'MB/s'\n"
      << "plot '" << dat << "' using 1:5 with steps lw 2 title 'upload'\n"
      << "unset multiplot\n";
    if (!g) return script + ": write failed";
  }
  // gnuplot runs as a child with its output silenced; its exit code decides.
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  const char* argv[] = {"gnuplot", script.c_str(), nullptr};
  pid_t pid;
  int rc = posix_spawnp(&pid, "gnuplot", &fa, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return "gnuplot not found (apt-get install gnuplot-nox); chart skipped";
  int status = 0;
  waitpid(pid, &status, 0);
  std::remove(script.c_str());
  std::remove(dat.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "gnuplot failed; chart skipped";
  return {};
}

}  // namespace swarmdial
