#include "seed_torrents.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "resume_files.hpp"

namespace swarmdial {

std::optional<FileStamp> stamp_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileStamp{int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
                   static_cast<int64_t>(st.st_size)};
}

void SeedNode::dials_for(const Metainfo& meta, std::vector<DialTarget>& dials,
                         std::vector<PeerSource>& sources) const {
  for (size_t k = 0; k < peers.size(); ++k) {
    dials.push_back({peers[k], 0});
    sources.push_back(k < cfg.peers.size() ? PeerSource::kFlag : PeerSource::kFile);
  }
  for (const ListedPeer& p : listed)
    if (p.torrent && *p.torrent == meta.info_hash) {
      dials.push_back({p.peer, 0});
      sources.push_back(PeerSource::kFile);
    }
}

std::vector<std::string> list_torrents_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw UsageError("--torrents-dir " + dir + ": " + ec.message());
  std::vector<std::string> files;
  for (const auto& e : it)
    if (e.path().extension() == ".torrent" && e.is_regular_file(ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::unique_ptr<LoadedTorrent> load_torrent(const SeedConfig& cfg, TorrentSource source,
                                            bool from_dir, std::string& why) {
  auto t = std::make_unique<LoadedTorrent>();
  t->from_dir = from_dir;
  if (auto st = stamp_of(source.torrent_file)) t->stamp = *st;
  try {
    t->meta = load_torrent_file(source.torrent_file);
  } catch (const UsageError& e) {
    why = e.what();
    return nullptr;
  }
  if (from_dir) {
    // The data root is a save path, as clients have one: the torrent's
    // name (its file, or its directory of files) is found in it.
    source.data_path = cfg.data_root.empty() ? cfg.torrents_dir : cfg.data_root;
    std::string named = source.data_path + "/" + t->meta.name;
    if (::access(named.c_str(), R_OK) != 0) {
      why = source.torrent_file + ": no data at " + named;
      return nullptr;
    }
  } else if (::access(source.data_path.c_str(), R_OK) != 0) {
    why = "--data " + source.data_path + ": cannot read";
    return nullptr;
  }
  t->source = std::move(source);
  return t;
}

namespace {
// With --state-dir: the saved state, if one exists for this torrent and
// fits it (a state that does not is named, and every piece is hashed).
std::optional<ResumeData> load_state(const SeedConfig& cfg, const Metainfo& meta,
                                     ResumeReport& report) {
  report.state_file = resume_path(cfg.state_dir, meta);
  LoadedResume l = load_resume(report.state_file, meta);
  report.loaded = l.data.has_value();
  report.ignored = l.problem;
  if (!l.problem.empty())
    std::cerr << "swarmdial seed: ignoring " << report.state_file << ": " << l.problem
              << "; hashing every piece\n";
  return std::move(l.data);
}
}  // namespace

void save_state(LoadedTorrent& t) {
  if (!t.resume || !t.store) return;
  t.resume->save_error = save_resume(t.resume->state_file, t.store->resume_data());
  if (!t.resume->save_error.empty())
    std::cerr << "swarmdial seed: cannot save the resume state: " << t.resume->save_error << "\n";
}

int open_and_verify(const SeedConfig& cfg, LoadedTorrent& t, bool show_status) {
  const Metainfo& meta = t.meta;
  if (!t.store) t.store = std::make_unique<PieceStore>(t.meta, t.source.data_path);
  PieceStore& store = *t.store;
  if (store.missing_files() == meta.files.size()) {
    std::cerr << "swarmdial seed: --data " << t.source.data_path << ": none of the torrent's "
              << meta.files.size() << " files is there\n";
    return 2;
  }
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (!cfg.state_dir.empty()) t.resume.emplace();
  std::optional<ResumeData> saved = t.resume ? load_state(cfg, meta, *t.resume) : std::nullopt;
  t.bad = store.verify(
      cores,
      [&](uint32_t done, uint32_t total) {
        if (show_status)
          std::fprintf(stderr, "\rverifying %s: %u/%u pieces (%u%%)", meta.name.c_str(), done,
                       total, total ? static_cast<unsigned>(uint64_t{done} * 100 / total) : 100);
      },
      saved ? &*saved : nullptr);
  if (show_status) std::fprintf(stderr, "\n");
  if (t.resume) {
    t.resume->pieces_hashed = store.hashed_count();
    t.resume->pieces_from_state = meta.num_pieces - store.hashed_count();
    if (saved && !cfg.quiet)
      std::fprintf(stderr, "resumed %s from %s: %u pieces as saved, %u hashed\n", meta.name.c_str(),
                   t.resume->state_file.c_str(), t.resume->pieces_from_state,
                   t.resume->pieces_hashed);
    save_state(t);
  }
  if (!t.bad.empty()) {
    std::string list;
    for (size_t i = 0; i < t.bad.size() && i < 50; ++i)
      list += (i ? ", " : "") + std::to_string(t.bad[i]);
    if (t.bad.size() > 50) list += ", ...";
    std::cerr << "swarmdial seed: " << meta.name << ": " << t.bad.size() << " of "
              << meta.num_pieces << " pieces failed verification and will not be served: " << list
              << "\n";
  }
  if (store.have_count() == 0) {
    std::cerr << "swarmdial seed: " << meta.name << ": no piece verified: nothing to seed\n";
    return 1;
  }
  return -1;
}

}  // namespace swarmdial
