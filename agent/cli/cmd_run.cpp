// dmvlog run: the service. Runs the collectors until SIGTERM/SIGINT; SIGHUP reloads the configuration;
// tells systemd how it is doing (READY, RELOADING, STOPPING, STATUS, WATCHDOG) when run with Type=notify.
#include <cstdio>
#include <cstdlib>
#include <cxxopts.hpp>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "agent/cli/cli.h"
#include "agent/cli/common.h"
#include "agent/collect/service.h"
#include "agent/metrics/registry.h"
#include "agent/metrics/server.h"
#include "agent/service/config_diff.h"
#include "agent/service/notify.h"
#include "agent/service/signals.h"
#include "agent/store/open.h"

namespace dmvlog::cli {

namespace {

using std::chrono::milliseconds;

// What the signal thread and the main thread share.
struct Control {
    std::mutex mu;
    std::condition_variable cv;
    collect::Service* current = nullptr;  // the running generation, if any
    std::optional<Loaded> pending;         // a valid configuration waiting to be applied (SIGHUP)
    bool stop = false;                     // SIGTERM/SIGINT received
    bool finished = false;                 // the main thread is done
    milliseconds stop_timeout{10000};
};

std::string status_line(const collect::Service::Counters& c) {
    return fmt::format("{} collectors, {} instance{}, {} runs, {} failed, {} queued", c.jobs, c.instances,
                       c.instances == 1 ? "" : "s", c.runs, c.failures, c.queued);
}

// --stop-timeout: a duration ("15s") or a number of seconds ("15").
std::optional<milliseconds> parse_stop_timeout(const std::string& text) {
    try {
        if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos)
            return std::chrono::seconds(std::stoll(text));
        return config::parse_duration(text);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

int cmd_run(const Args& args) {
    cxxopts::Options opts("dmvlog run",
                          "The service: runs every enabled collector on its interval until SIGTERM or SIGINT.\n"
                          "SIGHUP re-reads the configuration: a valid one replaces the running one, an invalid one is "
                          "logged and the running one kept.");
    opts.add_options()("config", "configuration file", cxxopts::value<std::string>())(
        "log-level", "trace, debug, info, warn, error (overrides logging.level)", cxxopts::value<std::string>())(
        "time-scale", "TESTING ONLY: run the schedule X times faster than wall time (pair with the simulator's --speed X)",
        cxxopts::value<double>()->default_value("1"))(
        "stop-timeout",
        "time allowed after SIGTERM to cancel queries and write what was collected, e.g. 15s (overrides agent.stop_timeout)",
        cxxopts::value<std::string>())("h,help", "show this help");
    cxxopts::ParseResult r;
    if (int rc = parse_or_usage(opts, "run", args, r); rc >= 0) return rc;
    const double scale = r["time-scale"].as<double>();
    if (!(scale > 0)) {
        std::fprintf(stderr, "dmvlog run: --time-scale must be > 0\n");
        return exit_usage;
    }
    std::optional<milliseconds> stop_override;
    if (r.count("stop-timeout")) {
        stop_override = parse_stop_timeout(r["stop-timeout"].as<std::string>());
        if (!stop_override || stop_override->count() <= 0) {
            std::fprintf(stderr, "dmvlog run: --stop-timeout must be a positive duration such as 15s (got '%s')\n",
                         r["stop-timeout"].as<std::string>().c_str());
            return exit_usage;
        }
    }
    const std::optional<std::string> config_arg =
        r.count("config") ? std::optional(r["config"].as<std::string>()) : std::nullopt;
    const std::optional<std::string> level_arg =
        r.count("log-level") ? std::optional(r["log-level"].as<std::string>()) : std::nullopt;
    auto first = load(config_arg, true);
    if (!first) return exit_usage;
    setup_logging(level_arg.value_or(first->cfg.logging.level));
    for (const auto& w : first->warnings) spdlog::warn("configuration: {}", w);
    const std::string config_file = first->cfg.source;

    // Before any thread starts, so that every thread inherits the blocked mask.
    service::SignalSet signals({SIGTERM, SIGINT, SIGHUP});
    service::Notifier notifier;
    Control ctl;
    auto stop_timeout_of = [&](const Loaded& l) { return stop_override.value_or(l.cfg.agent.stop_timeout); };
    ctl.stop_timeout = stop_timeout_of(*first);
    // How often the scheduler's loop reports: half the watchdog interval when systemd set one, and the status
    // at least every 10 s.
    milliseconds heartbeat_every(10000);
    if (notifier.watchdog_interval().count() > 0) {
        heartbeat_every = std::min(heartbeat_every, std::chrono::duration_cast<milliseconds>(notifier.watchdog_interval() / 2));
        spdlog::info("systemd watchdog: {} ms; the scheduler loop reports every {} ms",
                     std::chrono::duration_cast<milliseconds>(notifier.watchdog_interval()).count(), heartbeat_every.count());
    }

    std::thread signal_thread([&] {
        for (;;) {
            const int sig = signals.wait();
            if (sig == SIGHUP) {
                {
                    std::lock_guard lock(ctl.mu);
                    if (ctl.stop || ctl.finished) continue;
                }
                notifier.reloading("reloading " + config_file);
                spdlog::info("received SIGHUP: reloading {}", config_file);
                try {
                    Loaded next = load_or_throw(config_arg, true);
                    for (const auto& w : next.warnings) spdlog::warn("configuration: {}", w);
                    std::lock_guard lock(ctl.mu);
                    ctl.pending = std::move(next);
                    if (ctl.current) ctl.current->stop();  // the main thread applies it once this generation is flushed
                } catch (const std::exception& e) {
                    spdlog::error("reload: configuration error: {}; keeping the running configuration", e.what());
                    std::lock_guard lock(ctl.mu);
                    notifier.ready(ctl.current ? status_line(ctl.current->counters()) : "running");
                }
                continue;
            }
            std::unique_lock lock(ctl.mu);
            if (ctl.finished) return;  // the main thread's wake-up
            ctl.stop = true;
            const auto bound = ctl.stop_timeout;
            notifier.stopping(fmt::format("stopping (at most {})", config::format_duration(bound)));
            spdlog::info("received {}, stopping (at most {})", service::signal_name(sig), config::format_duration(bound));
            if (ctl.current) ctl.current->stop();
            // The bound holds even when something does not let go (a query that ignores its cancel).
            if (!ctl.cv.wait_for(lock, bound, [&] { return ctl.finished; })) {
                spdlog::error("did not stop within {}; exiting now, what was not written is lost",
                              config::format_duration(bound));
                spdlog::default_logger()->flush();
                std::_Exit(exit_runtime);
            }
            return;
        }
    });

    int rc = exit_ok;
    // The metrics outlive every service generation (a reload keeps the endpoint and its counters); the endpoint
    // samples whichever generation runs. [metrics] itself is read at start only.
    std::unique_ptr<metrics::Metrics> stats;
    std::unique_ptr<metrics::Server> endpoint;
    struct Live {
        std::mutex mu;
        collect::Service* svc = nullptr;
    } live;
    if (first->cfg.metrics.enabled) {
        stats = std::make_unique<metrics::Metrics>();
        stats->set_sampler([&live] {
            std::lock_guard lock(live.mu);
            return live.svc ? live.svc->sample() : collect::ServiceSample{};
        });
        try {
            endpoint = std::make_unique<metrics::Server>(first->cfg.metrics.listen, *stats);
            spdlog::info("metrics: http://{}/metrics, /healthz and /readyz", first->cfg.metrics.listen);
        } catch (const std::exception& e) {
            // Collection comes first: the agent runs on without its endpoint (alert on the scrape failing).
            spdlog::error("{}; collecting without it", e.what());
        }
    }
    {
        odbc::Environment env;
        sched::SystemClock clock(scale);
        if (scale != 1.0) spdlog::warn("--time-scale {}: the schedule runs {}x faster than wall time (testing only)", scale, scale);
        Loaded current = std::move(*first);
        std::optional<Loaded> previous;  // the configuration that ran before a reload, to fall back to
        for (;;) {
            notifier.watchdog();
            std::unique_ptr<store::Store> st;
            std::unique_ptr<collect::Service> svc;
            try {
                st = store::open_store(current.cfg);
                svc = std::make_unique<collect::Service>(current.cfg, current.decls, env, *st);
            } catch (const std::exception& e) {
                svc.reset();
                st.reset();
                const bool config_problem = dynamic_cast<const config::ConfigError*>(&e) != nullptr;
                if (!previous) {
                    spdlog::error("{}{}", config_problem ? "configuration error: " : "", e.what());
                    rc = config_problem ? exit_usage : exit_runtime;
                    break;
                }
                spdlog::error("reload: the new configuration cannot start ({}); going back to the previous one", e.what());
                current = std::move(*previous);
                previous.reset();
                std::lock_guard lock(ctl.mu);
                ctl.stop_timeout = stop_timeout_of(current);
                continue;
            }
            bool ready_sent = false;
            collect::Service* raw = svc.get();
            if (stats) {
                svc->set_observer(stats.get());
                svc->writer().set_write_observer([m = stats.get()](double seconds, bool ok) { m->store_write(seconds, ok); });
                std::lock_guard lock(live.mu);
                live.svc = raw;
            }
            svc->set_heartbeat(heartbeat_every, [&notifier, &ready_sent, raw] {
                const auto line = status_line(raw->counters());
                if (!ready_sent) {
                    notifier.ready(line);
                    ready_sent = true;
                } else {
                    notifier.status(line);
                }
                notifier.watchdog();
            });
            {
                std::lock_guard lock(ctl.mu);
                if (ctl.stop) break;
                ctl.current = raw;
                ctl.stop_timeout = stop_timeout_of(current);
                if (ctl.pending) raw->stop();  // a SIGHUP came while this generation was being built
            }
            svc->run(clock, stop_timeout_of(current));
            std::optional<Loaded> next;
            bool stopping = false;
            {
                std::lock_guard lock(ctl.mu);
                ctl.current = nullptr;
                next = std::move(ctl.pending);
                ctl.pending.reset();
                stopping = ctl.stop;
            }
            auto ws = svc->writer().stats();
            spdlog::info("stopped: {} snapshots written, {} duplicates skipped, {} write failures; spool: {} record(s) "
                         "({} bytes) waiting, {} evicted, {} corrupt",
                         ws.written, ws.duplicates, ws.failures, ws.spool_records, ws.spool_bytes, ws.spool_evicted,
                         ws.spool_corrupt);
            {
                std::lock_guard lock(live.mu);
                live.svc = nullptr;
            }
            svc.reset();
            st.reset();
            if (stopping || !next) {
                rc = ws.queued ? exit_runtime : exit_ok;
                break;
            }
            auto changes = service::describe_changes(current.cfg, current.decls, next->cfg, next->decls);
            if (changes.empty()) spdlog::info("reload: nothing changed; restarting the collectors");
            for (const auto& c : changes) spdlog::info("reload: {}", c);
            if (!level_arg && next->cfg.logging.level != current.cfg.logging.level)
                spdlog::set_level(spdlog::level::from_str(next->cfg.logging.level));
            previous = std::move(current);
            current = std::move(*next);
        }
    }
    {
        std::lock_guard lock(ctl.mu);
        ctl.finished = true;
    }
    ctl.cv.notify_all();
    pthread_kill(signal_thread.native_handle(), SIGTERM);  // ends its wait, if it is waiting
    signal_thread.join();
    return rc;
}

}  // namespace dmvlog::cli
