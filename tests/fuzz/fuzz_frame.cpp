// Raw frames on the DPDK port: Ethernet, ARP, IPv4, TCP, ICMP. Parsing never
// reads out of bounds; options parse on their own too.
#include <cstdint>

#include "engine/tcp/packet_parser.hpp"

using namespace swarmdial;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> f(data, size);
  (void)parse_frame(f, L4Checksum::kVerify);
  (void)parse_frame(f, L4Checksum::kTrusted);
  (void)parse_tcp_options(f.first(std::min<size_t>(size, 40)));
  return 0;
}
