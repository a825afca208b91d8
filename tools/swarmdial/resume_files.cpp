#include "resume_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <variant>

#include "engine/usage_error.hpp"

namespace swarmdial {

void prepare_state_dir(const std::string& dir) {
  ::mkdir(dir.c_str(), 0700);  // as systemd's StateDirectory would
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
      ::access(dir.c_str(), W_OK | X_OK) != 0)
    throw UsageError("--state-dir " + dir + ": not a writable directory");
}

std::string resume_path(const std::string& dir, const Metainfo& meta) {
  return dir + "/" + info_hash_hex(meta.info_hash) + ".resume";
}

LoadedResume load_resume(const std::string& path, const Metainfo& meta) {
  LoadedResume out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) out.problem = std::strerror(errno);
    return out;
  }
  // The decoder bounds what it accepts by the torrent's size; reading
  // stops a little past any state this torrent can have.
  size_t cap = (1 << 20) + meta.files.size() * 64 + meta.num_pieces / 8;
  std::string bytes;
  char buf[1 << 16];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && bytes.size() <= cap)
    bytes.append(buf, static_cast<size_t>(n));
  int err = n < 0 ? errno : 0;
  ::close(fd);
  if (err) {
    out.problem = std::strerror(err);
    return out;
  }
  auto r = decode_resume(bytes, meta);
  if (auto* why = std::get_if<std::string>(&r))
    out.problem = *why;
  else
    out.data = std::move(std::get<ResumeData>(r));
  return out;
}

std::string save_resume(const std::string& path, const ResumeData& r) {
  std::string bytes = encode_resume(r);
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return tmp + ": " + std::strerror(errno);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(tmp.c_str());
      return tmp + ": " + std::strerror(e);
    }
    done += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  int e = errno;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (synced) e = errno;
    ::unlink(tmp.c_str());
    return path + ": " + std::strerror(e);
  }
  return {};
}

}  // namespace swarmdial
