#include "piece_store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace swarmdial {

PieceStore::PieceStore(const Metainfo& meta, const std::string& data_path)
    : meta_(meta), have_((meta.num_pieces + 7) / 8, 0) {
  struct stat st {};
  bool path_is_file = ::stat(data_path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  for (const auto& f : meta.files) {
    if (f.pad) {
      fds_.push_back(-1);
      continue;
    }
    std::string path = (!meta.multi_file && path_is_file) ? data_path : data_path + "/" + f.path;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) ++missing_files_;
    fds_.push_back(fd);
  }
}

PieceStore::~PieceStore() {
  for (int fd : fds_)
    if (fd >= 0) ::close(fd);
}

bool PieceStore::read(uint32_t piece, uint32_t begin, uint32_t length, uint8_t* dst) const {
  uint64_t offset = uint64_t{piece} * meta_.piece_length + begin;
  // First file whose range ends after offset.
  auto it = std::upper_bound(
      meta_.files.begin(), meta_.files.end(), offset,
      [](uint64_t off, const TorrentFile& f) { return off < f.offset + f.length; });
  while (length > 0) {
    if (it == meta_.files.end()) return false;
    size_t fi = static_cast<size_t>(it - meta_.files.begin());
    uint64_t in_file = offset - it->offset;
    uint64_t chunk = std::min<uint64_t>(length, it->length - in_file);
    if (chunk > 0 && it->pad) {
      std::memset(dst, 0, chunk);  // BEP 47: padding is zeros by definition
    } else if (chunk > 0) {
      if (fds_[fi] < 0) return false;
      ssize_t n = ::pread(fds_[fi], dst, chunk, static_cast<off_t>(in_file));
      if (n != static_cast<ssize_t>(chunk)) return false;
    }
    dst += chunk;
    offset += chunk;
    length -= static_cast<uint32_t>(chunk);
    ++it;
  }
  return true;
}

std::vector<uint32_t> PieceStore::verify(unsigned threads, const Progress& progress) {
  std::atomic<uint32_t> next{0}, done{0};
  std::vector<uint8_t> ok(meta_.num_pieces, 0);
  auto work = [&] {
    std::vector<uint8_t> buf(meta_.piece_length);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    for (uint32_t p; (p = next.fetch_add(1)) < meta_.num_pieces;) {
      uint32_t size = meta_.piece_size(p);
      if (read(p, 0, size, buf.data())) {
        uint8_t digest[20];
        unsigned len = 0;
        EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
        EVP_DigestUpdate(ctx, buf.data(), size);
        EVP_DigestFinal_ex(ctx, digest, &len);
        ok[p] = std::memcmp(digest, meta_.piece_hashes[p].data(), 20) == 0;
      }
      done.fetch_add(1);
    }
    EVP_MD_CTX_free(ctx);
  };
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < std::max(1u, threads); ++i) pool.emplace_back(work);
  while (done.load() < meta_.num_pieces) {
    if (progress) progress(done.load(), meta_.num_pieces);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
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

}  // namespace swarmdial
