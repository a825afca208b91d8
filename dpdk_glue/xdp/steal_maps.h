/* The maps swarmdial's XDP program shares with the engine, in C so that
 * both the BPF program and the C++ side include the same layout. */
#ifndef SWARMDIAL_XDP_STEAL_MAPS_H
#define SWARMDIAL_XDP_STEAL_MAPS_H

#include <linux/types.h>

/* At most this many RX queues (one AF_XDP socket each, one per shard). */
#define SD_MAX_QUEUES 64
/* Handshakes in flight over all shards: shards x budget must fit. The map
 * is 8 bytes a slot, 8 MiB at this size, allocated when the program loads. */
#define SD_MAX_SLOTS (1u << 20)

enum sd_steal_mode {
  /* Every frame goes to the engine, as with DPDK's own program: a dial-only
   * run, where the kernel plays no part. Also what a zeroed config means,
   * between the program's attach and the engine's first write. */
  SD_STEAL_ALL = 0,
  /* Only the engine's handshakes (SYN-ACK, RST and ICMP unreachable for a
   * 4-tuple in sd_inflight) and ARP replies for its addresses; everything
   * else goes on to the kernel, which owns the addresses and the sockets
   * the handshakes became. */
  SD_STEAL_HANDSHAKES = 1,
};

/* sd_config[0]. Addresses and ports in host byte order; the slot of a
 * reply is found exactly as engine/tcp/source_port_plan.hpp does it. */
struct sd_steal_config {
  __u32 mode;
  __u32 first_ip;
  __u32 address_count;
  __u32 port_base;
  __u32 ports_per_shard;
  __u32 shards;
  __u32 budget; /* slots per shard */
  /* ARP replies for our addresses go to the engine while it runs (it
   * resolves its own next hops and writes what it learns into the kernel's
   * table); once every shard has stopped, to the kernel, whose handed-off
   * flows still need its neighbours answered. */
  __u32 steal_arp;
};

/* sd_inflight[shard * budget + slot]: 0 when the slot is idle, else the
 * remote end of its handshake, so only that exact 4-tuple is taken from
 * the kernel. One 64-bit word, written by the shard that owns the slot
 * and read by the program, so neither side ever sees half an entry. */
static inline __u64 sd_inflight_entry(__u32 remote_ip, __u16 remote_port) {
  return ((__u64)remote_ip << 32) | ((__u64)remote_port << 16) | 1;
}

#endif
