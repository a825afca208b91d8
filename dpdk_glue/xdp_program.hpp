#pragma once
// swarmdial's XDP program for net_af_xdp ports. It is built into the
// binary; DPDK's PMD loads it from a path (xdp_prog=), so it is handed over
// as an anonymous in-memory file that lives as long as the port.
#include <string>

namespace swarmdial {

class XdpProgramFile {
 public:
  XdpProgramFile();  // throws std::runtime_error
  ~XdpProgramFile();
  XdpProgramFile(const XdpProgramFile&) = delete;
  XdpProgramFile& operator=(const XdpProgramFile&) = delete;
  // A path any open() in this process can read the object from.
  std::string path() const;

 private:
  int fd_ = -1;
};

// The EAL arguments with xdp_prog=program added to every net_af_xdp
// --vdev that names no program of its own. af_xdp is set when there is a
// net_af_xdp device at all.
std::string with_xdp_program(const std::string& eal_args, const std::string& program, bool& af_xdp);

}  // namespace swarmdial
