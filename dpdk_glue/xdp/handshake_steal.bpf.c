/* swarmdial's XDP program for DPDK's net_af_xdp port (xdp_prog=).
 *
 * The engine does its TCP handshakes in userspace, but the flows they
 * become are ordinary kernel sockets (TCP_REPAIR). So only the handshake
 * replies may go to the engine's AF_XDP sockets: a SYN-ACK or RST for a
 * 4-tuple that is mid-handshake (sd_inflight, which the engine updates
 * with plain stores through mmap), an ICMP unreachable quoting such a
 * SYN, and, while the engine runs, ARP replies for its addresses (it
 * resolves its own next hops and tells the kernel what it learned). Everything
 * else, a handed-off flow's data included, goes straight to the kernel.
 *
 * "xdp.frags": the program looks at headers only, and declaring it safe
 * for multi-buffer frames keeps the veth peer's GSO on. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>

/* libbpf's helpers need the kernel's types above. */
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "steal_maps.h"

/* DPDK's PMD finds this map by name and puts queue i's socket at key i. */
struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, SD_MAX_QUEUES);
  __type(key, __u32);
  __type(value, __u32);
} xsks_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sd_steal_config);
} sd_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, SD_MAX_SLOTS);
  __type(key, __u32);
  __type(value, __u64);
} sd_inflight SEC(".maps");

/* <linux/icmp.h> pulls in libc's socket headers, which a BPF target lacks. */
#define ICMP_DEST_UNREACH 3
struct icmp_head {
  __u8 type, code;
  __sum16 checksum;
  __be32 rest;
};

struct arp_ipv4 {
  __be16 hw_type, proto_type;
  __u8 hw_len, proto_len;
  __be16 op;
  __u8 sender_mac[6];
  __u8 sender_ip[4];
  __u8 target_mac[6];
  __u8 target_ip[4];
};

static __always_inline int to_engine(struct xdp_md* ctx) {
  /* No socket on this queue (not one of the engine's): the kernel's. */
  return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

static __always_inline int is_ours(const struct sd_steal_config* c, __u32 ip) {
  return ip - c->first_ip < c->address_count;
}

/* Whether local <- remote (host order) is a handshake in flight. */
static __always_inline int in_flight(const struct sd_steal_config* c, __u32 local_ip,
                                     __u32 local_port, __u32 remote_ip, __u32 remote_port) {
  __u32 ppq = c->ports_per_shard;
  if (!is_ours(c, local_ip) || local_port < c->port_base || ppq == 0) return 0;
  __u32 rel = local_port - c->port_base;
  __u32 shard = rel / ppq;
  if (shard >= c->shards) return 0;
  __u32 slot = (local_ip - c->first_ip) * ppq + rel % ppq;
  if (slot >= c->budget) return 0;
  __u32 key = shard * c->budget + slot;
  __u64* entry = bpf_map_lookup_elem(&sd_inflight, &key);
  return entry && *entry == sd_inflight_entry(remote_ip, (__u16)remote_port);
}

SEC("xdp.frags")
int sd_handshake_steal(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  __u32 zero = 0;
  const struct sd_steal_config* c = bpf_map_lookup_elem(&sd_config, &zero);
  if (!c || c->mode == SD_STEAL_ALL) return to_engine(ctx);

  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end) return XDP_PASS;
  if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
    struct arp_ipv4* a = (void*)(eth + 1);
    if (!c->steal_arp || (void*)(a + 1) > end || a->op != bpf_htons(2)) return XDP_PASS;
    __u32 target;
    __builtin_memcpy(&target, a->target_ip, 4);
    return is_ours(c, bpf_ntohl(target)) ? to_engine(ctx) : XDP_PASS;
  }
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr* ip = (void*)(eth + 1);
  if ((void*)(ip + 1) > end) return XDP_PASS;
  __u32 ihl = ip->ihl * 4;
  /* Handshake replies are never fragments. */
  if (ihl < sizeof(*ip) || (ip->frag_off & bpf_htons(0x3fff))) return XDP_PASS;

  if (ip->protocol == IPPROTO_TCP) {
    struct tcphdr* t = (void*)ip + ihl;
    if ((void*)(t + 1) > end) return XDP_PASS;
    if (!((t->syn && t->ack) || t->rst)) return XDP_PASS;
    if (in_flight(c, bpf_ntohl(ip->daddr), bpf_ntohs(t->dest), bpf_ntohl(ip->saddr),
                  bpf_ntohs(t->source)))
      return to_engine(ctx);
    return XDP_PASS;
  }
  if (ip->protocol == IPPROTO_ICMP) {
    struct icmp_head* icmp = (void*)ip + ihl;
    if ((void*)(icmp + 1) > end || icmp->type != ICMP_DEST_UNREACH) return XDP_PASS;
    struct iphdr* quoted = (void*)(icmp + 1);
    if ((void*)(quoted + 1) > end || quoted->protocol != IPPROTO_TCP) return XDP_PASS;
    __u32 qihl = quoted->ihl * 4;
    if (qihl < sizeof(*quoted)) return XDP_PASS;
    __be16* ports = (void*)quoted + qihl;
    if ((void*)(ports + 2) > end) return XDP_PASS;
    /* The quoted segment is our SYN: its source is our end. */
    if (in_flight(c, bpf_ntohl(quoted->saddr), bpf_ntohs(ports[0]), bpf_ntohl(quoted->daddr),
                  bpf_ntohs(ports[1])))
      return to_engine(ctx);
  }
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
