#include "agent/collect/service.h"

#include <algorithm>
#include <spdlog/spdlog.h>

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
    writer_ = std::make_unique<store::Writer>(store_);
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
                continue;
            }
            jobs_.push_back(std::make_unique<CollectorJob>(d, *sources_.back(), *writer_));
        }
    }
}

Service::~Service() {
    if (writer_) writer_->stop(std::chrono::seconds(5));
}

std::vector<std::pair<std::string, RunResult>> Service::collect_once(const std::vector<std::string>& only) {
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
    std::vector<std::pair<JobSample, sched::Scheduler::JobId>> scheduled;
    RunObserver* observer = observer_;
    for (auto& job : xe_jobs_) {
        const auto& d = job->decl();
        auto splay = cfg_.agent.splay.count() > 0 ? std::chrono::duration_cast<sched::Duration>(cfg_.agent.splay)
                                                  : default_splay(d.interval);
        blocking::XeJob* j = job.get();
        auto id = scheduler.add(job->instance() + "/" + d.name, std::chrono::duration_cast<sched::Duration>(d.interval),
                                splay, [j, observer] {
                                    auto r = j->run();
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
                              [c, &scheduler, observer] {
                                  auto r = c->job->run();
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
    if (!writer_->flush(drain_timeout))
        spdlog::error("stopping: {} item(s) could not be written within {} ms", writer_->stats().queued, drain_timeout.count());
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
    stop_requested_ = true;
    if (scheduler_) scheduler_->stop();
}

}  // namespace dmvlog::collect
