// dmvlog collect --once (dmvlog run: cmd_run.cpp).
#include <cstdio>
#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

#include "agent/cli/cli.h"
#include "agent/cli/common.h"
#include "agent/collect/service.h"
#include "agent/store/open.h"

namespace dmvlog::cli {

int cmd_collect(const Args& args) {
    cxxopts::Options opts("dmvlog collect", "One pass of the named (or all enabled) collectors, written to the store.\n"
                                            "Exit status 1 if any collector failed.");
    opts.add_options()("once", "run one pass (required: the service is `dmvlog run`)")(
        "only", "comma-separated collector names", cxxopts::value<std::string>())(
        "config", "configuration file", cxxopts::value<std::string>())(
        "log-level", "trace, debug, info, warn, error", cxxopts::value<std::string>())("h,help", "show this help");
    cxxopts::ParseResult r;
    if (int rc = parse_or_usage(opts, "collect", args, r); rc >= 0) return rc;
    if (!r.count("once")) {
        std::fprintf(stderr, "dmvlog collect: --once is required (the long-running service is `dmvlog run`)\n");
        return exit_usage;
    }
    auto loaded = load(r.count("config") ? std::optional(r["config"].as<std::string>()) : std::nullopt, true);
    if (!loaded) return exit_usage;
    setup_logging(r.count("log-level") ? r["log-level"].as<std::string>() : loaded->cfg.logging.level);
    for (const auto& w : loaded->warnings) spdlog::warn("configuration: {}", w);
    std::vector<std::string> only;
    if (r.count("only")) {
        only = split_list(r["only"].as<std::string>());
        for (const auto& name : only) {
            bool known = false;
            for (const auto& d : loaded->decls) known = known || d.name == name;
            if (!known) {
                std::fprintf(stderr, "dmvlog collect: unknown collector '%s' (see dmvlog collectors)\n", name.c_str());
                return exit_usage;
            }
        }
    }
    try {
        odbc::Environment env;
        auto st = store::open_store(loaded->cfg);
        collect::Service service(loaded->cfg, loaded->decls, env, *st);
        auto results = service.collect_once(only);
        int failed = 0;
        for (const auto& [name, res] : results) {
            if (res.status == "ok") {
                std::printf("%-32s ok      %6lld rows  %8.1f ms\n", name.c_str(), static_cast<long long>(res.rows), res.duration_ms);
            } else {
                ++failed;
                std::printf("%-32s %-7s %s: %s\n", name.c_str(), res.status.c_str(), res.error_class.c_str(), res.error.c_str());
            }
        }
        if (results.empty()) std::printf("no collector ran (all disabled or filtered out)\n");
        auto ws = service.writer().stats();
        if (ws.queued > 0) {
            std::fprintf(stderr, "dmvlog collect: %zu snapshot(s) could not be written: %s\n", ws.queued, ws.last_error.c_str());
            return exit_runtime;
        }
        if (ws.spool_records > 0) {
            std::fprintf(stderr, "dmvlog collect: %llu record(s) kept in the spool for the next run: %s\n",
                         static_cast<unsigned long long>(ws.spool_records), ws.last_error.c_str());
            return exit_runtime;
        }
        return failed ? exit_runtime : exit_ok;
    } catch (const config::ConfigError& e) {
        std::fprintf(stderr, "dmvlog collect: configuration error: %s\n", e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dmvlog collect: %s\n", e.what());
        return exit_runtime;
    }
}

}  // namespace dmvlog::cli
