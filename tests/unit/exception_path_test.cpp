// The exception paths' pure parts: what they add to EAL's arguments (the XDP
// program, GSO-sized af_packet frames), and the reserved-port list.
#include <gtest/gtest.h>

#include "dpdk_glue/eal_args.hpp"
#include "dpdk_glue/reserved_ports.hpp"

using namespace swarmdial;

TEST(WithXdpProgram, AddsTheProgramToEveryAfXdpDevice) {
  bool af_xdp = false;
  EXPECT_EQ(with_xdp_program("--no-huge --vdev net_af_xdp0,iface=eth1 -m 64", "/p", af_xdp),
            "--no-huge --vdev net_af_xdp0,iface=eth1,xdp_prog=/p -m 64");
  EXPECT_TRUE(af_xdp);
  EXPECT_EQ(with_xdp_program("--vdev=net_af_xdp1,iface=a --vdev net_af_xdp2,iface=b", "/p", af_xdp),
            "--vdev=net_af_xdp1,iface=a,xdp_prog=/p --vdev net_af_xdp2,iface=b,xdp_prog=/p");
}

TEST(WithXdpProgram, LeavesOtherDevicesAndOwnProgramsAlone) {
  bool af_xdp = true;
  std::string packet = "--no-huge --vdev net_af_packet0,iface=eth1";
  EXPECT_EQ(with_xdp_program(packet, "/p", af_xdp), packet);
  EXPECT_FALSE(af_xdp);
  std::string own = "--vdev net_af_xdp0,iface=eth1,xdp_prog=/mine.o";
  EXPECT_EQ(with_xdp_program(own, "/p", af_xdp), own);
  EXPECT_TRUE(af_xdp);
  // A dangling --vdev is EAL's to reject, not ours to crash on.
  EXPECT_EQ(with_xdp_program("--vdev", "/p", af_xdp), "--vdev");
  EXPECT_EQ(with_xdp_program("", "/p", af_xdp), "");
}

TEST(WithGsoFrames, GivesAfPacketDevicesFramesForGsoUnlessSet) {
  EXPECT_EQ(with_gso_frames("--no-huge --vdev net_af_packet0,iface=eth1,qpairs=2"),
            "--no-huge --vdev net_af_packet0,iface=eth1,qpairs=2,blocksz=16748544,framesz=65424,"
            "framecnt=256");
  std::string own = "--vdev net_af_packet0,iface=eth1,framesz=4096";
  EXPECT_EQ(with_gso_frames(own), own);
  std::string xdp = "--vdev net_af_xdp0,iface=eth1";
  EXPECT_EQ(with_gso_frames(xdp), xdp);
  // The frame's data fits an mbuf, and whole frames fill whole pages.
  EXPECT_LE(kAfPacketGsoData + 128u, 65535u);
  EXPECT_EQ(kAfPacketGsoBlock % kAfPacketGsoFrame, 0u);
}

TEST(ReservedPorts, AppendsTheRangeToWhatWasThere) {
  EXPECT_EQ(ReservedPorts::add_range("", 20000, 20063), "20000-20063");
  EXPECT_EQ(ReservedPorts::add_range("\n", 20000, 20063), "20000-20063");
  EXPECT_EQ(ReservedPorts::add_range("8080,9000-9100\n", 20000, 20127),
            "8080,9000-9100,20000-20127");
}
