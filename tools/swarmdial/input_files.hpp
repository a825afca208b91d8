#pragma once
// Reading the files named on the command line (targets, exclude), with size
// limits and errors that name the flag, the file and the line.
#include <string>
#include <vector>

#include "engine/endpoint.hpp"
#include "engine/exclude_list.hpp"
#include "engine/peer_list.hpp"
#include "engine/peerwire/metainfo.hpp"

namespace swarmdial {

// Throws UsageError. path "-" reads standard input.
// `flag` names the option in error messages (--targets, --peers-file).
std::vector<Endpoint> load_targets_file(const std::string& path,
                                        const std::string& flag = "targets");
// `seed --peers-file`: addr:port lines, each optionally naming its torrent.
std::vector<ListedPeer> load_peer_list_file(const std::string& path, const std::string& flag);
ExcludeList load_exclude_file(const std::string& path);
// A .torrent named by --torrent (at most 64 MiB); throws UsageError.
Metainfo load_torrent_file(const std::string& path);

}  // namespace swarmdial
