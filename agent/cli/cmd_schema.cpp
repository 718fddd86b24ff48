// dmvlog schema install|upgrade|print: the store's DDL, reviewed or applied.
#include <cstdio>

#include "agent/cli/cli.h"
#include "agent/cli/common.h"
#include "agent/query/tsql_dialect.h"
#include "agent/store/mssql_sql.h"
#include "agent/store/open.h"

namespace dmvlog::cli {

int cmd_schema(const Args& args) {
    cxxopts::Options opts("dmvlog schema", "Usage: dmvlog schema install|upgrade|print [--store URI] [--config FILE]\n\n"
                                           "install/upgrade create or migrate the store's tables (core tables from schema/,\n"
                                           "collector tables from the collector declarations); print shows that DDL.\n"
                                           "Store URIs: sqlite:PATH, postgres:CONNINFO or sqlserver:ODBC-CONNECTION-STRING\n"
                                           "(default: the configured store). For print, the kind alone is enough\n"
                                           "(--store sqlserver:); print --statements adds every other statement a SQL\n"
                                           "Server store sends, for review or a T-SQL check.");
    opts.add_options()("action", "install, upgrade or print", cxxopts::value<std::string>())(
        "store", "store URI (sqlite:PATH, postgres:CONNINFO or sqlserver:ODBC-CONNECTION-STRING)", cxxopts::value<std::string>())(
        "config", "configuration file", cxxopts::value<std::string>())(
        "statements", "print: also every data statement (SQL Server stores)")("h,help", "show this help");
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
    std::string uri, kind;
    std::optional<Loaded> loaded;
    if (r.count("store")) {
        uri = r["store"].as<std::string>();
        kind = store::uri_kind(uri);
        if (kind.empty()) {
            std::fprintf(stderr,
                         "dmvlog schema: store URI '%s' is not supported (sqlite:PATH, postgres:CONNINFO or "
                         "sqlserver:ODBC-CONNECTION-STRING)\n",
                         uri.c_str());
            return exit_usage;
        }
        try {
            decls = collect::load_builtin();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "dmvlog schema: %s\n", e.what());
            return exit_runtime;
        }
    } else if (action != "print" || r.count("config")) {
        loaded = load(r.count("config") ? std::optional(r["config"].as<std::string>()) : std::nullopt, false);
        if (!loaded) return exit_usage;
        decls = loaded->decls;
        kind = loaded->cfg.store.kind;
        uri = store_uri(loaded->cfg);
    } else {
        decls = collect::load_builtin();
        kind = "sqlite";
    }
    std::vector<store::TableSpec> tables;
    for (const auto& d : decls)
        if (!d.is_xe()) tables.push_back(store::table_spec(d));  // XE kinds: schema/KIND/003_blocking.sql
    if (action == "print") {
        std::fputs(store::store_ddl(kind, tables).c_str(), stdout);
        if (r.count("statements")) {
            if (kind != "sqlserver") {
                std::fprintf(stderr, "dmvlog schema: --statements is for SQL Server stores (--store sqlserver:)\n");
                return exit_usage;
            }
            std::fputs(store::mssql_sql::all(tables).c_str(), stdout);
            std::fputs(query::analysis_in_tsql().c_str(), stdout);
        }
        return exit_ok;
    }
    try {
        std::unique_ptr<store::Store> st;
        if (loaded) {
            st = store::open_store(loaded->cfg);
        } else {
            st = store::open_store_uri(uri);
        }
        int before = st->schema_version();
        st->install(tables);
        const std::string shown = kind == "sqlite" ? uri : kind;   // a conninfo or connection string is not echoed
        std::printf("store %s: schema version %d -> %d, %zu collector table(s)\n", shown.c_str(), before,
                    st->schema_version(), tables.size());
        return exit_ok;
    } catch (const config::ConfigError& e) {
        std::fprintf(stderr, "dmvlog schema: configuration error: %s\n", e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dmvlog schema: %s\n", e.what());
        return exit_runtime;
    }
}

}  // namespace dmvlog::cli
