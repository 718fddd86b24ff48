#include "agent/collect/service.h"

#include <algorithm>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/core/time_format.h"

#include "agent/blocking/xe_job.h"
#include "agent/collect/budget.h"

namespace dmvlog::collect {

sched::Duration default_splay(std::chrono::milliseconds interval) {
    auto tenth = interval / 10;
    return std::chrono::duration_cast<sched::Duration>(std::min<std::chrono::milliseconds>(tenth, std::chrono::seconds(30)));
}

Service::Service(const config::Config& cfg, std::vector<CollectorDecl> decls, odbc::Environment& env, store::Store& store)
    : cfg_(cfg), decls_(std::move(decls)), store_(store) {
    std::vector<store::TableSpec> tables;
    for (const auto& d : decls_)
        if (!d.is_xe()) tables.push_back(store::table_spec(d));  // XE kinds: the tables of 003_blocking.sql
    store_.install(tables);
    std::unique_ptr<store::Spool> spool;
    if (cfg_.spool.enabled) {
        store::Spool::Options o;
        o.dir = cfg_.spool.dir.empty() ? std::filesystem::path(config::resolve_state_dir(cfg_)) / "spool"
                                       : std::filesystem::path(cfg_.spool.dir);
        o.max_bytes = cfg_.spool.max_bytes;
        try {
            spool = std::make_unique<store::Spool>(o);
        } catch (const store::SpoolError& e) {
            spdlog::error("{}; running without a spool (writes the store refuses wait in memory)", e.what());
        }
    }
    writer_ = std::make_unique<store::Writer>(store_, std::move(spool));
    if (cfg_.agent.quarantine.count() > 0 && !cfg_.agent.state_dir.empty()) {
        try {
            markers_ = std::make_unique<RunMarkers>(cfg_.agent.state_dir);
        } catch (const std::exception& e) {
            spdlog::warn("no markers of running queries, so no quarantine of a query that takes the agent down: {}", e.what());
        }
    }
    auto* xe_store = dynamic_cast<store::XeStore*>(&store_);
    for (const auto& inst : cfg_.instances) {
        std::string password = config::resolve_password(inst, cfg_.source);
        sources_.push_back(std::make_unique<InstanceSource>(env, inst, std::move(password), 2));
        for (const auto& d : decls_) {
            if (!d.enabled) continue;
            if (d.is_xe()) {
                if (!xe_store) {
                    spdlog::warn("collector {}: this store cannot keep extended events; not collected", d.name);
                    continue;
                }
                xe_jobs_.push_back(std::make_unique<blocking::XeJob>(d, cfg_.xe, *sources_.back(), *xe_store, *writer_));
                xe_jobs_.back()->set_markers(markers_.get());
                continue;
            }
            jobs_.push_back(std::make_unique<CollectorJob>(d, *sources_.back(), *writer_));
            jobs_.back()->set_part_rows(cfg_.agent.snapshot_part_rows);
            jobs_.back()->set_markers(markers_.get());
        }
    }
}

Service::~Service() {
    if (writer_) writer_->stop(std::chrono::seconds(5));
}

void Service::apply_quarantine(double scale) {
    if (quarantine_applied_ || !markers_) return;
    quarantine_applied_ = true;
    using namespace std::chrono;
    const auto wall_now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    const auto boot = current_boot_id();
    for (const auto& m : markers_->leftovers()) {
        if (!m.boot_id.empty() && !boot.empty() && m.boot_id != boot) {
            spdlog::info("instance {}: collector {} was running when the machine stopped (started {}); not quarantined",
                         m.instance, m.collector, m.started_at);
            markers_->discard(m);
            continue;
        }
        auto previous = markers_->quarantine(m.instance, m.collector);
        const auto length = next_quarantine(previous ? std::optional(previous->length) : std::nullopt, cfg_.agent.quarantine);
        QuarantineRecord r;
        r.instance = m.instance;
        r.collector = m.collector;
        r.length = length;
        r.until_unix_ms = wall_now_ms + static_cast<std::int64_t>(static_cast<double>(length.count()) / scale);
        r.reason = fmt::format("the agent stopped while this query ran (started {} UTC, process {}){}; skipped for {}",
                               m.started_at.substr(0, 19), m.pid, previous ? ", again" : "",
                               config::format_duration(length));
        try {
            markers_->save(r);
        } catch (const std::exception& e) {
            spdlog::warn("instance {}: collector {}: quarantine not kept across restarts: {}", m.instance, m.collector, e.what());
        }
        markers_->discard(m);
        bool known = false;
        auto apply = [&](auto& job) {
            if (job->instance() != m.instance || job->decl().name != m.collector) return;
            job->quarantine(length, r.reason);
            known = true;
        };
        for (auto& job : jobs_) apply(job);
        for (auto& job : xe_jobs_) apply(job);
        if (!known) markers_->forget(m.instance, m.collector);
    }
    // Quarantines that began before an earlier restart and are not over yet.
    for (const auto& r : markers_->quarantines()) {
        auto resume = [&](auto& job) {
            if (job->instance() != r.instance || job->decl().name != r.collector || job->quarantined()) return;
            if (r.until_unix_ms <= wall_now_ms) {
                job->quarantine_over();  // the record goes after its next normal run
                return;
            }
            const auto left = milliseconds(static_cast<std::int64_t>(static_cast<double>(r.until_unix_ms - wall_now_ms) * scale));
            job->quarantine(left, r.reason);
        };
        for (auto& job : jobs_) resume(job);
        for (auto& job : xe_jobs_) resume(job);
    }
}

std::vector<std::pair<std::string, RunResult>> Service::collect_once(const std::vector<std::string>& only) {
    apply_quarantine(1.0);
    std::vector<std::pair<std::string, RunResult>> results;
    for (auto& job : jobs_) {
        if (!only.empty() && std::find(only.begin(), only.end(), job->decl().name) == only.end()) continue;
        results.emplace_back(job->instance() + "/" + job->decl().name, job->run());
    }
    for (auto& job : xe_jobs_) {
        if (!only.empty() && std::find(only.begin(), only.end(), job->decl().name) == only.end()) continue;
        results.emplace_back(job->instance() + "/" + job->decl().name, job->run());
    }
    writer_->flush(std::chrono::seconds(60));
    return results;
}

void Service::run(sched::Clock& clock, std::chrono::milliseconds drain_timeout) {
    unsigned threads = static_cast<unsigned>(std::clamp<std::size_t>(jobs_.size() + xe_jobs_.size() + 1, 2, 8));
    sched::ThreadPool pool(threads);
    sched::Scheduler scheduler(clock, pool);
    struct Control {
        CollectorJob* job;
        BudgetGovernor governor;
        sched::Scheduler::JobId id = 0;
    };
    std::vector<std::unique_ptr<Control>> controls;
    apply_quarantine(clock.scale());
    for (auto& s : sources_) s->set_time_scale(clock.scale());
    std::vector<std::pair<JobSample, sched::Scheduler::JobId>> scheduled;
    RunObserver* observer = observer_;
    for (auto& job : xe_jobs_) {
        job->set_clock(&clock);
        const auto& d = job->decl();
        auto splay = cfg_.agent.splay.count() > 0 ? std::chrono::duration_cast<sched::Duration>(cfg_.agent.splay)
                                                  : default_splay(d.interval);
        blocking::XeJob* j = job.get();
        auto id = scheduler.add(job->instance() + "/" + d.name, std::chrono::duration_cast<sched::Duration>(d.interval),
                                splay, [this, j, observer] {
                                    auto r = j->run();
                                    count(r);
                                    if (observer) observer->run_finished(j->instance(), j->decl().name, r);
                                });
        scheduled.emplace_back(JobSample{job->instance(), d.name}, id);
    }
    for (auto& job : jobs_) {
        job->set_clock(&clock);
        const auto& d = job->decl();
        controls.push_back(std::make_unique<Control>(Control{job.get(), BudgetGovernor(d.interval, d.budget)}));
        Control* c = controls.back().get();
        auto splay = cfg_.agent.splay.count() > 0 ? std::chrono::duration_cast<sched::Duration>(cfg_.agent.splay)
                                                  : default_splay(d.interval);
        c->id = scheduler.add(job->instance() + "/" + d.name, std::chrono::duration_cast<sched::Duration>(d.interval), splay,
                              [this, c, &scheduler, observer] {
                                  auto r = c->job->run();
                                  count(r);
                                  if (observer) observer->run_finished(c->job->instance(), c->job->decl().name, r);
                                  if (r.status != "ok") return;
                                  if (auto next = c->governor.observe(r.duration_ms)) {
                                      scheduler.set_interval(c->id, std::chrono::duration_cast<sched::Duration>(*next));
                                      spdlog::warn("instance {}: collector {} {} its budget of {} ms (last run {:.0f} ms): "
                                                   "interval now {} ms ({}x)",
                                                   c->job->instance(), c->job->decl().name,
                                                   c->governor.factor() > 1 ? "exceeds" : "fits",
                                                   c->governor.budget().count(), r.duration_ms, next->count(),
                                                   c->governor.factor());
                                  }
                              });
        scheduled.emplace_back(JobSample{job->instance(), d.name}, c->id);
    }
    // Collectors marked on_connect (server_info) run again right after each (re)connect.
    for (auto& src : sources_) {
        std::vector<sched::Scheduler::JobId> ids;
        for (auto& c : controls)
            if (c->job->decl().on_connect && &c->job->instance() == &src->instance().name) ids.push_back(c->id);
        if (!ids.empty()) src->on_connect([ids, &scheduler] {
            for (auto id : ids) scheduler.trigger(id);
        });
    }
    // Retention: every 10 minutes each collector's data older than its retention is purged in small steps. A
    // collector whose previous pass has not finished when the next is due is behind (store::Writer says so).
    scheduler.add("retention", kRetentionPeriod, std::chrono::minutes(1), [this, &clock] {
        const auto now_ticks = std::chrono::duration_cast<std::chrono::nanoseconds>(clock.now().time_since_epoch()).count() / 100;
        // The XE collectors share their tables: their events, parsed rows and episodes are purged by event time
        // with the longest retention among them (blocking_events' 30d as declared), never their bookmarks.
        std::chrono::seconds xe_retention{0};
        for (const auto& d : decls_)
            if (d.is_xe()) xe_retention = std::max(xe_retention, d.retention);
        for (const auto& d : decls_) {
            const auto keep = std::chrono::duration_cast<std::chrono::nanoseconds>(d.is_xe() ? xe_retention : d.retention)
                                  .count() / 100;
            writer_->submit_purge(d.name, d.table, Timestamp{now_ticks - keep, 0, false});
        }
    });
    if (heartbeat_) {
        // The heartbeat's period is wall time; the clock may run faster (--time-scale).
        auto every = std::chrono::duration_cast<sched::Duration>(heartbeat_every_ * clock.scale());
        scheduler.set_heartbeat(every, heartbeat_);
    }
    {
        std::lock_guard lock(mu_);
        if (stop_requested_) return;
        scheduler_ = &scheduler;
        scheduled_ = std::move(scheduled);
    }
    spdlog::info("dmvlog running: {} instance(s), {} collector job(s), store writer ready", sources_.size(),
                 jobs_.size() + xe_jobs_.size());
    scheduler.run();
    {
        std::lock_guard lock(mu_);
        scheduler_ = nullptr;
        scheduled_.clear();
    }
    spdlog::info("stopping: cancelling running queries and writing what was collected");
    for (auto& s : sources_) s->cancel_all();
    pool.shutdown();
    for (auto& s : sources_) s->on_connect(nullptr);
    std::chrono::steady_clock::time_point stop_at;
    {
        std::lock_guard lock(mu_);
        stop_at = stop_requested_ ? stop_at_ : std::chrono::steady_clock::now();
    }
    // What is left of drain_timeout since stop(); a little is kept for the rest of the shutdown.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(stop_at + drain_timeout * 9 / 10 -
                                                                      std::chrono::steady_clock::now());
    if (left < std::chrono::milliseconds(100)) left = std::chrono::milliseconds(100);
    writer_->stop(left);   // what the store cannot take within it stays in the spool
    const auto ws = writer_->stats();
    if (ws.queued > 0)
        spdlog::error("stopping: {} item(s) could not be written within {} ms", ws.queued, drain_timeout.count());
    if (ws.spool_records > 0)
        spdlog::warn("stopping: {} record(s) kept in the spool {} for the next start ({})", ws.spool_records,
                     cfg_.spool.dir, ws.last_error.empty() ? "not written yet" : ws.last_error);
    for (const auto& c : controls) {
        auto st = scheduler.stats(c->id);
        if (st.skipped_busy > 0 || st.missed > 0)
            spdlog::info("{}: {} runs, {} ticks skipped while busy, {} missed", scheduler.name(c->id), st.runs,
                         st.skipped_busy, st.missed);
    }
}

