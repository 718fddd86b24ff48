#include "agent/collect/service.h"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace dmvlog::collect {

sched::Duration default_splay(std::chrono::milliseconds interval) {
    auto tenth = interval / 10;
    return std::chrono::duration_cast<sched::Duration>(std::min<std::chrono::milliseconds>(tenth, std::chrono::seconds(30)));
}

Service::Service(const config::Config& cfg, std::vector<CollectorDecl> decls, odbc::Environment& env, store::Store& store)
    : cfg_(cfg), decls_(std::move(decls)), store_(store) {
    std::vector<store::TableSpec> tables;
    for (const auto& d : decls_) tables.push_back(store::table_spec(d));
    store_.install(tables);
    writer_ = std::make_unique<store::Writer>(store_);
    for (const auto& inst : cfg_.instances) {
        std::string password = config::resolve_password(inst, cfg_.source);
        sources_.push_back(std::make_unique<InstanceSource>(env, inst, std::move(password), 2));
        for (const auto& d : decls_) {
            if (!d.enabled) continue;
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
    writer_->flush(std::chrono::seconds(60));
    return results;
}

void Service::run(sched::Clock& clock, std::chrono::milliseconds drain_timeout) {
    unsigned threads = static_cast<unsigned>(std::clamp<std::size_t>(jobs_.size(), 1, 8));
    sched::ThreadPool pool(threads);
    sched::Scheduler scheduler(clock, pool);
    for (auto& job : jobs_) {
        auto splay = cfg_.agent.splay.count() > 0 ? std::chrono::duration_cast<sched::Duration>(cfg_.agent.splay)
                                                  : default_splay(job->decl().interval);
        CollectorJob* raw = job.get();
        scheduler.add(job->instance() + "/" + job->decl().name,
                      std::chrono::duration_cast<sched::Duration>(job->decl().interval), splay, [raw] { raw->run(); });
    }
    {
        std::lock_guard lock(mu_);
        if (stop_requested_) return;
        scheduler_ = &scheduler;
    }
    spdlog::info("dmvlog running: {} instance(s), {} collector job(s), store writer ready", sources_.size(), jobs_.size());
    scheduler.run();
    {
        std::lock_guard lock(mu_);
        scheduler_ = nullptr;
    }
    spdlog::info("stopping: cancelling running queries and writing what was collected");
    for (auto& s : sources_) s->cancel_all();
    pool.shutdown();
    if (!writer_->flush(drain_timeout))
        spdlog::error("stopping: {} item(s) could not be written within {} ms", writer_->stats().queued, drain_timeout.count());
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
        auto st = scheduler.stats(i);
        if (st.skipped_busy > 0 || st.missed > 0)
            spdlog::info("{}: {} runs, {} ticks skipped while busy, {} missed", scheduler.name(i), st.runs,
                         st.skipped_busy, st.missed);
    }
}

void Service::stop() {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
    if (scheduler_) scheduler_->stop();
}

}  // namespace dmvlog::collect
