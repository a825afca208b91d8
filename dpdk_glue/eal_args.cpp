#include "eal_args.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace swarmdial {

// dpdk_glue/xdp/handshake_steal.bpf.c, compiled at build time.
extern const unsigned char kHandshakeStealObject[];
extern const std::size_t kHandshakeStealObjectSize;

XdpProgramFile::XdpProgramFile() {
  fd_ = memfd_create("swarmdial_handshake_steal.bpf.o", MFD_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error(std::string("XDP program: memfd: ") + std::strerror(errno));
  size_t done = 0;
  while (done < kHandshakeStealObjectSize) {
    ssize_t n = write(fd_, kHandshakeStealObject + done, kHandshakeStealObjectSize - done);
    if (n <= 0) {
      int e = errno;
      close(fd_);
      throw std::runtime_error(std::string("XDP program: write: ") + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
}

XdpProgramFile::~XdpProgramFile() {
  if (fd_ >= 0) close(fd_);
}

std::string XdpProgramFile::path() const {
  return "/proc/self/fd/" + std::to_string(fd_);
}

namespace {

// Applies patch to the device string of every --vdev in args.
template <typename Patch>
std::string patch_vdevs(const std::string& args, Patch&& patch) {
  std::vector<std::string> words;
  std::istringstream in(args);
  for (std::string w; in >> w;) words.push_back(w);
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "--vdev" && i + 1 < words.size()) {
      patch(words[++i]);
    } else if (words[i].rfind("--vdev=", 0) == 0) {
      std::string device = words[i].substr(7);
      patch(device);
      words[i] = "--vdev=" + device;
    }
  }
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

std::string with_xdp_program(const std::string& eal_args, const std::string& program,
                             bool& af_xdp) {
  af_xdp = false;
  return patch_vdevs(eal_args, [&](std::string& device) {
    if (device.rfind("net_af_xdp", 0) != 0) return;
    af_xdp = true;
    if (device.find("xdp_prog=") == std::string::npos) device += ",xdp_prog=" + program;
  });
}

std::string with_gso_frames(const std::string& eal_args) {
  return patch_vdevs(eal_args, [](std::string& device) {
    if (device.rfind("net_af_packet", 0) != 0 || device.find("framesz=") != std::string::npos)
      return;
    device += ",blocksz=" + std::to_string(kAfPacketGsoBlock) +
              ",framesz=" + std::to_string(kAfPacketGsoFrame) +
              ",framecnt=" + std::to_string(kAfPacketGsoFrames);
  });
}

}  // namespace swarmdial
