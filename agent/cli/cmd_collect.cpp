// dmvlog run and dmvlog collect --once.
#include <csignal>
#include <cstdio>
#include <cxxopts.hpp>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "agent/cli/cli.h"
#include "agent/cli/common.h"
#include "agent/collect/service.h"
#include "agent/metrics/registry.h"
#include "agent/metrics/server.h"
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
        return failed ? exit_runtime : exit_ok;
    } catch (const config::ConfigError& e) {
        std::fprintf(stderr, "dmvlog collect: configuration error: %s\n", e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dmvlog collect: %s\n", e.what());
        return exit_runtime;
    }
}

int cmd_run(const Args& args) {
    cxxopts::Options opts("dmvlog run", "The service: runs every enabled collector on its interval until SIGTERM or SIGINT.");
    opts.add_options()("config", "configuration file", cxxopts::value<std::string>())(
        "log-level", "trace, debug, info, warn, error", cxxopts::value<std::string>())(
        "time-scale", "TESTING ONLY: run the schedule X times faster than wall time (pair with the simulator's --speed X)",
        cxxopts::value<double>()->default_value("1"))(
        "stop-timeout", "seconds allowed to write what was collected after SIGTERM", cxxopts::value<int>()->default_value("10"))(
        "h,help", "show this help");
    cxxopts::ParseResult r;
    if (int rc = parse_or_usage(opts, "run", args, r); rc >= 0) return rc;
    double scale = r["time-scale"].as<double>();
    if (!(scale > 0)) {
        std::fprintf(stderr, "dmvlog run: --time-scale must be > 0\n");
        return exit_usage;
    }
    auto loaded = load(r.count("config") ? std::optional(r["config"].as<std::string>()) : std::nullopt, true);
    if (!loaded) return exit_usage;
    setup_logging(r.count("log-level") ? r["log-level"].as<std::string>() : loaded->cfg.logging.level);
    for (const auto& w : loaded->warnings) spdlog::warn("configuration: {}", w);

    // Signals are taken by one thread with sigwait, so no handler runs inside library code.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    try {
        odbc::Environment env;
        auto st = store::open_store(loaded->cfg);
        // The metrics outlive the service (its writer reports to them until it stops); the endpoint goes first.
        std::unique_ptr<metrics::Metrics> stats;
        if (loaded->cfg.metrics.enabled) stats = std::make_unique<metrics::Metrics>();
        collect::Service service(loaded->cfg, loaded->decls, env, *st);
        std::unique_ptr<metrics::Server> endpoint;
        if (stats) {
            service.set_observer(stats.get());
            service.writer().set_write_observer([m = stats.get()](double seconds, bool ok) { m->store_write(seconds, ok); });
            stats->set_sampler([&service] { return service.sample(); });
            try {
                endpoint = std::make_unique<metrics::Server>(loaded->cfg.metrics.listen, *stats);
                spdlog::info("metrics: http://{}/metrics, /healthz and /readyz", loaded->cfg.metrics.listen);
            } catch (const std::exception& e) {
                // Collection comes first: the agent runs on without its endpoint (alert on the scrape failing).
                spdlog::error("{}; collecting without it", e.what());
            }
        }
        sched::SystemClock clock(scale);
        if (scale != 1.0) spdlog::warn("--time-scale {}: the schedule runs {}x faster than wall time (testing only)", scale, scale);
        std::thread signals([&] {
            int sig = 0;
            sigwait(&set, &sig);
            if (sig == 0) return;
            spdlog::info("received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            service.stop();
        });
        service.run(clock, std::chrono::seconds(r["stop-timeout"].as<int>()));
        endpoint.reset();
        // If run() ended on its own (it does not today), release the signal thread.
        pthread_kill(signals.native_handle(), SIGTERM);
        signals.join();
        auto ws = service.writer().stats();
        spdlog::info("stopped: {} snapshots written, {} duplicates skipped, {} write failures", ws.written, ws.duplicates,
                     ws.failures);
        return ws.queued ? exit_runtime : exit_ok;
    } catch (const config::ConfigError& e) {
        spdlog::error("configuration error: {}", e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return exit_runtime;
    }
}

}  // namespace dmvlog::cli
