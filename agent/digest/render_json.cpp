// The digest as JSON (docs/digest.schema.json): every number unrounded, every list whole, times as
// ISO-8601 UTC ("...Z") with the window also in the digest's time zone.
#include <nlohmann/json.hpp>

#include "agent/digest/digest.h"
#include "agent/digest/format.h"

namespace dmvlog::digest {

namespace {

using J = nlohmann::ordered_json;

J opt_time(const std::optional<std::int64_t>& t) { return t ? J(iso_utc(*t)) : J(nullptr); }
J opt_text(const std::string& s) { return s.empty() ? J(nullptr) : J(s); }

J headline_json(const Headline& h) {
    return J{{"episodes", h.episodes},
             {"blocked_session_seconds", round3(h.blocked_session_seconds)},
             {"longest_episode_s", round3(h.longest_episode_s)},
             {"max_sessions_blocked", h.max_sessions_blocked},
             {"worst_at", opt_time(h.worst_at)},
             {"deadlocks", h.deadlocks},
             {"max_wait_s", round3(h.max_wait_s)}};
}

J instance_json(const InstanceDigest& d, const query::Window& w, const query::Zone& zone) {
    J j;
    j["instance"] = d.instance;
    j["quiet"] = d.quiet();
    j["summary"] = d.quiet() ? quiet_line(d, w, zone) : instance_summary(d, w, zone);
    j["threshold_s"] = d.threshold_s ? J(*d.threshold_s) : J(nullptr);
    j["source"] = opt_text(d.source);
    j["headline"] = headline_json(d.headline);
    auto prev = headline_json(d.previous);
    prev["covered"] = d.previous_covered;
    j["previous"] = prev;
    auto pct = change_pct(d.headline.blocked_session_seconds, d.previous.blocked_session_seconds, d.previous_covered);
    j["change"] = J{{"episodes", d.previous_covered ? J(d.headline.episodes - d.previous.episodes) : J(nullptr)},
                    {"blocked_session_seconds_pct", pct ? J(round3(*pct)) : J(nullptr)},
                    {"deadlocks", d.previous_covered ? J(d.headline.deadlocks - d.previous.deadlocks) : J(nullptr)}};
    J eps = J::array();
    for (const auto& e : d.episodes)
        eps.push_back(J{{"head_spid", e.head_spid},
                        {"head_login", opt_text(e.head_login)},
                        {"head_host", opt_text(e.head_host)},
                        {"head_app", opt_text(e.head_app)},
                        {"head_status", opt_text(e.head_status)},
                        {"head_statement", opt_text(e.head_statement)},
                        {"start", iso_utc(e.start)},
                        {"end", iso_utc(e.end)},
                        {"window_start", iso_utc(e.window_start)},
                        {"window_end", iso_utc(e.window_end)},
                        {"duration_s", round3(secs(e.window_end - e.window_start))},
                        {"blocked_session_seconds", round3(e.blocked_session_seconds)},
                        {"sessions_blocked", e.sessions_blocked},
                        {"max_sessions_blocked", e.max_sessions_blocked},
                        {"max_wait_s", round3(e.max_wait_s)},
                        {"resources", opt_text(e.resources)},
                        {"began_before_window", e.began_before},
                        {"continues_after_window", e.continues_after}});
    j["episodes"] = eps;
    J heads = J::array();
    for (const auto& h : d.head_blockers)
        heads.push_back(J{{"login", opt_text(h.login)},
                          {"host", opt_text(h.host)},
                          {"app", opt_text(h.app)},
                          {"spid", h.spid},
                          {"status", opt_text(h.status)},
                          {"statement", opt_text(h.statement)},
                          {"open_transaction_s", h.open_transaction_s ? J(round3(*h.open_transaction_s)) : J(nullptr)},
                          {"open_transaction_at_least", h.open_transaction_at_least},
                          {"episodes", h.episodes},
                          {"blocked_session_seconds", round3(h.blocked_session_seconds)},
                          {"longest_episode_s", round3(h.longest_episode_s)},
                          {"sessions_blocked", h.sessions_blocked}});
    j["head_blockers"] = heads;
    J stmts = J::array();
    for (const auto& s : d.blocked_statements)
        stmts.push_back(J{{"statement", s.statement},
                          {"login", opt_text(s.login)},
                          {"app", opt_text(s.app)},
                          {"sessions", s.sessions},
                          {"episodes", s.episodes},
                          {"blocked_session_seconds", round3(s.blocked_session_seconds)},
                          {"max_wait_s", round3(s.max_wait_s)}});
    j["blocked_statements"] = stmts;
    J res = J::array();
    for (const auto& r : d.resources)
        res.push_back(J{{"resource", r.resource},
                        {"type", opt_text(r.type)},
                        {"object", opt_text(r.object)},
                        {"lock_mode", opt_text(r.lock_mode)},
                        {"sessions", r.sessions},
                        {"blocked_session_seconds", round3(r.blocked_session_seconds)}});
    j["resources"] = res;
    J objs = J::array();
    for (const auto& o : d.objects)
        objs.push_back(J{{"object", o.object},
                         {"resources", o.resources},
                         {"sessions", o.sessions},
                         {"blocked_session_seconds", round3(o.blocked_session_seconds)}});
    j["objects"] = objs;
    J dls = J::array();
    for (const auto& x : d.deadlocks) {
        J procs = J::array();
        for (const auto& p : x.processes)
            procs.push_back(J{{"spid", p.spid},
                              {"victim", p.victim},
                              {"login", opt_text(p.login)},
                              {"host", opt_text(p.host)},
                              {"app", opt_text(p.app)},
                              {"lock_mode", opt_text(p.lock_mode)},
                              {"wait_resource", opt_text(p.wait_resource)},
                              {"statement", opt_text(p.statement)}});
        dls.push_back(J{{"time", iso_utc(x.at)}, {"victims", x.victim_spids}, {"processes", procs}, {"objects", x.objects}});
    }
    j["deadlocks"] = dls;
    J cpu = J::array();
    for (const auto& q : d.top_cpu)
        cpu.push_back(J{{"query_hash", q.query_hash},
                        {"statement", opt_text(q.statement)},
                        {"executions", q.executions},
                        {"cpu_ms", round3(q.cpu_ms)},
                        {"share_pct", round3(q.share)}});
    j["top_cpu"] = cpu;
    J waits = J::array();
    for (const auto& x : d.top_waits)
        waits.push_back(J{{"wait_type", x.wait_type}, {"wait_ms", x.wait_ms}, {"waits", x.waits}, {"share_pct", round3(x.share)}});
    j["top_waits"] = waits;
    j["timeline"] = J{{"bucket_s", round3(secs(d.bucket_ticks))}, {"max_sessions_blocked", d.timeline}};
    j["notes"] = d.notes;
    return j;
}

}  // namespace

nlohmann::ordered_json to_json(const Digest& d, const query::Zone& zone) {
    J j;
    j["schema"] = "dmvlog-digest/1";
    j["generated_at"] = iso_utc(d.generated_at);
    j["window"] = J{{"from", iso_utc(d.window.from)},
                    {"to", iso_utc(d.window.to)},
                    {"from_local", zone.iso(d.window.from)},
                    {"to_local", zone.iso(d.window.to)},
                    {"time_zone", d.time_zone},
                    {"label", window_label(d.window, zone)},
                    {"notes", d.window.notes}};
    J inst = J::array();
    for (const auto& x : d.instances) inst.push_back(instance_json(x, d.window, zone));
    j["instances"] = inst;
    return j;
}

std::string render_json(const Digest& d, const query::Zone& zone) { return to_json(d, zone).dump(2) + "\n"; }

}  // namespace dmvlog::digest
