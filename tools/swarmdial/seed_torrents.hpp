#pragma once
// The torrents of a `seed` run: loading each one (flags or --torrents-dir),
// checking its data (fast resume with --state-dir), and the node-wide state
// that the run, the status line, the metrics and the directory watcher share.
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/peer_book.hpp"
#include "engine/peerwire/metainfo.hpp"
#include "input_files.hpp"
#include "report/summaries.hpp"
#include "seed_run.hpp"
#include "seed_trackers.hpp"
#include "uring/peers/piece_store.hpp"
#include "uring/tracker/announce_service.hpp"

namespace swarmdial {

// A .torrent file as last seen, to tell a changed one from the same.
struct FileStamp {
  int64_t mtime_ns = 0;
  int64_t size = -1;
  bool operator==(const FileStamp&) const = default;
};
std::optional<FileStamp> stamp_of(const std::string& path);

// One torrent of the run, from its flags or its directory to its summary.
struct LoadedTorrent {
  TorrentSource source;
  bool from_dir = false;
  FileStamp stamp;  // of the .torrent file when it was loaded
  Metainfo meta;
  std::unique_ptr<PieceStore> store;
  std::vector<uint32_t> bad;  // pieces that failed verification, never served
  std::optional<ResumeReport> resume;
  std::unique_ptr<SeedTrackers> trackers;
  uint32_t slot = 0;                               // its dials' tag while seeded
  std::optional<double> added_at_s, removed_at_s;  // since the start, when not there throughout
  std::optional<RemovedTorrent> final;             // figures when it was removed
  uint32_t pieces_at_removal = 0;                  // its store is gone then
};

// What every thread of the node shares. `mu` guards the torrent lists once
// the run is up (the directory watcher changes them; the status line, the
// metrics and the summary read them).
struct SeedNode {
  SeedConfig cfg;
  PeerId peer_id{};
  // Before the torrents: their announcers run on it, and stop before it does.
  std::unique_ptr<AnnounceService> announces;
  std::mutex mu;
  // Held by pointer: a store keeps a reference to its torrent's metainfo.
  std::vector<std::unique_ptr<LoadedTorrent>> torrents;  // seeded now
  std::vector<std::unique_ptr<LoadedTorrent>> removed;   // seeded for a while
  // --peers, and --peers-file lines without an info-hash: dialled for every torrent.
  std::vector<Endpoint> peers;
  std::vector<ListedPeer> listed;  // --peers-file lines that name their torrent
  // Set once the run is up, for torrents added later.
  PeerInbox* inbox = nullptr;
  uint16_t listen_port = 0;
  bool closing = false;  // `stopped` was sent: a torrent added now is not announced
  std::atomic<uint64_t> added{0}, removed_count{0};
  int64_t start_ns = 0;

  // The peers to dial for a torrent: --peers, then the file's lines for
  // every torrent, then its own lines; tags are set by the slot.
  void dials_for(const Metainfo& meta, std::vector<DialTarget>& dials,
                 std::vector<PeerSource>& sources) const;
};

// Every *.torrent in --torrents-dir, sorted; throws UsageError when the
// directory cannot be read.
std::vector<std::string> list_torrents_dir(const std::string& dir);

// The torrent file loaded and its data found; the reason on failure.
// Data: `source.data_path` for a --torrent; DATA_ROOT/NAME for the directory's.
std::unique_ptr<LoadedTorrent> load_torrent(const SeedConfig& cfg, TorrentSource source,
                                            bool from_dir, std::string& why);

// Opens the store and verifies every piece on all cores (with a saved state,
// only those of files that changed). Returns -1 to seed it, else the exit
// code that nothing to seed in it means (2: no data file there, 1: no piece
// good); the reason is on stderr.
int open_and_verify(const SeedConfig& cfg, LoadedTorrent& t, bool show_status);

// Writes the torrent's fast-resume state (with --state-dir).
void save_state(LoadedTorrent& t);

}  // namespace swarmdial
