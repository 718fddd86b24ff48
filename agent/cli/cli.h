// The `dmvlog` command line: one binary, one subcommand per job.
#pragma once

#include <string>
#include <vector>

namespace dmvlog::cli {

// Exit codes, documented in `dmvlog --help` and docs/cli.md.
inline constexpr int exit_ok = 0;
inline constexpr int exit_runtime = 1;   // a collector, the source or the store failed
inline constexpr int exit_usage = 2;     // bad arguments or configuration

int main(int argc, char** argv);

// Subcommands take the arguments after their name.
using Args = std::vector<std::string>;
int cmd_run(const Args& args);
int cmd_collect(const Args& args);
int cmd_collectors(const Args& args);
int cmd_check(const Args& args);
int cmd_version(const Args& args);
int cmd_schema(const Args& args);
int cmd_xe(const Args& args);
int cmd_query(const Args& args);
int cmd_digest(const Args& args);
int cmd_store(const Args& args);

}  // namespace dmvlog::cli
