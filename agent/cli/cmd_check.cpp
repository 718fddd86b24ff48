// dmvlog check: configuration, connection, server version and edition, permissions against what each
// collector needs, the store; every problem in plain words. Passwords never appear in its output.
#include <cstdio>
#include <filesystem>
#include <algorithm>
#include <set>
#include <vector>
#include <fmt/format.h>
#include <unistd.h>

#include "agent/blocking/xe_sources.h"
#include "agent/cli/cli.h"
#include "agent/cli/common.h"
#include "agent/collect/job.h"
#include "agent/collect/service.h"
#include "agent/collect/source.h"
#include "agent/config/config.h"
#include "agent/core/embedded.h"
#include "agent/odbc/classify.h"
#include "agent/odbc/connection.h"
#include "agent/store/open.h"
#include "agent/store/sqlite_store.h"

namespace dmvlog::cli {

namespace {

std::string attribute(const std::string& cs, const std::string& key) {
    return odbc::connection_attribute(cs, key).value_or("");
}

// What a failed connect means, in the words a DBA would use.
std::string explain_connect_failure(const odbc::Error& e, const config::Instance& inst) {
    std::string where = attribute(inst.connection, "Server");
    if (auto port = attribute(inst.connection, "Port"); !port.empty()) where += ":" + port;
    if (where.empty()) where = attribute(inst.connection, "DSN");
    if (odbc::is_login_failure(e))
        return fmt::format("login failed for user '{}': the user name or password is wrong, or the login is disabled "
                           "or cannot open the database. Check user and the password source ({}).",
                           inst.user,
                           inst.password_file ? "password_file " + *inst.password_file
                           : inst.password_env ? "password_env " + *inst.password_env
                           : inst.password_credential ? "credential " + *inst.password_credential
                                                      : "none configured");
    if (e.has_sqlstate("IM002") || e.has_sqlstate("IM003"))
        return "the ODBC driver named in the connection string is not installed or not registered "
               "(see `odbcinst -q -d`; install tdsodbc for FreeTDS)";
    if (e.has_native(20013)) return fmt::format("the server name in '{}' cannot be resolved", where);
    if (e.has_sqlstate("HYT00") || e.has_sqlstate("HYT01"))
        return fmt::format("{} accepted the connection but did not answer within the login timeout ({} s)", where,
                           inst.login_timeout.count());
    if (e.has_native(20009) || e.has_sqlstate("08001") || e.has_sqlstate("08S01"))
        return fmt::format("cannot reach SQL Server at {}: nothing accepted the connection. Is it running and "
                           "listening on that address and port? Is a firewall in the way?",
                           where);
    return fmt::format("cannot connect: {}", e.what());
}

// 'blocked process threshold (s)' and dmvlog's event session (sql/agent/xe_status.sql). Returns problems found.
int check_xe(odbc::Connection& conn, const config::Config& cfg, const std::vector<collect::CollectorDecl>& decls) {
    bool wanted = false;
    for (const auto& d : decls)
        if (d.is_xe() && !d.fallback && d.enabled) wanted = true;
    auto text = embedded::find("sql/agent/xe_status.sql");
    if (!text) return 0;
    odbc::CollectingSink sink;
    try {
        conn.run("/* dmvlog:xe_status */\n" + std::string(*text), std::chrono::seconds(30), sink, "xe status");
    } catch (const odbc::Error& e) {
        std::printf("  blocked process threshold (s): unknown (%s)\n", e.what());
        return 0;
    }
    auto& sets = sink.sets();
    std::optional<std::int64_t> threshold;
    if (!sets.empty() && !sets[0].rows.empty())
        if (auto p = std::get_if<std::int64_t>(&sets[0].rows[0][0])) threshold = *p;
    auto listed = [&](std::size_t set) {
        if (sets.size() <= set) return false;
        for (const auto& row : sets[set].rows)
            if (auto p = std::get_if<std::string>(&row[0]); p && *p == cfg.xe.session) return true;
        return false;
    };
    const bool defined = listed(1);
    const bool running = listed(2);
    const int problems = 0;
    std::printf("  blocked process threshold (s): %s\n",
                threshold ? (std::to_string(*threshold) + (*threshold == 0 ? " (no blocked-process reports)" : "")).c_str()
                          : "unknown");
    std::printf("  event session %s: %s\n", cfg.xe.session.c_str(),
                running ? "exists, running" : defined ? "exists, STOPPED" : "does not exist");
    // Which source each XE collector reads now (dmvlog's session, or its fallbacks).
    const auto status = blocking::session_status_from(sets);
    for (const auto& d : decls)
        if (d.is_xe() && d.enabled)
            std::printf("  collector %-28s %s\n", d.name.c_str(), blocking::decide_source(d, cfg.xe, status).note.c_str());
    if (wanted && (!running || (threshold && *threshold == 0))) {
        // A warning, not a problem: the other collectors work without it.
        std::printf("  warning: collector blocking_events needs the session running and a threshold above 0: "
                    "run `dmvlog xe setup --apply --set-threshold 10` (or read its T-SQL without --apply)\n");
    }
    return problems;
}

// Retention that falls behind: a collector whose data older than its retention plus one purge period is still
// in the store (a running agent deletes it within one period). One line per such collector; returns their count.
int check_retention(store::Store& st, const std::vector<collect::CollectorDecl>& decls) {
    std::chrono::seconds xe_retention{0};
    for (const auto& d : decls)
        if (d.is_xe()) xe_retention = std::max(xe_retention, d.retention);
    const auto now = collect::utc_now();
    int behind = 0;
    for (const auto& d : decls) {
        const auto retention = d.is_xe() ? xe_retention : d.retention;
        const auto allowed = std::chrono::duration_cast<std::chrono::nanoseconds>(retention + collect::kRetentionPeriod);
        const Timestamp cutoff{now.utc_ticks - allowed.count() / 100, 0, false};
        auto oldest = st.oldest_before(d.name, d.table, cutoff);
        if (!oldest) continue;
        std::printf("  PROBLEM: retention of %s is behind: the store still holds data from %s, older than its "
                    "retention (%s) plus one purge period (%s). Is the agent running? Its log says what retention "
                    "deleted (\"retention: ...\"); dmvlog_retention_behind is 1 while it does not keep up\n",
                    d.name.c_str(), oldest->c_str(),
                    config::format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(retention)).c_str(),
                    config::format_duration(collect::kRetentionPeriod).c_str());
        ++behind;
    }
    if (!behind) std::printf("  retention: keeping up (nothing older than each collector's retention plus %s)\n",
                             config::format_duration(collect::kRetentionPeriod).c_str());
    return behind;
}

}  // namespace

