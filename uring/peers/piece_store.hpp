#pragma once
// The torrent's data on disk: maps pieces to file ranges, verifies every
// piece against its SHA-1 at load (all cores, with a progress line), and
// reads blocks for the peer-wire pool. Only pieces that verified are served.
//
// Files can change under a running seeder (truncated, rewritten, replaced
// by a rename). A piece whose read comes up short is withheld at once;
// recheck() (the seeder calls it every second) notices a file whose
// identity, size or mtime changed, withholds all its pieces, reopens it and
// rehashes them, and serves again only those that verify. Readers on other
// threads never block on it: withheld flags are atomics, and a changed file
// is reopened onto its old descriptor number (dup3), so a read in flight can
// never land on a number reused for something else.
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/peerwire/metainfo.hpp"
#include "engine/peerwire/resume_data.hpp"

namespace swarmdial {

class PieceStore {
 public:
  // Opens the files under data_dir (data_dir/<name> for a single file, or
  // data_dir itself when it is that file). Missing files leave their pieces
  // unverified rather than failing the load.
  PieceStore(const Metainfo& meta, const std::string& data_path);
  ~PieceStore();
  PieceStore(const PieceStore&) = delete;

  // Descriptors the store holds for the whole run: one per file on disk.
  static uint64_t descriptors_needed(const Metainfo& meta);

  using Progress = std::function<void(uint32_t done, uint32_t total)>;
  // Hashes every piece with `threads` threads; returns the indices that failed.
  // With resume data, a piece saved as verified whose files are unchanged
  // since (pieces_unchanged) is taken as verified: only the rest is hashed.
  std::vector<uint32_t> verify(unsigned threads, const Progress& progress,
                               const ResumeData* resume = nullptr);
  uint32_t hashed_count() const { return hashed_; }  // by the last verify()

  // Each file's size and mtime when it was opened or last rehashed (pad
  // files and missing ones: size -1).
  std::vector<ResumeFileStat> file_stats() const;
  // What to save for a restart: those stats, and the pieces verified and
  // not withheld now. Not while recheck() runs on another thread.
  ResumeData resume_data() const;

  // Reads `length` bytes at (piece, begin) into dst. Returns false when the
  // piece is withheld, and on a short read (a file shrank under us), which
  // withholds the piece from then on.
  bool read(uint32_t piece, uint32_t begin, uint32_t length, uint8_t* dst) const;
  bool withheld(uint32_t piece) const {
    return withheld_[piece].load(std::memory_order_acquire) != 0;
  }

  // One file that changed on disk, as recheck() found it.
  struct FileChange {
    std::string path;
    int64_t old_size = 0, new_size = -1;  // -1: the file is gone
    uint32_t first_piece = 0, last_piece = 0;
    uint32_t verified_again = 0;  // of those pieces that we had verified
    uint32_t still_withheld = 0;
  };
  // Stats every file; rehashes the pieces of each one that changed. Call
  // from one thread at a time (the seeder's watcher).
  std::vector<FileChange> recheck();
  uint32_t withheld_count() const { return withheld_count_.load(std::memory_order_relaxed); }
  const std::atomic<uint8_t>* withheld_flags() const { return withheld_.get(); }

  // Pieces withheld and restored, in order, for the workers to tell their
  // peers. Rare, so a lock is fine; event_count() is the cheap check.
  struct PieceEvent {
    uint32_t piece = 0;
    bool restored = false;
  };
  uint64_t event_count() const { return event_count_.load(std::memory_order_acquire); }
  // Appends the events from index `from` on to out; returns the new count.
  uint64_t events_since(uint64_t from, std::vector<PieceEvent>& out) const;

  const std::vector<uint8_t>& have_bitfield() const { return have_; }
  uint32_t have_count() const { return have_count_; }
  bool have(uint32_t piece) const { return have_[piece / 8] & (0x80 >> (piece % 8)); }
  const Metainfo& meta() const { return meta_; }
  size_t missing_files() const { return missing_files_; }

 private:
  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    int64_t size = -1;  // -1: missing
    int64_t mtime_ns = 0;
    bool operator==(const FileId&) const = default;
  };
  static FileId identify(const std::string& path);
  bool read_raw(uint32_t piece, uint32_t begin, uint32_t length, uint8_t* dst) const;
  bool hash_ok(uint32_t piece, std::vector<uint8_t>& buf) const;
  void withhold(uint32_t piece) const;

  const Metainfo& meta_;
  std::vector<std::string> paths_;
  std::vector<FileId> ids_;
  // One per file, -1 when missing; atomic because recheck() fills a
  // missing one while worker threads read.
  std::unique_ptr<std::atomic<int>[]> fds_;
  size_t missing_files_ = 0;
  std::unique_ptr<std::atomic<uint8_t>[]> withheld_;
  mutable std::atomic<uint32_t> withheld_count_{0};
  mutable std::mutex events_mu_;
  mutable std::vector<PieceEvent> events_;
  mutable std::atomic<uint64_t> event_count_{0};
  void log_event(uint32_t piece, bool restored) const;
  std::vector<uint8_t> have_;
  uint32_t have_count_ = 0;
  uint32_t hashed_ = 0;
};

}  // namespace swarmdial
