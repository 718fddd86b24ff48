#include "agent/blocking/xe_sources.h"

#include <algorithm>
#include <fmt/format.h>

#include "agent/core/embedded.h"
#include "agent/odbc/connection.h"

namespace dmvlog::blocking {

namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<std::string> names_of(const odbc::ResultSet& set) {
    std::vector<std::string> out;
    for (const auto& row : set.rows)
        if (!row.empty())
            if (auto p = std::get_if<std::string>(&row[0])) out.push_back(*p);
    return out;
}

}  // namespace

bool SessionStatus::is_defined(const std::string& name) const { return contains(defined, name) || is_running(name); }
bool SessionStatus::is_running(const std::string& name) const { return contains(running, name); }

SessionStatus session_status_from(const std::vector<odbc::ResultSet>& sets) {
    SessionStatus st;
    if (!sets.empty() && !sets[0].rows.empty() && !sets[0].rows[0].empty())
        if (auto p = std::get_if<std::int64_t>(&sets[0].rows[0][0])) st.threshold_s = *p;
    if (sets.size() > 1) st.defined = names_of(sets[1]);
    if (sets.size() > 2) st.running = names_of(sets[2]);
    return st;
}

SessionStatus read_session_status(odbc::Connection& conn, std::chrono::seconds timeout) {
    auto text = embedded::find("sql/agent/xe_status.sql");
    if (!text) throw std::runtime_error("sql/agent/xe_status.sql is not embedded");
    odbc::CollectingSink sink;
    conn.run("/* dmvlog:xe_status */\n" + std::string(*text), timeout, sink, "xe status");
    return session_status_from(sink.sets());
}

std::string session_of(const collect::CollectorDecl& decl, const config::Xe& xe) {
    if (!decl.xe_session.empty()) return decl.xe_session;
    return decl.kind == "xe_ring_buffer" ? xe.ring_buffer_session : xe.session;
}

SourceDecision decide_source(const collect::CollectorDecl& decl, const config::Xe& xe, const SessionStatus& status) {
    const std::string own = xe.session;
    const std::string session = session_of(decl, xe);
    const char* target = decl.kind == "xe_ring_buffer" ? "ring_buffer" : "event files";
    if (!decl.fallback) {
        if (!status.is_defined(session))
            return {false, fmt::format("idle: session {} does not exist (`dmvlog xe setup` creates it); the fallbacks read", session)};
        return {true, fmt::format("source: {} of session {}{}", target, session,
                                  status.is_running(session) ? "" : " (stopped: the files it wrote; the fallbacks read too)")};
    }
    if (status.is_running(own)) return {false, fmt::format("idle: session {} is running and is the source", own)};
    const std::string why = status.is_defined(own) ? "is stopped" : "does not exist";
    if (decl.kind == "xe_ring_buffer" && !status.is_running(session))
        return {false, fmt::format("idle: session {} {}, and session {} (its ring_buffer) is not running", own, why, session)};
    return {true, fmt::format("source: {} of session {} (session {} {})", target, session, own, why)};
}

}  // namespace dmvlog::blocking
