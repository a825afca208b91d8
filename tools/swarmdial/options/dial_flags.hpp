#pragma once
// The flags that say what is dialled and with what engine, shared by `dial`
// and `ceiling`: the targets (--targets | --range, --exclude, --seed) and
// the engine (--backend, --shards, --timeout, and the address flags).
// read_target_flags also reads --partition, which the caller registers.
#include <boost/program_options.hpp>

#include "dial_config.hpp"

namespace swarmdial {

void add_target_options(boost::program_options::options_description& group);
// Throws UsageError naming the flag.
void read_target_flags(const boost::program_options::variables_map& vm, DialConfig& cfg);

void add_engine_options(boost::program_options::options_description& group,
                        int64_t default_timeout_ms);
void read_engine_flags(const boost::program_options::variables_map& vm, DialConfig& cfg);

}  // namespace swarmdial
