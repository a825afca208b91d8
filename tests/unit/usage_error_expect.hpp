#pragma once
// Shared by the config tests: run a command's flag parser, and check that a
// bad flag gives one line that names it.
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/swarmdial/options/dial_config.hpp"

namespace swarmdial::testing_support {

// parse_*_args returns nullopt only for --help.
template <typename Config>
Config parse_or_throw(std::optional<Config> (*parse)(const std::vector<std::string>&, std::string&),
                      const std::vector<std::string>& args) {
  std::string help;
  auto cfg = parse(args, help);
  if (!cfg) throw std::runtime_error("help");
  return *cfg;
}

template <typename Config>
void expect_usage_error(std::optional<Config> (*parse)(const std::vector<std::string>&,
                                                       std::string&),
                        const std::vector<std::string>& args, const std::string& names) {
  try {
    parse_or_throw(parse, args);
    ADD_FAILURE() << "no error for " << ::testing::PrintToString(args);
  } catch (const UsageError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(names), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

}  // namespace swarmdial::testing_support
