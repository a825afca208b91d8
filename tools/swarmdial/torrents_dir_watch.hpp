#pragma once
// --torrents-dir while a seed runs, as clients' watched folders behave: a
// new *.torrent starts seeding (its data checked first, with --state-dir
// as fast as a restart); one removed stops (its peers closed and counted
// as torrent_removed, `stopped` sent to its trackers, its state saved, its
// files closed); one rewritten with another torrent is seeded as what it
// now holds. inotify says when to look; SIGHUP makes it look at everything,
// files skipped before too (say, once their data is in place).
//
// It runs on the run's file-watcher thread, once a second: checking a new
// torrent's data may take a while and stalls nothing else.
#include <atomic>
#include <map>
#include <string>

#include "seed_torrents.hpp"

namespace swarmdial {

class TorrentsDirWatch {
 public:
  // reload: set by SIGHUP; taken (cleared) here.
  TorrentsDirWatch(SeedNode& node, std::atomic<bool>& reload);
  ~TorrentsDirWatch();
  TorrentsDirWatch(const TorrentsDirWatch&) = delete;
  TorrentsDirWatch& operator=(const TorrentsDirWatch&) = delete;

  // The run's on_files_look hook.
  void look(TorrentSlots& slots);

 private:
  bool directory_changed();  // drains inotify's events
  void rescan(TorrentSlots& slots, bool everything);
  void add(TorrentSlots& slots, const std::string& path);
  void remove(TorrentSlots& slots, LoadedTorrent& t, const std::string& why);
  void skip(const std::string& path, const std::string& why);
  double now_s() const;

  SeedNode& node_;
  std::atomic<bool>& reload_;
  int inotify_fd_ = -1;
  // Files that could not be seeded, as they were then: not tried again
  // until they change or SIGHUP says so.
  std::map<std::string, FileStamp> skipped_;
};

}  // namespace swarmdial
