#include "agent/cli/common.h"

#include "agent/cli/cli.h"
#include "agent/collect/source.h"
#include "agent/service/journal.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

namespace dmvlog::cli {

void prepare_connections(Loaded& out) {
    std::vector<std::string> sections;
    for (const auto& inst : out.cfg.instances) {
        const std::string where = out.cfg.source + ":" + std::to_string(inst.line) + ": instance " + inst.name;
        if (!inst.ca_file.empty() && ::access(inst.ca_file.c_str(), R_OK) != 0)
            throw std::runtime_error(where + ": ca_file " + inst.ca_file + " cannot be read: " + std::strerror(errno));
        odbc::SecuredConnection secured;
        try {
            secured = collect::secured_connection(inst);
        } catch (const std::invalid_argument& e) {
            throw std::runtime_error(where + ": " + e.what());
        }
        for (const auto& w : secured.warnings) out.warnings.push_back(w);
        if (!secured.freetds_section.empty()) sections.push_back(secured.freetds_section);
    }
    if (!sections.empty()) odbc::install_freetds_conf(sections);
}

Loaded load_or_throw(const std::optional<std::string>& config_arg, bool for_run) {
    Loaded out;
    try {
        out.decls = collect::load_builtin();
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("built-in collector declarations are invalid: ") + e.what());
    }
    auto path = config::config_path(config_arg);
    out.cfg = config::load_file(path, collect::collector_names(out.decls));
    if (for_run) config::validate_for_run(out.cfg);
    collect::apply_overrides(out.decls, out.cfg, &out.warnings);
    out.warnings.insert(out.warnings.end(), out.cfg.warnings.begin(), out.cfg.warnings.end());
    prepare_connections(out);
    return out;
}

std::optional<Loaded> load(const std::optional<std::string>& config_arg, bool for_run) {
    try {
        return load_or_throw(config_arg, for_run);
    } catch (const config::ConfigError& e) {
        std::fprintf(stderr, "dmvlog: configuration error: %s\n", e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dmvlog: configuration error: %s\n", e.what());
    }
    return std::nullopt;
}

void setup_logging(const std::string& level) { service::setup_logging(level); }

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if (c == ',') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else if (c != ' ') {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

std::string store_uri(const config::Config& cfg) {
    if (cfg.store.kind == "postgres") return "postgres:" + cfg.store.conninfo;
    if (cfg.store.kind == "sqlserver") return "sqlserver:" + cfg.store.connection;
    return "sqlite:" + cfg.store.path;
}

std::optional<ReadTarget> read_target(const cxxopts::ParseResult& r, const std::string& command) {
    ReadTarget t;
    std::optional<std::string> config_arg;
    if (r.count("config")) config_arg = r["config"].as<std::string>();
    if (r.count("store")) {
        auto uri = r["store"].as<std::string>();
        if (uri.rfind("sqlite:", 0) != 0 && uri.rfind("postgres:", 0) != 0 && uri.rfind("sqlserver:", 0) != 0) {
            std::fprintf(stderr,
                         "dmvlog %s: store URI '%s' is not supported (sqlite:PATH, postgres:CONNINFO or "
                         "sqlserver:ODBC-CONNECTION-STRING)\n",
                         command.c_str(), uri.c_str());
            return std::nullopt;
        }
        t.store_uri = uri;
        if (config_arg) {
            t.loaded = load(config_arg, false);
            if (!t.loaded) return std::nullopt;
            t.tz_name = t.loaded->cfg.agent.time_zone;
        } else {
            try {  // the configured time zone when a configuration is there; UTC otherwise
                auto p = config::config_path(std::nullopt);
                std::error_code ec;
                if (std::filesystem::is_regular_file(p, ec)) t.tz_name = config::load_file(p).agent.time_zone;
            } catch (const std::exception&) {
            }
        }
    } else {
        t.loaded = load(config_arg, false);
        if (!t.loaded) return std::nullopt;
        t.store_uri = store_uri(t.loaded->cfg);
        try {
            t.store_password = config::resolve_store_password(t.loaded->cfg.store, t.loaded->cfg.source);
        } catch (const config::ConfigError& e) {
            std::fprintf(stderr, "dmvlog %s: configuration error: %s\n", command.c_str(), e.what());
            return std::nullopt;
        }
        t.tz_name = t.loaded->cfg.agent.time_zone;
    }
    if (r.count("tz")) t.tz_name = r["tz"].as<std::string>();
    return t;
}

namespace {

std::vector<char*> argv_of(const std::string& name, const Args& args, std::vector<std::string>& storage) {
    storage.clear();
    storage.push_back("dmvlog " + name);
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> out;
    for (auto& s : storage) out.push_back(s.data());
    return out;
}

}  // namespace

int parse_or_usage(cxxopts::Options& opts, const std::string& name, const Args& args, cxxopts::ParseResult& out) {
    std::vector<std::string> storage;
    auto argv = argv_of(name, args, storage);
    try {
        out = opts.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dmvlog %s: %s\n\n%s", name.c_str(), e.what(), opts.help().c_str());
        return exit_usage;
    }
    if (out.count("help")) {
        std::fputs(opts.help().c_str(), stdout);
        return exit_ok;
    }
    if (!out.unmatched().empty()) {
        std::fprintf(stderr, "dmvlog %s: unexpected argument '%s'\n", name.c_str(), out.unmatched()[0].c_str());
        return exit_usage;
    }
    return -1;
}

}  // namespace dmvlog::cli
