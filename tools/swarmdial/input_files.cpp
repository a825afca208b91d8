#include "input_files.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "engine/target_set.hpp"
#include "tools/swarmdial/options/dial_config.hpp"

namespace swarmdial {

namespace {
// A targets file larger than this is almost certainly a mistake (or /dev/zero).
constexpr size_t kMaxInputBytes = size_t{4} << 30;

std::string read_all(const std::string& flag, const std::string& path) {
  std::string body;
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) throw UsageError("--" + flag + " " + path + ": cannot read: " + std::strerror(errno));
  char chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
    body.append(chunk, n);
    if (body.size() > kMaxInputBytes) {
      if (f != stdin) std::fclose(f);
      throw UsageError("--" + flag + " " + path + ": larger than 4 GiB");
    }
  }
  bool err = std::ferror(f);
  int saved = errno;
  if (f != stdin) std::fclose(f);
  if (err) throw UsageError("--" + flag + " " + path + ": cannot read: " + std::strerror(saved));
  return body;
}
}  // namespace

std::vector<Endpoint> load_targets_file(const std::string& path, const std::string& flag) {
  std::string body = read_all(flag, path);
  auto parsed = parse_target_text(body);
  if (auto* err = std::get_if<TargetParseError>(&parsed))
    throw UsageError("--" + flag + " " + path + ":" + std::to_string(err->line) + ": '" +
                     err->text + "' is not addr:port");
  return std::get<std::vector<Endpoint>>(std::move(parsed));
}

std::vector<ListedPeer> load_peer_list_file(const std::string& path, const std::string& flag) {
  std::string body = read_all(flag, path);
  auto parsed = parse_peer_list(body);
  if (auto* err = std::get_if<TargetParseError>(&parsed))
    throw UsageError("--" + flag + " " + path + ":" + std::to_string(err->line) + ": '" +
                     err->text + "' is not addr:port, optionally followed by an info-hash");
  return std::get<std::vector<ListedPeer>>(std::move(parsed));
}

ExcludeList load_exclude_file(const std::string& path) {
  std::string body = read_all("exclude", path);
  auto parsed = parse_exclude_text(body);
  if (auto* err = std::get_if<ExcludeParseError>(&parsed))
    throw UsageError("--exclude " + path + ":" + std::to_string(err->line) + ": '" + err->text +
                     "' is not an address or CIDR");
  return std::get<ExcludeList>(std::move(parsed));
}

Metainfo load_torrent_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--torrent " + path + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string body = ss.str();
  if (body.size() > (64u << 20)) throw UsageError("--torrent " + path + ": larger than 64 MiB");
  auto m = parse_metainfo(body);
  if (auto* err = std::get_if<std::string>(&m)) throw UsageError("--torrent " + path + ": " + *err);
  return std::get<Metainfo>(std::move(m));
}

}  // namespace swarmdial
