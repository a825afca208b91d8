#pragma once
// The Boost.Program_options steps every subcommand shares: the command line,
// --help, then the same keys from an INI --config file (command line wins),
// with every problem turned into a one-line UsageError.
#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace swarmdial {

// Returns false when --help was asked for; help_out then holds the options
// and the example.
bool parse_cli(const std::vector<std::string>& args,
               const boost::program_options::options_description& desc, const std::string& example,
               boost::program_options::variables_map& vm, std::string& help_out);

}  // namespace swarmdial

namespace swarmdial {

// An integer flag that must lie in [lo, hi]; throws UsageError naming it.
uint32_t flag_in_range(const boost::program_options::variables_map& vm, const char* flag,
                       int64_t lo, int64_t hi);
// A non-negative real flag; throws UsageError naming it.
double flag_non_negative(const boost::program_options::variables_map& vm, const char* flag);

}  // namespace swarmdial
