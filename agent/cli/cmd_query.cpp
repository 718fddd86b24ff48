// dmvlog query NAME: questions answered from the store (docs/analysis.md).
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>

#include "agent/cli/cli.h"
#include "agent/cli/common.h"
#include "agent/query/open.h"
#include "agent/query/questions.h"
#include "agent/query/report.h"
#include "agent/query/sql.h"
#include "agent/store/sqlite_store.h"

namespace dmvlog::cli {

namespace {

std::string usage() {
    std::string q;
    for (const auto& x : query::questions()) q += fmt::format("  {:<14} {}\n", x.name, x.summary);
    return "Usage: dmvlog query NAME [--store URI] [--instance NAME] [--from T --to T | --last D | --at T]\n"
           "                    [--tz ZONE] [--format table|csv|json] [--top N] [--config FILE]\n"
           "       top-queries: [--by cpu|duration|logical-reads|physical-reads|writes|executions|grant|spills]\n"
           "                    [--group query-hash|statement|plan] [--method all-snapshots|two-point]\n"
           "       perf-counters: [--filter LIKE-PATTERN]   waits: [--all]\n\n"
           "Answers questions from the store. Windows are half-open [from, to). Times: ISO-8601 with Z or +hh:mm,\n"
           "or a local time in --tz (default: agent.time_zone of the configuration, else UTC); daylight-saving\n"
           "gaps and overlaps are resolved and said so. Store URIs: sqlite:PATH (default: the configured store).\n\n"
           "Questions:\n" +
           q + "\nSee docs/analysis.md for what each question computes and how deltas are taken.\n";
}

}  // namespace

int cmd_query(const Args& args) {
    cxxopts::Options opts("dmvlog query", usage());
    opts.add_options()("name", "the question", cxxopts::value<std::string>())(
        "store", "store URI (sqlite:PATH or postgres:CONNINFO)", cxxopts::value<std::string>())(
        "instance", "instance name(s), comma separated (default: all in the store)", cxxopts::value<std::string>())(
        "from", "window start (inclusive)", cxxopts::value<std::string>())(
        "to", "window end (exclusive)", cxxopts::value<std::string>())(
        "last", "window of this length ending now (30m, 1h, 2d)", cxxopts::value<std::string>())(
        "at", "a moment (running-at)", cxxopts::value<std::string>())(
        "tz", "IANA time zone for local times in and out", cxxopts::value<std::string>())(
        "format", "table, csv or json", cxxopts::value<std::string>()->default_value("table"))(
        "top", "rows per table (0 = all)", cxxopts::value<int>())(
        "by", "top-queries: the measure to rank by", cxxopts::value<std::string>()->default_value("cpu"))(
        "group", "top-queries: query-hash, statement or plan", cxxopts::value<std::string>()->default_value("query-hash"))(
        "method", "top-queries: all-snapshots or two-point", cxxopts::value<std::string>()->default_value("all-snapshots"))(
        "filter", "perf-counters: LIKE pattern on object or counter name", cxxopts::value<std::string>())(
        "all", "waits: include benign wait types")("config", "configuration file", cxxopts::value<std::string>())(
        "h,help", "show this help");
    opts.parse_positional({"name"});
    opts.custom_help("NAME [OPTIONS]");
    cxxopts::ParseResult r;
    if (int rc = parse_or_usage(opts, "query", args, r); rc >= 0) return rc;
    if (!r.count("name")) {
        std::fprintf(stderr, "dmvlog query: name a question\n\n%s", usage().c_str());
        return exit_usage;
    }
    const auto name = r["name"].as<std::string>();
    bool known = false, point = false;
    for (const auto& q : query::questions())
        if (q.name == name) {
            known = true;
            point = q.point;
        }
    if (!known) {
        std::fprintf(stderr, "dmvlog query: unknown question '%s'\n\n%s", name.c_str(), usage().c_str());
        return exit_usage;
    }
    query::Format format;
    const auto fmt_name = r["format"].as<std::string>();
    if (fmt_name == "table") format = query::Format::table;
    else if (fmt_name == "csv") format = query::Format::csv;
    else if (fmt_name == "json") format = query::Format::json;
    else {
        std::fprintf(stderr, "dmvlog query: --format must be table, csv or json\n");
        return exit_usage;
    }

    auto where = read_target(r, "query");
    if (!where) return exit_usage;
    const std::string tz_name = where->tz_name;

    try {
        query::Zone zone(tz_name);
        query::Options o;
        o.zone = &zone;
        query::WindowArgs wa;
        if (r.count("from")) wa.from = r["from"].as<std::string>();
        if (r.count("to")) wa.to = r["to"].as<std::string>();
        if (r.count("last")) wa.last = r["last"].as<std::string>();
        if (r.count("at")) wa.at = r["at"].as<std::string>();
        o.window = query::make_window(wa, zone, query::now_ticks(), point, point);
        o.by = r["by"].as<std::string>();
        o.group = r["group"].as<std::string>();
        o.method = r["method"].as<std::string>();
        if (r.count("top")) o.top = r["top"].as<int>();
        if (o.top < 0) throw query::UsageError("--top must be 0 (all) or more");
        if (r.count("filter")) o.filter = r["filter"].as<std::string>();
        o.all = r.count("all") > 0;
        if (r.count("instance")) o.instances = split_list(r["instance"].as<std::string>());

        auto db = query::open_reader(where->store_uri, where->store_password, where->loaded ? &where->loaded->cfg.store : nullptr);
        if (!o.instances.empty()) {
            auto known_instances = query::store_instances(db.get());
            for (const auto& i : o.instances) {
                if (std::find(known_instances.begin(), known_instances.end(), i) == known_instances.end()) {
                    std::string list;
                    for (const auto& k : known_instances) list += (list.empty() ? "" : ", ") + k;
                    std::fprintf(stderr, "dmvlog query: the store has no instance '%s' (it has: %s)\n", i.c_str(),
                                 list.empty() ? "none" : list.c_str());
                    return exit_usage;
                }
            }
        }
        auto report = query::run_question(db.get(), name, o);
        auto text = query::render(report, format, zone, format == query::Format::table ? query::terminal_width() : 0);
        std::fwrite(text.data(), 1, text.size(), stdout);
        if (format == query::Format::csv)
            for (const auto& n : report.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
        return exit_ok;
    } catch (const query::UsageError& e) {
        std::fprintf(stderr, "dmvlog query: %s\n", e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dmvlog query: %s\n", e.what());
        return exit_runtime;
    }
}

}  // namespace dmvlog::cli
