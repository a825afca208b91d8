#pragma once
// What swarmdial adds to the user's EAL arguments before EAL starts:
// - net_af_xdp: its own XDP program (xdp_prog=). The program is built into
//   the binary; DPDK's PMD loads it from a path, so it is handed over as an
//   anonymous in-memory file that lives as long as the port.
// - net_af_packet with the TAP exception path: ring frames large enough for
//   a GSO frame of a handed-off flow (a veth peer's TSO, a NIC's GRO), which
//   a default 2 KiB frame would cut short.
#include <cstdint>
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

// A net_af_packet ring frame for GSO frames: the largest whose data still
// fits an mbuf (a 16-bit data room less the headroom). The PMD finds frame
// i at i * framesz, so a block must hold whole frames and be whole pages:
// 256 frames make one block of 4,089 pages, the ring's only one.
inline constexpr uint32_t kAfPacketGsoFrame = 65424;
inline constexpr uint32_t kAfPacketGsoFrames = 256;
inline constexpr uint32_t kAfPacketGsoBlock = kAfPacketGsoFrame * kAfPacketGsoFrames;
static_assert(kAfPacketGsoBlock % 4096 == 0);
// Bytes of a frame a kAfPacketGsoFrame ring frame holds.
inline constexpr uint32_t kAfPacketGsoData = kAfPacketGsoFrame - 32;
// The PMD refuses a ring frame whose data would not fit one mbuf, and an
// mbuf's data room (headroom included) is 16 bits.
static_assert(kAfPacketGsoData + 128 <= UINT16_MAX);

// The EAL arguments with GSO-sized frames for every net_af_packet --vdev
// that sets no frame size of its own.
std::string with_gso_frames(const std::string& eal_args);

}  // namespace swarmdial
