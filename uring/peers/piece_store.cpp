#include "piece_store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

namespace swarmdial {

PieceStore::FileId PieceStore::identify(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, static_cast<int64_t>(st.st_size),
          int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

PieceStore::PieceStore(const Metainfo& meta, const std::string& data_path)
    : meta_(meta),
      fds_(new std::atomic<int>[meta.files.size()]),
      withheld_(new std::atomic<uint8_t>[meta.num_pieces]),
      have_((meta.num_pieces + 7) / 8, 0) {
  for (uint32_t p = 0; p < meta.num_pieces; ++p) withheld_[p].store(0);
  struct stat st {};
  bool path_is_file = ::stat(data_path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  for (size_t i = 0; i < meta.files.size(); ++i) {
    const auto& f = meta.files[i];
    std::string path;
    if (!f.pad) path = (!meta.multi_file && path_is_file) ? data_path : data_path + "/" + f.path;
    paths_.push_back(path);
    // Identity first: a file replaced between the two is caught by the
    // first recheck, not missed.
    ids_.push_back(f.pad ? FileId{} : identify(path));
    int fd = f.pad ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && !f.pad) ++missing_files_;
    fds_[i].store(fd);
  }
}

uint64_t PieceStore::descriptors_needed(const Metainfo& meta) {
  uint64_t n = 0;
  for (const auto& f : meta.files) n += !f.pad;
  return n;
}

PieceStore::~PieceStore() {
  for (size_t i = 0; i < meta_.files.size(); ++i)
    if (int fd = fds_[i].load(); fd >= 0) ::close(fd);
}

void PieceStore::withhold(uint32_t piece) const {
  if (withheld_[piece].exchange(1, std::memory_order_acq_rel) == 0) {
    withheld_count_.fetch_add(1, std::memory_order_relaxed);
    log_event(piece, false);
  }
}

void PieceStore::log_event(uint32_t piece, bool restored) const {
  std::lock_guard lock(events_mu_);
  events_.push_back({piece, restored});
  event_count_.store(events_.size(), std::memory_order_release);
}

uint64_t PieceStore::events_since(uint64_t from, std::vector<PieceEvent>& out) const {
  std::lock_guard lock(events_mu_);
  for (uint64_t i = from; i < events_.size(); ++i) out.push_back(events_[i]);
  return events_.size();
}

bool PieceStore::read(uint32_t piece, uint32_t begin, uint32_t length, uint8_t* dst) const {
  return !withheld(piece) && read_raw(piece, begin, length, dst);
}

bool PieceStore::read_raw(uint32_t piece, uint32_t begin, uint32_t length, uint8_t* dst) const {
  uint64_t offset = uint64_t{piece} * meta_.piece_length + begin;
  // First file whose range ends after offset.
  auto it = std::upper_bound(
      meta_.files.begin(), meta_.files.end(), offset,
      [](uint64_t off, const TorrentFile& f) { return off < f.offset + f.length; });
  while (length > 0) {
    if (it == meta_.files.end()) return false;
    size_t fi = static_cast<size_t>(it - meta_.files.begin());
    int fd = fds_[fi].load(std::memory_order_acquire);
    uint64_t in_file = offset - it->offset;
    uint64_t chunk = std::min<uint64_t>(length, it->length - in_file);
    if (chunk > 0 && it->pad) {
      std::memset(dst, 0, chunk);  // BEP 47: padding is zeros by definition
    } else if (chunk > 0) {
      if (fd < 0) return false;
      ssize_t n = ::pread(fd, dst, chunk, static_cast<off_t>(in_file));
      if (n != static_cast<ssize_t>(chunk)) {
        // Only a verified piece can turn short; what never verified is not
        // served anyway.
        if (have(piece)) withhold(piece);
        return false;
      }
    }
    dst += chunk;
    offset += chunk;
    length -= static_cast<uint32_t>(chunk);
    ++it;
  }
  return true;
}

bool PieceStore::hash_ok(uint32_t piece, std::vector<uint8_t>& buf) const {
  uint32_t size = meta_.piece_size(piece);
  buf.resize(meta_.piece_length);
  if (!read_raw(piece, 0, size, buf.data())) return false;
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  return EVP_Digest(buf.data(), size, digest, &len, EVP_sha1(), nullptr) == 1 && len == 20 &&
         std::memcmp(digest, meta_.piece_hashes[piece].data(), 20) == 0;
}

std::vector<PieceStore::FileChange> PieceStore::recheck() {
  std::vector<FileChange> changes;
  std::vector<uint8_t> buf;
  for (size_t i = 0; i < meta_.files.size(); ++i) {
    const TorrentFile& f = meta_.files[i];
    if (f.pad || f.length == 0) continue;
    FileId now = identify(paths_[i]);
    if (now == ids_[i]) continue;
    FileChange c;
    c.path = paths_[i];
    c.old_size = ids_[i].size;
    c.new_size = now.size;
    c.first_piece = static_cast<uint32_t>(f.offset / meta_.piece_length);
    c.last_piece = static_cast<uint32_t>((f.offset + f.length - 1) / meta_.piece_length);
    // Withhold first, then swap the descriptor: no read can pair the new
    // file with a piece that has not been hashed from it.
    for (uint32_t p = c.first_piece; p <= c.last_piece; ++p)
      if (have(p)) withhold(p);
    int fresh = now.size >= 0 ? ::open(paths_[i].c_str(), O_RDONLY | O_CLOEXEC) : -1;
    int cur = fds_[i].load(std::memory_order_acquire);
    if (cur < 0) {
      fds_[i].store(fresh, std::memory_order_release);
    } else {
      // The new file (or, when it is gone, /dev/null, whose reads come up
      // short) goes behind the same descriptor number in one step: a read
      // in flight gets the old file or the new one, never whatever a
      // closed number was reused for, and no descriptor piles up however
      // often the file changes.
      if (fresh < 0) fresh = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fresh >= 0) {
        ::dup3(fresh, cur, O_CLOEXEC);
        ::close(fresh);
      }
    }
    ids_[i] = now;
    for (uint32_t p = c.first_piece; p <= c.last_piece; ++p) {
      if (!have(p)) continue;
      // A piece spanning files is restored only if every file under it
      // reads and hashes right; it stays withheld while it is hashed.
      if (hash_ok(p, buf)) {
        withheld_[p].store(0, std::memory_order_release);
        withheld_count_.fetch_sub(1, std::memory_order_relaxed);
        log_event(p, true);
        ++c.verified_again;
      } else {
        ++c.still_withheld;
      }
    }
    changes.push_back(std::move(c));
  }
  return changes;
}

std::vector<uint32_t> PieceStore::verify(unsigned threads, const Progress& progress,
                                         const ResumeData* resume) {
  std::atomic<uint32_t> next{0}, done{0};
  std::vector<uint8_t> ok(meta_.num_pieces, 0);
  std::vector<uint32_t> todo;
  if (resume) {
    std::vector<uint8_t> same = pieces_unchanged(meta_, *resume, file_stats());
    // A piece saved as not verified is hashed again whatever its files
    // did: a rehash after a change on disk may have put it right, and a
    // missing or failed piece costs little to try.
    for (uint32_t p = 0; p < meta_.num_pieces; ++p) {
      if (same[p] && (resume->have[p / 8] >> (7 - p % 8)) & 1)
        ok[p] = 1;
      else
        todo.push_back(p);
    }
    done.store(meta_.num_pieces - static_cast<uint32_t>(todo.size()));
  } else {
    todo.resize(meta_.num_pieces);
    for (uint32_t p = 0; p < meta_.num_pieces; ++p) todo[p] = p;
  }
  hashed_ = static_cast<uint32_t>(todo.size());
  // The calling thread hashes too and reports progress between its pieces:
  // a node opening thousands of small torrents must not pay a polling
  // interval for each one (300 one-piece torrents took 60 s that way).
  auto last_report = std::chrono::steady_clock::now();
  auto work = [&](bool reports) {
    std::vector<uint8_t> buf(meta_.piece_length);
    for (uint32_t i; (i = next.fetch_add(1)) < todo.size();) {
      ok[todo[i]] = hash_ok(todo[i], buf);
      done.fetch_add(1);
      if (reports && progress) {
        auto now = std::chrono::steady_clock::now();
        if (now - last_report >= std::chrono::milliseconds(200)) {
          progress(done.load(), meta_.num_pieces);
          last_report = now;
        }
      }
    }
  };
  size_t helpers = std::min<size_t>(std::max(1u, threads), todo.size());
  std::vector<std::thread> pool;
  for (size_t i = 1; i < helpers; ++i) pool.emplace_back(work, false);
  work(true);
  for (auto& t : pool) t.join();
  if (progress) progress(meta_.num_pieces, meta_.num_pieces);
  std::vector<uint32_t> bad;
  have_count_ = 0;
  for (uint32_t p = 0; p < meta_.num_pieces; ++p) {
    if (ok[p]) {
      have_[p / 8] |= static_cast<uint8_t>(0x80 >> (p % 8));
      ++have_count_;
    } else {
      bad.push_back(p);
    }
  }
  return bad;
}

std::vector<ResumeFileStat> PieceStore::file_stats() const {
  std::vector<ResumeFileStat> out;
  out.reserve(ids_.size());
  for (size_t i = 0; i < ids_.size(); ++i)
    out.push_back(meta_.files[i].pad ? ResumeFileStat{}
                                     : ResumeFileStat{ids_[i].size, ids_[i].mtime_ns});
  return out;
}

ResumeData PieceStore::resume_data() const {
  ResumeData r;
  r.info_hash = meta_.info_hash;
  r.num_pieces = meta_.num_pieces;
  r.piece_length = meta_.piece_length;
  r.files = file_stats();
  r.have.assign(have_.size(), 0);
  for (uint32_t p = 0; p < meta_.num_pieces; ++p)
    if (have(p) && !withheld(p)) r.have[p / 8] |= static_cast<uint8_t>(0x80 >> (p % 8));
  return r;
}

}  // namespace swarmdial
