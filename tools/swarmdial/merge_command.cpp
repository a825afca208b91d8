#include "merge_command.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/usage_error.hpp"
#include "report/summaries.hpp"

namespace swarmdial {

namespace po = boost::program_options;

namespace {

constexpr uint64_t kMaxSummaryBytes = 64ull << 20;
constexpr const char* kName = "swarmdial merge: ";

struct Part {
  std::string path;
  nlohmann::json s;
  uint32_t index = 0;
};

Part load_part(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(path + ": cannot open");
  // Never more than the limit in memory, even from a pipe or a huge file.
  std::string buf;
  char chunk[1 << 16];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    buf.append(chunk, static_cast<size_t>(in.gcount()));
    if (buf.size() > kMaxSummaryBytes) throw UsageError(path + ": larger than 64 MiB");
  }
  Part p{path, nlohmann::json::parse(buf, nullptr, false)};
  if (p.s.is_discarded() || !p.s.is_object())
    throw UsageError(path + ": not a complete JSON summary (truncated?)");
  std::string command = p.s.value("command", "?");
  const char* hist = command == "dial" ? "connect_rtt_us" : "latency_us";
  if (command != "dial" && command != "tracker-load")
    throw UsageError(path + ": a '" + command +
                     "' summary; merge adds up dial and tracker-load summaries");
  if (!p.s.contains("run") || !p.s["run"].contains("partition") || !p.s.contains(hist) ||
      !p.s[hist].contains("histogram"))
    throw UsageError(path + ": no run identity or histogram (written by an older swarmdial?)");
  p.index = p.s["run"]["partition"].value("index", 0u);
  return p;
}

void check_same(const std::vector<Part>& parts) {
  const nlohmann::json& run0 = parts[0].s["run"];
  uint32_t count = run0["partition"].value("count", 1u);
  std::string command = parts[0].s["command"];
  std::vector<const char*> keys = {"seed", "targets", "target_count"};
  if (command == "tracker-load") keys = {"trackers", "torrents", "peers_per_torrent", "model"};
  std::set<uint32_t> seen;
  for (const Part& p : parts) {
    if (p.s["command"] != command)
      throw UsageError(p.path + ": a '" + p.s["command"].get<std::string>() + "' summary among '" +
                       command + "' ones");
    const nlohmann::json& run = p.s["run"];
    for (const char* key : keys)
      if (run[key] != run0[key])
        throw UsageError(p.path + ": " + key + " " + run[key].dump() + " differs from " +
                         parts[0].path + "'s " + run0[key].dump() + " (not parts of one run)");
    if (run["partition"].value("count", 1u) != count)
      throw UsageError(p.path + ": " + std::to_string(run["partition"].value("count", 1u)) +
                       " partitions, " + parts[0].path + " has " + std::to_string(count));
    if (!seen.insert(p.index).second)
      throw UsageError(p.path + ": partition " + std::to_string(p.index) + " is given twice");
  }
  std::string missing;
  for (uint32_t k = 0; k < count && missing.size() < 200; ++k)
    if (!seen.count(k)) missing += (missing.empty() ? "" : ", ") + std::to_string(k);
  if (!missing.empty())
    throw UsageError("missing partition" + std::string(seen.size() + 1 < count ? "s " : " ") +
                     missing + " of " + std::to_string(count));
}

void add_counts(nlohmann::json& into, const nlohmann::json& from) {
  for (auto& [k, v] : from.items())
    if (v.is_number_unsigned() || v.is_number_integer())
      into[k] = into.value(k, uint64_t{0}) + v.get<uint64_t>();
}

LatencyHistogram::Snapshot histogram_of(const Part& p, const char* key) {
  try {
    return histogram_from_json(p.s.at(key).at("histogram"));
  } catch (const std::exception& e) {
    throw UsageError(p.path + ": " + key + ".histogram: " + e.what());
  }
}

nlohmann::json percentiles(const LatencyHistogram::Snapshot& h) {
  nlohmann::json j = latency_json(h);
  j["histogram"] = histogram_json(h);
  return j;
}

nlohmann::json identity(const std::vector<Part>& parts) {
  nlohmann::json run = parts[0].s["run"];
  run.erase("partition");
  run["partitions"] = parts[0].s["run"]["partition"]["count"];
  return run;
}

// Generators that ran side by side: counts add up, rates over the longest.
nlohmann::json merge_tracker_load(const std::vector<Part>& parts) {
  nlohmann::json out = {{"command", "tracker-load"}, {"merged_from", nlohmann::json::array()}};
  nlohmann::json errors = nlohmann::json::object(), udp = nlohmann::json::object(),
                 http = nlohmann::json::object(), requests = nlohmann::json::object(),
                 families = nlohmann::json::object();
  LatencyHistogram::Snapshot latency, lag;
  uint64_t sent = 0, ok = 0, error_total = 0, stray = 0, interval_min = 0, interval_max = 0;
  double duration = 0, target_rate = 0, cpu = 0;
  bool interrupted = false, forced = false;
  for (const Part& p : parts) {
    const nlohmann::json& s = p.s;
    out["merged_from"].push_back({{"file", p.path}, {"partition", p.index}});
    sent += s.value("sent", uint64_t{0});
    ok += s.value("ok", uint64_t{0});
    error_total += s.value("error_total", uint64_t{0});
    stray += s.value("stray_replies", uint64_t{0});
    duration = std::max(duration, s.value("duration_s", 0.0));
    target_rate += s.value("target_rate", 0.0);
    cpu += s.value("cpu", nlohmann::json::object()).value("generator_s", 0.0);
    interrupted |= s.value("interrupted", false);
    forced |= s.value("forced_exit", false);
    add_counts(errors, s.value("errors", nlohmann::json::object()));
    add_counts(udp, s.value("udp", nlohmann::json::object()));
    add_counts(http, s.value("http", nlohmann::json::object()));
    const nlohmann::json fams = s.value("families", nlohmann::json::object());
    for (auto& [family, counts] : fams.items()) {
      if (!families.contains(family)) families[family] = nlohmann::json::object();
      add_counts(families[family], counts);
    }
    const nlohmann::json kinds = s.value("requests", nlohmann::json::object());
    for (auto& [kind, counts] : kinds.items()) {
      if (!requests.contains(kind)) requests[kind] = nlohmann::json::object();
      add_counts(requests[kind], counts);
    }
    auto interval = s.value("interval_s", nlohmann::json::object());
    if (uint64_t lo = interval.value("min", uint64_t{0});
        lo && (!interval_min || lo < interval_min))
      interval_min = lo;
    interval_max = std::max(interval_max, interval.value("max", uint64_t{0}));
    latency.merge(histogram_of(p, "latency_us"));
    lag.merge(histogram_of(p, "send_lag_us"));
  }
  double d = duration > 0 ? duration : 1e-9;
  out.update(
      {{"trackers", parts[0].s.value("trackers", nlohmann::json::array())},
       {"interrupted", interrupted},
       {"forced_exit", forced},
       {"target_rate", target_rate},
       {"duration_s", duration},
       {"sent", sent},
       {"ok", ok},
       {"errors", errors},
       {"error_total", error_total},
       {"achieved_rate", static_cast<double>(ok) / d},
       {"sent_rate", static_cast<double>(sent) / d},
       {"achieved_vs_target", target_rate > 0 ? static_cast<double>(ok) / d / target_rate : 0},
       {"latency_us", percentiles(latency)},
       {"send_lag_us", percentiles(lag)},
       {"stray_replies", stray},
       {"requests", requests},
       {"families", families},
       {"interval_s", {{"min", interval_min}, {"max", interval_max}}},
       {"udp", udp},
       {"http", http},
       {"cpu",
        {{"generator_s", cpu},
         {"us_per_announce", sent ? cpu * 1e6 / static_cast<double>(sent) : 0.0}}},
       {"run", identity(parts)}});
  return out;
}

nlohmann::json merge(const std::vector<Part>& parts) {
  if (parts[0].s["command"] == "tracker-load") return merge_tracker_load(parts);
  nlohmann::json out = {{"command", "dial"}, {"merged_from", nlohmann::json::array()}};
  nlohmann::json outcomes = nlohmann::json::object(), shards = nlohmann::json::array();
  nlohmann::json bt = nlohmann::json::object(), wire = nlohmann::json::object();
  LatencyHistogram::Snapshot hist;
  uint64_t targets = 0, syn_sent = 0, retries = 0;
  double duration = 0;
  bool interrupted = false, forced = false;
  std::set<std::string> backends;
  for (const Part& p : parts) {
    const nlohmann::json& s = p.s;
    out["merged_from"].push_back({{"file", p.path}, {"partition", p.index}});
    targets += s.value("targets", uint64_t{0});
    syn_sent += s.value("syn_sent", uint64_t{0});
    retries += s.value("retries", uint64_t{0});
    duration = std::max(duration, s.value("duration_s", 0.0));
    interrupted |= s.value("interrupted", false);
    forced |= s.value("forced_exit", false);
    backends.insert(s.value("backend", ""));
    add_counts(outcomes, s.value("outcomes", nlohmann::json::object()));
    if (s.contains("bt")) add_counts(bt, s["bt"]);
    if (s.contains("wire")) add_counts(wire, s["wire"]);
    for (auto sh : s.value("shards", nlohmann::json::array())) {
      sh["partition"] = p.index;
      shards.push_back(sh);
    }
    hist.merge(histogram_of(p, "connect_rtt_us"));
  }
  double d = duration > 0 ? duration : 1e-9;
  uint64_t established = outcomes.value("established", uint64_t{0});
  std::string backend = backends.size() == 1 ? *backends.begin() : "mixed";
  out.update({{"backend", backend},
              {"duration_s", duration},
              {"interrupted", interrupted},
              {"forced_exit", forced},
              {"targets", targets},
              {"syn_sent", syn_sent},
              {"retries", retries},
              {"outcomes", outcomes},
              // The partitions ran side by side: totals over the longest.
              {"rates",
               {{"syn_per_s", static_cast<double>(syn_sent) / d},
                {"established_per_s", static_cast<double>(established) / d}}},
              {"connect_rtt_us", percentiles(hist)},
              {"shards", shards},
              {"run", identity(parts)}});
  if (!bt.empty()) out["bt"] = bt;
  if (!wire.empty()) out["wire"] = wire;
  return out;
}

// Row files in the order of the summaries: each row gains its partition.
void concat_rows(const std::vector<Part>& parts, const std::vector<std::string>& rows,
                 const std::string& out_path) {
  if (rows.size() != parts.size())
    throw UsageError("--rows: " + std::to_string(rows.size()) + " files for " +
                     std::to_string(parts.size()) + " summaries (give one per summary, in order)");
  std::ofstream out(out_path, std::ios::trunc);
  if (!out) throw UsageError("--rows-output " + out_path + ": cannot open for writing");
  std::string header;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::ifstream in(rows[i]);
    if (!in) throw UsageError("--rows " + rows[i] + ": cannot open");
    std::string line, part = std::to_string(parts[i].index);
    bool first = true;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      if (line.front() == '{') {  // JSONL
        if (line.back() != '}') throw UsageError("--rows " + rows[i] + ": a truncated JSONL row");
        line.pop_back();
        out << line << ",\"partition\":" << part << "}\n";
        first = false;
        continue;
      }
      if (first) {
        first = false;
        if (header.empty()) {
          header = line;
          out << line << ",partition\n";
        } else if (line != header) {
          throw UsageError("--rows " + rows[i] + ": its header differs from " + rows[0] + "'s");
        }
        continue;
      }
      out << line << ',' << part << '\n';
    }
  }
  if (!out.flush()) throw std::runtime_error("--rows-output " + out_path + ": write failed");
}

}  // namespace

