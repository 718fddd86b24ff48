// What the subcommands share: loading configuration and declarations, logging set-up.
#pragma once

#include <cxxopts.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/collect/declaration.h"
#include "agent/config/config.h"

namespace dmvlog::cli {

struct Loaded {
    config::Config cfg;
    std::vector<collect::CollectorDecl> decls;
    std::vector<std::string> warnings;
};

// Loads the configuration (--config, $DMVLOG_CONFIG or the default path) and the collector declarations
// with the configuration's overrides, and prepares the instances' connections (prepare_connections). On error prints it to stderr and returns nullopt (exit status 2).
std::optional<Loaded> load(const std::optional<std::string>& config_arg, bool for_run);
// The same, throwing config::ConfigError (file:line: key: problem) or std::runtime_error instead of printing.
Loaded load_or_throw(const std::optional<std::string>& config_arg, bool for_run);

// Checks each instance's encryption settings (ca_file readable, settings the driver can honour), adds the
// loud warnings for encryption or certificate checks turned off to out.warnings, and writes the private
// freetds.conf the certificate checks need (odbc::install_freetds_conf). Throws std::runtime_error.
void prepare_connections(Loaded& out);

// Logs with the given level name (trace, debug, info, warn, error): to journald when stderr is systemd's
// journal stream, else to stderr (service::setup_logging).
void setup_logging(const std::string& level);

// Parses a subcommand's arguments. Returns -1 to go on, or the exit status to return now (help shown:
// 0; bad arguments: 2, with the message and the help on stderr).
int parse_or_usage(cxxopts::Options& opts, const std::string& name, const std::vector<std::string>& args,
                   cxxopts::ParseResult& out);

// Where a reading command (query, digest) reads and how it shows times: --store URI or the
// configured store; --tz, else agent.time_zone of the configuration (--config, $DMVLOG_CONFIG or the default
// file when there is one), else UTC. nullopt after printing the problem (exit status 2). loaded is set when
// a configuration file was read.
struct ReadTarget {
    std::string store_uri;            // sqlite:PATH, postgres:CONNINFO or sqlserver:ODBC-CONNECTION-STRING
    std::string store_password;       // the configured store's password, when it has one
    std::string tz_name = "UTC";
    std::optional<Loaded> loaded;
};
// The URI of the configured store.
std::string store_uri(const config::Config& cfg);

std::optional<ReadTarget> read_target(const cxxopts::ParseResult& r, const std::string& command);

// Splits "a,b,c".
std::vector<std::string> split_list(const std::string& text);

}  // namespace dmvlog::cli
