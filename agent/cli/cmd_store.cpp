// dmvlog store copy: a host's SQLite history into the central store (docs/stores.md).
#include <cstdio>

#include "agent/cli/cli.h"
#include "agent/cli/common.h"
#include "agent/store/copy.h"
#include "agent/store/open.h"

namespace dmvlog::cli {

int cmd_store(const Args& args) {
    cxxopts::Options opts("dmvlog store",
                          "Usage: dmvlog store copy --from sqlite:PATH [--to URI] [--config FILE]\n\n"
                          "Copies every snapshot, run record and extended event of a SQLite store into another store\n"
                          "(default: the configured one), through that store's own write path: a snapshot already\n"
                          "there is skipped, so a copy can be repeated or resumed. For moving a host's history into\n"
                          "a central PostgreSQL store.");
    opts.add_options()("action", "copy", cxxopts::value<std::string>())(
        "from", "the SQLite store to read (sqlite:PATH)", cxxopts::value<std::string>())(
        "to", "the store to write (sqlite:PATH, postgres:CONNINFO or sqlserver:ODBC-CONNECTION-STRING)", cxxopts::value<std::string>())(
        "config", "configuration file", cxxopts::value<std::string>())("h,help", "show this help");
    opts.parse_positional({"action"});
    cxxopts::ParseResult r;
    if (int rc = parse_or_usage(opts, "store", args, r); rc >= 0) return rc;
    if (!r.count("action") || r["action"].as<std::string>() != "copy" || !r.count("from")) {
        std::fprintf(stderr, "dmvlog store: say copy --from sqlite:PATH\n\n%s", opts.help().c_str());
        return exit_usage;
    }
    const auto from = r["from"].as<std::string>();
    if (from.rfind("sqlite:", 0) != 0) {
        std::fprintf(stderr, "dmvlog store: --from must be sqlite:PATH\n");
        return exit_usage;
    }
    std::string to, password;
    std::vector<collect::CollectorDecl> decls;
    std::optional<Loaded> loaded;
    if (r.count("to") && !r.count("config")) {
        to = r["to"].as<std::string>();
        decls = collect::load_builtin();
    } else {
        loaded = load(r.count("config") ? std::optional(r["config"].as<std::string>()) : std::nullopt, false);
        if (!loaded) return exit_usage;
        decls = loaded->decls;
        to = r.count("to") ? r["to"].as<std::string>() : store_uri(loaded->cfg);
        try {
            password = config::resolve_store_password(loaded->cfg.store, loaded->cfg.source);
        } catch (const config::ConfigError& e) {
            std::fprintf(stderr, "dmvlog store: configuration error: %s\n", e.what());
            return exit_usage;
        }
    }
    try {
        std::vector<store::TableSpec> tables;
        for (const auto& d : decls)
            if (!d.is_xe()) tables.push_back(store::table_spec(d));
        store::SqliteStore source(from.substr(7), std::chrono::milliseconds(5000), true);
        // The configured store (with its login and encryption settings), or the --to URI.
        auto target = loaded && !r.count("to") ? store::open_store(loaded->cfg) : store::open_store_uri(to, password);
        target->install(tables);
        auto res = store::copy_store(source, *target, tables, [](const std::string& t) { std::fprintf(stderr, "  %s\n", t.c_str()); });
        std::int64_t xe = 0;
        if (auto* pg = dynamic_cast<store::PgStore*>(target.get())) xe = store::copy_xe_tables(source, *pg);
        else if (store::uri_kind(to) == "sqlserver")
            std::fprintf(stderr, "dmvlog store: the extended-event tables are not copied into a SQL Server store "
                                 "(the agent writes them there from its next run)\n");
        std::printf("copied %lld snapshot(s) with %lld row(s), %lld run record(s), %lld extended-event row(s); %lld "
                    "snapshot(s) were already there\n",
                    static_cast<long long>(res.snapshots), static_cast<long long>(res.rows), static_cast<long long>(res.runs),
                    static_cast<long long>(xe), static_cast<long long>(res.skipped));
        return exit_ok;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dmvlog store: %s\n", e.what());
        return exit_runtime;
    }
}

}  // namespace dmvlog::cli