int run_merge_command(const std::vector<std::string>& args) {
  po::options_description desc(
      "swarmdial merge: add up the summaries of one `dial` or `tracker-load` run split with "
      "--partition K/N, exactly (totals, and percentiles from the merged histograms)");
  desc.add_options()("summary", po::value<std::vector<std::string>>(),
                     "summary JSON files (positional)")("output,o", po::value<std::string>(),
                                                        "the merged summary")(
      "rows", po::value<std::vector<std::string>>()->multitoken(),
      "result row files, one per summary in the same order")(
      "rows-output", po::value<std::string>(), "the rows concatenated, with a partition column")(
      "help,h", "this help");
  po::positional_options_description pos;
  pos.add("summary", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc
                << "\nexample: swarmdial merge part-*.json -o total.json --rows part-*.csv "
                   "--rows-output all.csv\n";
      return 0;
    }
    if (!vm.count("summary")) throw UsageError("give the summary files to merge");
    if (!vm.count("output")) throw UsageError("-o TOTAL.json is required");
    if (vm.count("rows") != vm.count("rows-output"))
      throw UsageError("--rows and --rows-output go together");
    std::vector<Part> parts;
    for (const auto& path : vm["summary"].as<std::vector<std::string>>())
      parts.push_back(load_part(path));
    check_same(parts);
    nlohmann::json merged = merge(parts);
    if (vm.count("rows"))
      concat_rows(parts, vm["rows"].as<std::vector<std::string>>(),
                  vm["rows-output"].as<std::string>());
    std::string out = vm["output"].as<std::string>();
    if (std::string err = write_summary_file(out, merged, "-o"); !err.empty()) {
      std::cerr << kName << err << "\n";
      return 1;
    }
  } catch (const UsageError& e) {
    std::cerr << kName << e.what() << "\n";
    return 2;
  } catch (const po::error& e) {
    std::cerr << kName << e.what() << "\n";
    return 2;
  } catch (const nlohmann::json::exception& e) {
    std::cerr << kName << "a summary has a field of the wrong type: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << kName << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace swarmdial
