#pragma once
// What a backend that handles packets itself (dpdk) saw besides clean
// answers: the evidence that a strict budget and exact outcomes held up
// against a messy wire. Kernel-socket backends leave these at zero.
#include <array>
#include <cstdint>
#include <string_view>

namespace swarmdial {

enum class WireCounter : uint8_t {
  kSynRetransmits,
  kBadAck,         // SYN-ACK with ack != iss+1, answered with RST
  kResetsSent,     // RSTs we sent (bad acks, SYN-ACKs for slots already timed out)
  kIgnoredResets,  // RST that did not acknowledge our SYN
  kIgnoredIcmp,    // ICMP quoting a segment we did not send
  kStray,          // a segment for a free slot or another 4-tuple
  kInvalid,        // failed validation: length, checksum, header
  kArpRequests,
  kArpReplies,
  kArpFailures,          // next hops that never answered ARP
  kTxDropped,            // frames the port did not take
  kSteeredAway,          // frames passed to the shard that owns them
  kToKernel,             // exception path: frames passed to the kernel's TAP
  kFromKernel,           // exception path: the kernel's frames sent out on the wire
  kNoNeighbour,          // the kernel's frames dropped: next hop not resolved
  kRepairFailed,         // established, but TCP_REPAIR could not make the socket
  kNeighboursToKernel,   // AF_XDP path: ARP answers written into the kernel's table
  kNeighbourPushFailed,  // ...and the writes the kernel refused
  kCount
};

constexpr int kWireCounterCount = static_cast<int>(WireCounter::kCount);

constexpr std::array<std::string_view, kWireCounterCount> kWireCounterNames = {
    "syn_retransmits",
    "bad_ack",
    "resets_sent",
    "ignored_resets",
    "ignored_icmp",
    "stray",
    "invalid",
    "arp_requests",
    "arp_replies",
    "arp_failures",
    "tx_dropped",
    "steered_away",
    "to_kernel",
    "from_kernel",
    "no_neighbour",
    "repair_failed",
    "neighbours_to_kernel",
    "neighbour_push_failed"};

using WireCounts = std::array<uint64_t, kWireCounterCount>;

}  // namespace swarmdial
