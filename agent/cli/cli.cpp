#include "agent/cli/cli.h"

#include <cstdio>
#include <fmt/format.h>

namespace dmvlog::cli {

namespace {

struct Command {
    const char* name;
    const char* summary;
    int (*fn)(const Args&);
};

const Command commands[] = {
    {"run", "run every enabled collector on its interval until SIGTERM/SIGINT (the service)", cmd_run},
    {"collect", "one pass of the named (or all) collectors, then exit", cmd_collect},
    {"collectors", "list collectors: interval, table, enabled or why not, last run", cmd_collectors},
    {"check", "validate the configuration, connect, report version and missing permissions", cmd_check},
    {"query", "answer questions from the store (running-at, top-queries, waits, ...)", cmd_query},
    {"digest", "the blocking digest of a window (text, markdown, html, json)", cmd_digest},
    {"xe", "extended events: session set-up and parsing of event XML", cmd_xe},
    {"schema", "install, upgrade or print the store schema", cmd_schema},
    {"store", "copy a SQLite store into another store (the central PostgreSQL one)", cmd_store},
    {"version", "print the version", cmd_version},
};

void print_help() {
    std::printf("dmvlog - SQL Server DMV logging agent\n\n"
                "Usage: dmvlog COMMAND [OPTIONS]\n       dmvlog COMMAND --help\n\nCommands:\n");
    for (const auto& c : commands) std::printf("  %-11s %s\n", c.name, c.summary);
    std::printf("\nConfiguration: --config FILE, else $DMVLOG_CONFIG, else /etc/dmvlog/dmvlog.toml.\n"
                "Exit status: 0 ok; 1 runtime failure (source, collector or store); 2 usage or configuration error.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        print_help();
        return exit_usage;
    }
    std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        print_help();
        return exit_ok;
    }
    if (name == "--version") return cmd_version({});
    Args args(argv + 2, argv + argc);
    for (const auto& c : commands) {
        if (name == c.name) return c.fn(args);
    }
    std::fprintf(stderr, "dmvlog: unknown command '%s' (see dmvlog --help)\n", name.c_str());
    return exit_usage;
}

int cmd_version(const Args& args) {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::printf("Usage: dmvlog version\n\nPrints the version of dmvlog.\n");
        return exit_ok;
    }
    std::printf("dmvlog %s\n", DMVLOG_VERSION);
    return exit_ok;
}

}  // namespace dmvlog::cli
