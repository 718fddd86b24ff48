// dmvlog collectors: every collector with interval, table, enabled or why not, last run, p50/p95.
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

#include "agent/cli/cli.h"
#include "agent/cli/common.h"
#include "agent/store/open.h"
#include "agent/store/sqlite_store.h"

namespace dmvlog::cli {

int cmd_collectors(const Args& args) {
    cxxopts::Options opts("dmvlog collectors", "Lists every collector: interval, target table, enabled or disabled (and why),\n"
                                               "and from the store its last run, failures and p50/p95 duration.");
    opts.add_options()("config", "configuration file", cxxopts::value<std::string>())(
        "format", "table or json", cxxopts::value<std::string>()->default_value("table"))("h,help", "show this help");
    cxxopts::ParseResult r;
    if (int rc = parse_or_usage(opts, "collectors", args, r); rc >= 0) return rc;
    auto format = r["format"].as<std::string>();
    if (format != "table" && format != "json") {
        std::fprintf(stderr, "dmvlog collectors: --format must be table or json\n");
        return exit_usage;
    }
    auto loaded = load(r.count("config") ? std::optional(r["config"].as<std::string>()) : std::nullopt, false);
    if (!loaded) return exit_usage;

    std::map<std::pair<std::string, std::string>, store::RunSummary> runs;
    std::string store_note;
    if (loaded->cfg.store.kind == "postgres") {
        try {
            auto st = store::open_store(loaded->cfg);
            if (st->schema_version() > 0)
                for (auto& s : st->run_summaries()) runs[{s.instance, s.collector}] = s;
        } catch (const std::exception& e) {
            store_note = fmt::format("store not readable: {}", e.what());
        }
    } else if (std::filesystem::exists(loaded->cfg.store.path)) {
        try {
            store::SqliteStore st(loaded->cfg.store.path, loaded->cfg.store.busy_timeout, true);
            if (st.schema_version() > 0)
                for (auto& s : st.run_summaries()) runs[{s.instance, s.collector}] = s;
        } catch (const std::exception& e) {
            store_note = fmt::format("store not readable: {}", e.what());
        }
    } else {
        store_note = fmt::format("no store yet at {}", loaded->cfg.store.path);
    }

    std::vector<std::string> instances;
    for (const auto& i : loaded->cfg.instances) instances.push_back(i.name);
    if (instances.empty()) instances.push_back("");

    nlohmann::json out = nlohmann::json::array();
    for (const auto& inst : instances) {
        for (const auto& d : loaded->decls) {
            nlohmann::json j;
            j["instance"] = inst;
            j["collector"] = d.name;
            j["interval"] = config::format_duration(d.interval);
            j["timeout"] = config::format_duration(d.timeout);
            j["retention"] = config::format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(d.retention));
            j["table"] = d.table;
            j["enabled"] = d.enabled;
            j["why"] = d.enabled ? "" : "disabled in configuration";
            auto it = runs.find({inst, d.name});
            if (it != runs.end()) {
                const auto& s = it->second;
                j["runs"] = s.runs;
                j["failures"] = s.failures;
                j["last_run"] = s.last_started_at.value_or("");
                j["last_status"] = s.last_status;
                j["last_error"] = s.last_error;
                j["last_rows"] = s.last_rows;
                j["p50_ms"] = s.p50_ms;
                j["p95_ms"] = s.p95_ms;
                if (s.last_status == "disabled") {
                    j["enabled"] = false;
                    j["why"] = "disabled at run time: " + s.last_error;
                } else if (s.last_status == "quarantined") {
                    // skipped for a while after the agent died during its query (docs/operations.md)
                    j["enabled"] = false;
                    j["why"] = "quarantined: " + s.last_error;
                }
            } else {
                j["runs"] = 0;
                j["last_run"] = nullptr;
            }
            out.push_back(std::move(j));
        }
    }
    if (format == "json") {
        std::printf("%s\n", out.dump(2).c_str());
        return exit_ok;
    }
    std::printf("%-12s %-22s %-8s %-20s %-8s %-23s %6s %9s %9s %s\n", "INSTANCE", "COLLECTOR", "INTERVAL", "TABLE", "ENABLED",
                "LAST RUN (UTC)", "RUNS", "P50 ms", "P95 ms", "STATUS");
    for (const auto& j : out) {
        std::string last = j["last_run"].is_string() ? j["last_run"].get<std::string>().substr(0, 23) : "-";
        std::string status = j.contains("last_status") ? j["last_status"].get<std::string>() : "never run";
        if (!j["why"].get<std::string>().empty()) status = j["why"].get<std::string>();
        else if (j.contains("last_error") && !j["last_error"].get<std::string>().empty())
            status += ": " + j["last_error"].get<std::string>().substr(0, 80);
        std::printf("%-12s %-22s %-8s %-20s %-8s %-23s %6lld %9s %9s %s\n", j["instance"].get<std::string>().c_str(),
                    j["collector"].get<std::string>().c_str(), j["interval"].get<std::string>().c_str(),
                    j["table"].get<std::string>().c_str(), j["enabled"].get<bool>() ? "yes" : "no", last.c_str(),
                    static_cast<long long>(j["runs"].get<std::int64_t>()),
                    j.contains("p50_ms") ? fmt::format("{:.1f}", j["p50_ms"].get<double>()).c_str() : "-",
                    j.contains("p95_ms") ? fmt::format("{:.1f}", j["p95_ms"].get<double>()).c_str() : "-", status.c_str());
    }
    if (!store_note.empty()) std::printf("(%s)\n", store_note.c_str());
    return exit_ok;
}

}  // namespace dmvlog::cli