ServiceSample Service::sample() {
    ServiceSample out;
    {
        std::lock_guard lock(mu_);
        out.running = scheduler_ != nullptr;
        if (scheduler_) {
            for (const auto& [job, id] : scheduled_) {
                out.jobs.push_back(job);
                out.jobs.back().skipped_busy = scheduler_->stats(id).skipped_busy;
            }
        }
    }
    if (out.jobs.empty()) {  // not running: the jobs without scheduler counts
        for (const auto& j : jobs_) out.jobs.push_back(JobSample{j->instance(), j->decl().name});
        for (const auto& j : xe_jobs_) out.jobs.push_back(JobSample{j->instance(), j->decl().name});
    }
    for (auto& s : out.jobs) {
        for (const auto& j : jobs_)
            if (j->instance() == s.instance && j->decl().name == s.collector) s.disabled = j->disabled();
        for (const auto& j : xe_jobs_)
            if (j->instance() == s.instance && j->decl().name == s.collector) s.disabled = j->disabled();
    }
    for (const auto& src : sources_)
        out.sources.push_back(SourceSample{src->instance().name, src->reachable(), src->reconnects()});
    out.writer = writer_->stats();
    return out;
}

void Service::stop() {
    std::lock_guard lock(mu_);
    if (!stop_requested_) stop_at_ = std::chrono::steady_clock::now();
    stop_requested_ = true;
    if (scheduler_) scheduler_->stop();
}

void Service::set_heartbeat(std::chrono::milliseconds every, std::function<void()> fn) {
    heartbeat_every_ = every;
    heartbeat_ = std::move(fn);
}

void Service::count(const RunResult& r) {
    ++runs_;
    if (r.status != "ok" && r.status != "cancelled") ++failures_;
}

Service::Counters Service::counters() const {
    Counters c;
    c.instances = sources_.size();
    c.jobs = jobs_.size() + xe_jobs_.size();
    c.runs = runs_.load();
    c.failures = failures_.load();
    c.queued = writer_->stats().queued;
    return c;
}

}  // namespace dmvlog::collect
