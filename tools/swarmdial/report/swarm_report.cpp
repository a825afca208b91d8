#include "swarm_report.hpp"

#include <fstream>
#include <stdexcept>

#include "human.hpp"

namespace swarmdial {

namespace {
constexpr PeerBehaviour kAll[] = {PeerBehaviour::kLeecher, PeerBehaviour::kSlow,
                                  PeerBehaviour::kDead, PeerBehaviour::kBlackhole};
}

nlohmann::json swarm_view_json(const EmulatedSwarm& swarm, bool with_peers) {
  nlohmann::json planned = nlohmann::json::object(), behaviours = nlohmann::json::object();
  for (PeerBehaviour b : kAll) {
    std::string name(behaviour_name(b));
    planned[name] = swarm.planned(b);
    const BehaviourCounters& k = swarm.counters(b);
    behaviours[name] = {{"peers", swarm.planned(b)},
                        {"connections", k.connections.get()},
                        {"completed", k.completed.get()},
                        {"incomplete_disconnects", k.failed.get()},
                        {"bytes_verified", k.bytes_verified.get()},
                        {"hash_failures", k.hash_failures.get()}};
  }
  nlohmann::json view = {
      {"planned", planned}, {"behaviours", behaviours}, {"leechers_completed", swarm.completed()}};
  if (with_peers) {
    nlohmann::json peers = nlohmann::json::array();
    for (const auto& r : swarm.results()) {
      nlohmann::json p = {{"addr", format_endpoint(r.peer.addr)},
                          {"behaviour", behaviour_name(r.peer.behaviour)}};
      if (r.peer.behaviour == PeerBehaviour::kLeecher || r.peer.behaviour == PeerBehaviour::kSlow) {
        p["connections"] = r.connections;
        p["completed"] = r.completed;
        p["bytes_verified"] = r.bytes_verified;
        p["hash_failures"] = r.hash_failures;
        p["end"] = leech_end_name(r.end);
        if (!r.seeder_client.empty()) p["seeder_client"] = r.seeder_client;
        if (r.seconds_to_complete >= 0) p["seconds_to_complete"] = r.seconds_to_complete;
      }
      peers.push_back(std::move(p));
    }
    view["peers"] = std::move(peers);
  }
  return view;
}

std::string swarm_status(const EmulatedSwarm& swarm) {
  const auto& fast = swarm.counters(PeerBehaviour::kLeecher);
  const auto& slow = swarm.counters(PeerBehaviour::kSlow);
  uint64_t verified = fast.bytes_verified.get() + slow.bytes_verified.get();
  return "leechers " + std::to_string(fast.completed.get()) + "/" +
         std::to_string(swarm.planned(PeerBehaviour::kLeecher)) + " done, slow " +
         std::to_string(slow.completed.get()) + "/" +
         std::to_string(swarm.planned(PeerBehaviour::kSlow)) + ", verified " +
         human_bytes(static_cast<double>(verified)) + ", connections " +
         std::to_string(fast.connections.get() + slow.connections.get());
}

void write_peers_file(const std::string& path, const std::vector<SwarmPeer>& peers) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& p : peers) out << format_endpoint(p.addr) << "\n";
  if (!out) throw std::runtime_error("--peers-file " + path + ": write failed");
}

}  // namespace swarmdial
