// dmvlog schema install|upgrade|print: the store's DDL, reviewed or applied.
#include <cstdio>

#include "agent/cli/cli.h"
#include "agent/cli/common.h"
#include "agent/store/open.h"

namespace dmvlog::cli {

int cmd_schema(const Args& args) {
    cxxopts::Options opts("dmvlog schema", "Usage: dmvlog schema install|upgrade|print [--store URI] [--config FILE]\n\n"
                                           "install/upgrade create or migrate the store's tables (core tables from schema/,\n"
                                           "collector tables from the collector declarations); print shows that DDL.\n"
                                           "Store URIs: sqlite:PATH or postgres:CONNINFO (default: the configured store).");
    opts.add_options()("action", "install, upgrade or print", cxxopts::value<std::string>())(
        "store", "store URI (sqlite:PATH or postgres:CONNINFO)", cxxopts::value<std::string>())(
        "config", "configuration file", cxxopts::value<std::string>())("h,help", "show this help");
    opts.parse_positional({"action"});
    cxxopts::ParseResult r;
    if (int rc = parse_or_usage(opts, "schema", args, r); rc >= 0) return rc;
    if (!r.count("action")) {
        std::fprintf(stderr, "dmvlog schema: say install, upgrade or print\n\n%s", opts.help().c_str());
        return exit_usage;
    }
    auto action = r["action"].as<std::string>();
    if (action != "install" && action != "upgrade" && action != "print") {
        std::fprintf(stderr, "dmvlog schema: unknown action '%s' (install, upgrade or print)\n", action.c_str());
        return exit_usage;
    }
    std::vector<collect::CollectorDecl> decls;
    std::string uri, password;
    if (r.count("store")) {
        uri = r["store"].as<std::string>();
        if (uri.rfind("sqlite:", 0) != 0 && uri.rfind("postgres:", 0) != 0) {
            std::fprintf(stderr, "dmvlog schema: store URI '%s' is not supported (sqlite:PATH or postgres:CONNINFO)\n", uri.c_str());
            return exit_usage;
        }
        try {
            decls = collect::load_builtin();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "dmvlog schema: %s\n", e.what());
            return exit_runtime;
        }
    } else if (action != "print" || r.count("config")) {
        auto loaded = load(r.count("config") ? std::optional(r["config"].as<std::string>()) : std::nullopt, false);
        if (!loaded) return exit_usage;
        decls = loaded->decls;
        uri = store_uri(loaded->cfg);
        try {
            password = config::resolve_store_password(loaded->cfg.store, loaded->cfg.source);
        } catch (const config::ConfigError& e) {
            std::fprintf(stderr, "dmvlog schema: configuration error: %s\n", e.what());
            return exit_usage;
        }
    } else {
        decls = collect::load_builtin();
    }
    std::vector<store::TableSpec> tables;
    for (const auto& d : decls)
        if (!d.is_xe()) tables.push_back(store::table_spec(d));  // XE kinds: schema/sqlite/003_blocking.sql
    if (action == "print") {
        std::fputs(store::store_ddl(uri.rfind("postgres:", 0) == 0 ? "postgres" : "sqlite", tables).c_str(), stdout);
        return exit_ok;
    }
    try {
        auto st = store::open_store_uri(uri, password);
        int before = st->schema_version();
        st->install(tables);
        const std::string shown = uri.rfind("postgres:", 0) == 0 ? "postgres" : uri;   // a conninfo is not echoed
        std::printf("store %s: schema version %d -> %d, %zu collector table(s)\n", shown.c_str(), before,
                    st->schema_version(), tables.size());
        return exit_ok;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dmvlog schema: %s\n", e.what());
        return exit_runtime;
    }
}

}  // namespace dmvlog::cli
