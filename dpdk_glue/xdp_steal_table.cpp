#include "xdp_steal_table.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace swarmdial {

struct XdpStealTable::Config {
  sd_steal_config value{};
  uint32_t running = 0;  // shards whose loop runs
  std::mutex lock;       // shards start and stop on their own threads
};

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("af_xdp exception path: " + what);
}

std::string errno_text(int err) {
  return std::strerror(err < 0 ? -err : err);
}

// The fd of the map called name among the program's maps, or -1.
int find_map(int prog_fd, const char* name) {
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) return -1;
  std::vector<uint32_t> ids(info.nr_map_ids);
  bpf_prog_info again{};
  again.nr_map_ids = info.nr_map_ids;
  again.map_ids = reinterpret_cast<uint64_t>(ids.data());
  len = sizeof again;
  if (bpf_obj_get_info_by_fd(prog_fd, &again, &len) != 0) return -1;
  for (uint32_t i = 0; i < again.nr_map_ids && i < ids.size(); ++i) {
    int fd = bpf_map_get_fd_by_id(ids[i]);
    if (fd < 0) continue;
    bpf_map_info m{};
    uint32_t mlen = sizeof m;
    if (bpf_obj_get_info_by_fd(fd, &m, &mlen) == 0 && std::strcmp(m.name, name) == 0) return fd;
    close(fd);
  }
  return -1;
}

}  // namespace

std::unique_ptr<XdpStealTable> XdpStealTable::open(const std::string& ifname,
                                                   const SourcePortPlan& plan, uint32_t shards,
                                                   uint32_t budget, bool handshakes_only) {
  uint64_t slots = uint64_t{shards} * budget;
  if (slots > SD_MAX_SLOTS)
    fail(std::to_string(slots) + " handshakes in flight, the XDP program tracks at most " +
         std::to_string(SD_MAX_SLOTS) + " (lower --half-open or --shards)");
  unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) fail("no interface " + ifname);
  uint32_t prog_id = 0;
  if (int rc = bpf_xdp_query_id(static_cast<int>(index), 0, &prog_id); rc != 0 || prog_id == 0)
    fail("no XDP program on " + ifname + (rc ? ": " + errno_text(rc) : std::string()));
  int prog_fd = bpf_prog_get_fd_by_id(prog_id);
  if (prog_fd < 0) fail("XDP program " + std::to_string(prog_id) + ": " + errno_text(errno));
  std::unique_ptr<XdpStealTable> t(new XdpStealTable);
  t->config_fd_ = find_map(prog_fd, "sd_config");
  t->inflight_fd_ = find_map(prog_fd, "sd_inflight");
  close(prog_fd);
  if (t->config_fd_ < 0 || t->inflight_fd_ < 0)
    fail("the XDP program on " + ifname + " is not swarmdial's (no sd_config/sd_inflight map)");

  t->budget_ = budget;
  t->mapped_bytes_ = size_t{SD_MAX_SLOTS} * sizeof(uint64_t);
  void* p = mmap(nullptr, t->mapped_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, t->inflight_fd_, 0);
  if (p == MAP_FAILED) fail("mmap sd_inflight: " + errno_text(errno));
  t->slots_ = static_cast<uint64_t*>(p);
  // A previous run's entries (the map lives as long as the program).
  std::memset(t->slots_, 0, slots * sizeof(uint64_t));

  t->config_ = std::make_unique<Config>();
  sd_steal_config& c = t->config_->value;
  c.mode = handshakes_only ? SD_STEAL_HANDSHAKES : SD_STEAL_ALL;
  c.first_ip = plan.first_ip();
  c.address_count = plan.address_count();
  c.port_base = plan.port_base();
  c.ports_per_shard = plan.ports_per_shard();
  c.shards = shards;
  c.budget = budget;
  c.steal_arp = 1;
  uint32_t key = 0;
  if (bpf_map_update_elem(t->config_fd_, &key, &c, BPF_ANY) != 0)
    fail("write sd_config: " + errno_text(errno));
  return t;
}

uint32_t XdpStealTable::attached_program(const std::string& ifname) {
  unsigned index = if_nametoindex(ifname.c_str());
  uint32_t prog_id = 0;
  if (index == 0 || bpf_xdp_query_id(static_cast<int>(index), 0, &prog_id) != 0) return 0;
  return prog_id;
}

std::string XdpStealTable::undo_leftover(const std::string& ifname, uint32_t prog_id) {
  unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) return "XDP program " + std::to_string(prog_id) + ": " + ifname + " is gone";
  if (attached_program(ifname) != prog_id)
    return "XDP program " + std::to_string(prog_id) + " is no longer on " + ifname;
  if (int rc = bpf_xdp_detach(static_cast<int>(index), 0, nullptr); rc != 0)
    return "XDP program " + std::to_string(prog_id) + " on " + ifname +
           " not detached: " + errno_text(rc);
  return "XDP program " + std::to_string(prog_id) + " on " + ifname;
}

void XdpStealTable::shard_running(bool running) {
  std::lock_guard<std::mutex> hold(config_->lock);
  if (running)
    ++config_->running;
  else
    --config_->running;
  uint32_t steal = config_->running > 0 ? 1 : 0;
  if (config_->value.steal_arp == steal) return;
  config_->value.steal_arp = steal;
  uint32_t key = 0;
  // Nothing to report to: the kernel only resolves more slowly without it.
  bpf_map_update_elem(config_fd_, &key, &config_->value, BPF_ANY);
}

XdpStealTable::~XdpStealTable() {
  if (slots_) munmap(slots_, mapped_bytes_);
  if (config_fd_ >= 0) close(config_fd_);
  if (inflight_fd_ >= 0) close(inflight_fd_);
}

}  // namespace swarmdial