int cmd_check(const Args& args) {
    cxxopts::Options opts("dmvlog check",
                          "Validates the configuration, connects to every instance, reports the SQL Server version and\n"
                          "edition, the permissions the login has against what each collector needs, and the store.\n"
                          "Exit status: 0 all good, 1 a problem was found, 2 the configuration is invalid.");
    opts.add_options()("config", "configuration file", cxxopts::value<std::string>())("h,help", "show this help");
    cxxopts::ParseResult r;
    if (int rc = parse_or_usage(opts, "check", args, r); rc >= 0) return rc;
    auto path = config::config_path(r.count("config") ? std::optional(r["config"].as<std::string>()) : std::nullopt);
    auto loaded = load(path.string(), true);
    if (!loaded) return exit_usage;
    std::printf("configuration %s: ok (%zu instance(s), %zu collector(s))\n", path.c_str(), loaded->cfg.instances.size(),
                loaded->decls.size());
    std::set<std::string> per_instance;  // encryption warnings are shown under their instance
    for (const auto& inst : loaded->cfg.instances)
        for (auto& w : collect::secured_connection(inst).warnings) per_instance.insert(std::move(w));
    for (const auto& w : loaded->warnings)
        if (!per_instance.count(w)) std::printf("  warning: %s\n", w.c_str());
    int problems = 0;

    odbc::Environment env;
    for (const auto& inst : loaded->cfg.instances) {
        std::printf("\ninstance %s\n", inst.name.c_str());
        std::string password;
        try {
            password = config::resolve_password(inst, loaded->cfg.source);
        } catch (const std::exception& e) {
            std::printf("  PROBLEM: password: %s\n", e.what());
            ++problems;
            continue;
        }
        const auto secured = collect::secured_connection(inst);  // load() checked that it can be built
        std::printf("  encryption: %s\n", secured.summary.c_str());
        for (const auto& w : secured.warnings) std::printf("  WARNING: %s\n", w.c_str());
        try {
            odbc::Connection conn(env, "instance " + inst.name);
            try {
                conn.connect(secured.connection_string, inst.user, password, inst.login_timeout);
            } catch (const odbc::Error& e) {
                // FreeTDS reports a refused certificate only as "Unable to connect" (08001), which
                // explain_connect_failure would read as nothing listening
                if (auto hint = odbc::is_login_failure(e) ? std::string()
                                : odbc::tls_failure_hint(e.what(), secured, collect::tls_settings(inst));
                    !hint.empty())
                    std::printf("  PROBLEM: cannot connect to %s: %s. The driver said: %s\n",
                                attribute(inst.connection, "Server").c_str(), hint.c_str(), e.what());
                else
                    std::printf("  PROBLEM: %s\n", explain_connect_failure(e, inst).c_str());
                ++problems;
                continue;
            }
            auto info = collect::read_server_info(conn);
            std::printf("  connected: %s %s %s, %s\n", collect::product_name(info.major_version).c_str(),
                        info.product_version.c_str(), info.product_level.c_str(), info.edition.c_str());
            std::printf("  server name %s, login %s, UTC offset %+d min\n", info.server_name.c_str(),
                        info.login_name.c_str(), info.utc_offset_minutes);
            const bool state_ok = info.can_view_server_state();
            const std::string needed = info.server_state_permission();
            std::printf("  permission %s: %s\n", needed.c_str(), state_ok ? "granted" : "MISSING");
            std::printf("  permission ALTER ANY EVENT SESSION: %s (needed only by `dmvlog xe setup --apply`)\n",
                        info.alter_any_event_session.value_or(false) ? "granted" : "not granted");
            // The databases per-database collectors would visit, and those where the login lacks what they need.
            std::vector<std::string> visited, lacking;
            for (const auto& d : info.databases) {
                if (d.database_id <= 4) continue;
                const auto in = [&](const std::vector<std::string>& l) { return std::find(l.begin(), l.end(), d.name) != l.end(); };
                if (!inst.include_databases.empty() && !in(inst.include_databases)) continue;
                if (in(inst.exclude_databases)) continue;
                visited.push_back(d.name);
                if (!d.has_access || !d.can_view_state())
                    lacking.push_back(d.name + (d.has_access ? "" : " (no user)"));
            }
            auto joined = [](const std::vector<std::string>& v) {
                std::string out;
                for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
                return out;
            };
            int blocked = 0;
            std::vector<std::string> affected;
            for (const auto& d : loaded->decls) {
                if (!d.enabled) {
                    std::printf("  collector %-22s disabled in configuration\n", d.name.c_str());
                    continue;
                }
                std::string verdict;
                if (info.major_version > 0 && info.major_version < d.min_version) {
                    verdict = fmt::format("cannot run: needs {} or later", collect::product_name(d.min_version));
                    ++blocked;
                } else if (!state_ok) {
                    verdict = fmt::format("cannot run: the login lacks {}", needed);
                    affected.push_back(d.name);
                    ++blocked;
                } else if (d.scope == "database" && !lacking.empty()) {
                    verdict = fmt::format("PARTLY: lacks {} in {} of {} database(s): {}", info.database_state_permission(),
                                          lacking.size(), visited.size(), joined(lacking));
                    affected.push_back(d.name);
                    ++blocked;
                } else if (d.scope == "database") {
                    verdict = fmt::format("ok ({} and {} in {} database(s))", needed, info.database_state_permission(),
                                          visited.size());
                } else {
                    verdict = fmt::format("ok ({})", needed);
                }
                std::printf("  collector %-22s %s\n", d.name.c_str(), verdict.c_str());
            }
            if (state_ok) problems += check_xe(conn, loaded->cfg, loaded->decls);
            if (!state_ok) {
                std::printf("  PROBLEM: the login '%s' lacks %s, which every collector needs (affected: %s). As a\n"
                            "           sysadmin run sql/setup/least_privilege.sql, or: GRANT %s TO [%s];\n",
                            info.login_name.c_str(), needed.c_str(), joined(affected).c_str(), needed.c_str(),
                            info.login_name.c_str());
                ++problems;
            } else if (!lacking.empty()) {
                std::printf("  PROBLEM: per-database collectors (%s) cannot read %s: run sql/setup/least_privilege.sql\n"
                            "           for them (a user with %s in each)\n",
                            joined(affected).c_str(), joined(lacking).c_str(), info.database_state_permission());
                ++problems;
            } else if (blocked) {
                ++problems;
            }
        } catch (const odbc::Error& e) {
            std::printf("  PROBLEM: %s\n", explain_connect_failure(e, inst).c_str());
            ++problems;
        } catch (const std::exception& e) {
            std::printf("  PROBLEM: %s\n", e.what());
            ++problems;
        }
    }

    if (loaded->cfg.store.kind == "postgres") {
        std::printf("\nstore postgres %s\n", loaded->cfg.store.conninfo.c_str());
        try {
            auto st = store::open_store(loaded->cfg);
            const int v = st->schema_version();
            if (v > 0) std::printf("  reachable, schema version %d\n", v);
            else std::printf("  reachable, no schema yet (created on first run, or by dmvlog schema install)\n");
            if (v > 0) problems += check_retention(*st, loaded->decls);
        } catch (const std::exception& e) {
            std::printf("  PROBLEM: %s\n", e.what());
            ++problems;
        }
    } else try {
        std::printf("\nstore %s %s\n", loaded->cfg.store.kind.c_str(), loaded->cfg.store.path.c_str());
        auto dir = std::filesystem::path(loaded->cfg.store.path).parent_path();
        if (std::filesystem::exists(loaded->cfg.store.path)) {
            store::SqliteStore st(loaded->cfg.store.path, loaded->cfg.store.busy_timeout, true);
            const int v = st.schema_version();
            std::printf("  exists, schema version %d\n", v);
            if (::access(loaded->cfg.store.path.c_str(), W_OK) != 0) {
                std::printf("  PROBLEM: the store file is not writable by this user\n");
                ++problems;
            }
            if (v > 0) problems += check_retention(st, loaded->decls);
        } else if (!dir.empty() && std::filesystem::exists(dir) && ::access(dir.c_str(), W_OK) != 0) {
            std::printf("  PROBLEM: the folder %s is not writable by this user\n", dir.c_str());
            ++problems;
        } else {
            std::printf("  will be created on first run\n");
        }
    } catch (const std::exception& e) {
        std::printf("  PROBLEM: %s\n", e.what());
        ++problems;
    }
    std::printf("\n%s\n", problems ? fmt::format("{} problem(s) found", problems).c_str() : "all checks passed");
    return problems ? exit_runtime : exit_ok;
}

}  // namespace dmvlog::cli
