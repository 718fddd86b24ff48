#include "agent/blocking/episodes.h"

#include <algorithm>
#include <map>
#include <set>

namespace dmvlog::blocking {

namespace {

constexpr std::int64_t kTicksPerMs = 10'000;
constexpr std::int64_t kTicksPerSecond = 10'000'000;

struct Pass {
    std::int64_t time = 0;  // utc ticks: the latest report of the pass
    std::vector<const ReportRow*> reports;
};

struct Building {
    Episode ep;
    std::int64_t last_pass = 0;
    std::map<std::int64_t, std::int64_t> wait_by_session;  // blocked spid -> longest wait (ms)
    std::map<std::string, int> resources;
};

}  // namespace

double Episode::duration_s() const { return static_cast<double>(end.utc_ticks - start.utc_ticks) / kTicksPerSecond; }

std::vector<Episode> build_episodes(const std::vector<ReportRow>& reports, std::chrono::seconds max_gap) {
    // 1. Passes: reports sharing a monitorLoop (or, without one, the same second).
    std::map<std::pair<int, std::int64_t>, Pass> by_key;
    for (const auto& r : reports) {
        auto key = r.monitor_loop ? std::make_pair(0, *r.monitor_loop) : std::make_pair(1, r.event_time.utc_ticks / kTicksPerSecond);
        auto& p = by_key[key];
        p.time = std::max(p.time, r.event_time.utc_ticks);
        p.reports.push_back(&r);
    }
    std::vector<Pass> passes;
    for (auto& [k, p] : by_key) passes.push_back(std::move(p));
    std::sort(passes.begin(), passes.end(), [](const Pass& a, const Pass& b) { return a.time < b.time; });

    std::int64_t gap = max_gap.count() * kTicksPerSecond;
    if (gap <= 0) {
        std::vector<std::int64_t> diffs;
        for (std::size_t i = 1; i < passes.size(); ++i)
            if (passes[i].time - passes[i - 1].time >= kTicksPerSecond) diffs.push_back(passes[i].time - passes[i - 1].time);
        std::int64_t usual = 5 * kTicksPerSecond;
        if (!diffs.empty()) {
            std::nth_element(diffs.begin(), diffs.begin() + static_cast<std::ptrdiff_t>(diffs.size() / 2), diffs.end());
            usual = diffs[diffs.size() / 2];
        }
        gap = std::max<std::int64_t>(3 * usual, 10 * kTicksPerSecond);
    }

    std::vector<Episode> done;
    std::map<std::pair<std::int64_t, std::string>, Building> open;
    auto close = [&](Building& b) {
        std::vector<std::pair<int, std::string>> res;
        for (auto& [name, n] : b.resources) res.emplace_back(-n, name);
        std::sort(res.begin(), res.end());
        for (std::size_t i = 0; i < res.size() && i < 3; ++i) b.ep.resources += (i ? "," : "") + res[i].second;
        b.ep.sessions_blocked = static_cast<int>(b.wait_by_session.size());
        for (auto& [spid, ms] : b.wait_by_session) b.ep.blocked_session_seconds += static_cast<double>(ms) / 1000.0;
        done.push_back(std::move(b.ep));
    };

    for (const auto& pass : passes) {
        // Who waits on whom in this pass, and each chain's head.
        std::map<std::int64_t, std::int64_t> blocked_by;
        for (const auto* r : pass.reports) blocked_by[r->blocked_spid] = r->blocking_spid;
        auto head_of = [&](std::int64_t spid) {
            std::set<std::int64_t> seen;
            while (blocked_by.count(spid) && seen.insert(spid).second) spid = blocked_by[spid];
            return spid;
        };
        // The head's own details come from a report where it is the direct blocker.
        std::map<std::int64_t, const ReportRow*> head_row;
        std::map<std::int64_t, std::vector<const ReportRow*>> by_head;
        for (const auto* r : pass.reports) {
            auto head = head_of(r->blocking_spid);
            by_head[head].push_back(r);
            if (r->blocking_spid == head) head_row.emplace(head, r);
        }
        for (auto& [head, rows] : by_head) {
            const ReportRow* h = head_row.count(head) ? head_row[head] : rows.front();
            auto key = std::make_pair(head, h->blocking_last_tran_started);
            auto it = open.find(key);
            if (it != open.end() && pass.time - it->second.last_pass > gap) {
                close(it->second);
                open.erase(it);
                it = open.end();
            }
            if (it == open.end()) {
                Building b;
                b.ep.head_spid = head;
                b.ep.head_last_tran_started = h->blocking_last_tran_started;
                b.ep.head_status = h->blocking_status;
                b.ep.head_login = h->blocking_login;
                b.ep.head_host = h->blocking_host;
                b.ep.head_app = h->blocking_app;
                b.ep.head_transaction_name = h->blocking_transaction_name;
                b.ep.head_input_buffer_hash = h->blocking_input_buffer_hash;
                b.ep.start.utc_ticks = pass.time;
                it = open.emplace(key, std::move(b)).first;
            }
            auto& b = it->second;
            b.last_pass = pass.time;
            b.ep.end.utc_ticks = std::max(b.ep.end.utc_ticks, pass.time);
            ++b.ep.passes;
            std::set<std::int64_t> blocked_now;
            for (const auto* r : rows) {
                ++b.ep.reports;
                b.ep.report_indices.push_back(static_cast<std::size_t>(r - reports.data()));
                blocked_now.insert(r->blocked_spid);
                b.ep.start.utc_ticks = std::min(b.ep.start.utc_ticks, r->event_time.utc_ticks - r->blocked_wait_ms * kTicksPerMs);
                b.ep.max_wait_ms = std::max(b.ep.max_wait_ms, r->blocked_wait_ms);
                auto& w = b.wait_by_session[r->blocked_spid];
                w = std::max(w, r->blocked_wait_ms);
                if (!r->wait_resource.empty()) ++b.resources[r->wait_resource];
            }
            b.ep.max_sessions_blocked = std::max(b.ep.max_sessions_blocked, static_cast<int>(blocked_now.size()));
        }
        // Episodes whose head did not appear for longer than the gap are over.
        for (auto it = open.begin(); it != open.end();) {
            if (pass.time - it->second.last_pass > gap) {
                close(it->second);
                it = open.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& [k, b] : open) close(b);
    std::sort(done.begin(), done.end(), [](const Episode& a, const Episode& b) {
        return a.start.utc_ticks != b.start.utc_ticks ? a.start.utc_ticks < b.start.utc_ticks : a.head_spid < b.head_spid;
    });
    return done;
}

}  // namespace dmvlog::blocking
