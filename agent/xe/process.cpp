#include <charconv>
#include <cstring>
#include <tuple>

#include "agent/xe/extract.h"

namespace dmvlog::xe::detail {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

enum class Attr {
    other, id, spid, sbid, ecid, status, waitresource, waittime, lockMode, transactionname, lasttranstarted,
    lastbatchstarted, lastbatchcompleted, isolationlevel, trancount, clientapp, hostname, hostpid, loginname,
    currentdb, currentdbname, XDES, ownerId, xactid, priority, taskpriority, logused, schedulerid, kpid, lockTimeout,
};

// By length first: one or two comparisons per attribute.
Attr lookup(std::string_view n) {
    switch (n.size()) {
        case 2: return n == "id" ? Attr::id : Attr::other;
        case 4:
            if (n == "spid") return Attr::spid;
            if (n == "sbid") return Attr::sbid;
            if (n == "ecid") return Attr::ecid;
            if (n == "kpid") return Attr::kpid;
            if (n == "XDES") return Attr::XDES;
            return Attr::other;
        case 6:
            if (n == "status") return Attr::status;
            if (n == "xactid") return Attr::xactid;
            return Attr::other;
        case 7:
            if (n == "ownerId") return Attr::ownerId;
            if (n == "logused") return Attr::logused;
            if (n == "hostpid") return Attr::hostpid;
            return Attr::other;
        case 8:
            if (n == "waittime") return Attr::waittime;
            if (n == "lockMode") return Attr::lockMode;
            if (n == "priority") return Attr::priority;
            if (n == "hostname") return Attr::hostname;
            return Attr::other;
        case 9:
            if (n == "trancount") return Attr::trancount;
            if (n == "clientapp") return Attr::clientapp;
            if (n == "loginname") return Attr::loginname;
            if (n == "currentdb") return Attr::currentdb;
            return Attr::other;
        case 11:
            if (n == "schedulerid") return Attr::schedulerid;
            if (n == "lockTimeout") return Attr::lockTimeout;
            return Attr::other;
        case 12:
            if (n == "waitresource") return Attr::waitresource;
            if (n == "taskpriority") return Attr::taskpriority;
            return Attr::other;
        case 13: return n == "currentdbname" ? Attr::currentdbname : Attr::other;
        case 14: return n == "isolationlevel" ? Attr::isolationlevel : Attr::other;
        case 15:
            if (n == "transactionname") return Attr::transactionname;
            if (n == "lasttranstarted") return Attr::lasttranstarted;
            return Attr::other;
        case 16: return n == "lastbatchstarted" ? Attr::lastbatchstarted : Attr::other;
        case 18: return n == "lastbatchcompleted" ? Attr::lastbatchcompleted : Attr::other;
        default: return Attr::other;
    }
}

void read_frame(pugi::xml_node f, Frame& out) {
    for (auto a : f.attributes()) {
        const char* n = a.name();
        if (std::strcmp(n, "line") == 0) out.line = to_int(a.value());
        else if (std::strcmp(n, "stmtstart") == 0) out.stmt_start = to_int(a.value());
        else if (std::strcmp(n, "stmtend") == 0) out.stmt_end = to_int(a.value());
        else if (std::strcmp(n, "sqlhandle") == 0) out.sql_handle = a.value();
        else if (std::strcmp(n, "procname") == 0) out.proc_name = a.value();
        else if (std::strcmp(n, "queryhash") == 0) out.query_hash = a.value();
        else if (std::strcmp(n, "queryplanhash") == 0) out.query_plan_hash = a.value();
    }
    if (f.first_child()) {
        std::string t = node_text(f);
        std::string_view tt = trim(t);
        if (!tt.empty()) out.text = std::string(tt);
    }
}

}  // namespace

std::optional<std::int64_t> to_int(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::int64_t v = 0;
    const char* b = s.data();
    const char* e = b + s.size();
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec == std::errc() && p == e) return v;
    // unsigned values above INT64_MAX (lockTimeout is 4294967295, fine; hobt ids fit): not a number for us
    return std::nullopt;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string node_text(pugi::xml_node node) {
    std::string out;
    for (auto c : node.children()) {
        if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
    }
    return out;
}

void read_process(pugi::xml_node p, Process& out) {
    out.attributes.reserve(32);
    for (auto a : p.attributes()) {
        const char* n = a.name();
        const char* v = a.value();
        std::string_view name(n);
        out.attributes.emplace_back(std::piecewise_construct, std::forward_as_tuple(name), std::forward_as_tuple(v));
        switch (lookup(name)) {
            case Attr::other: break;
            case Attr::id: out.id = v; break;
            case Attr::spid: out.spid = to_int(v); break;
            case Attr::sbid: out.sbid = to_int(v); break;
            case Attr::ecid: out.ecid = to_int(v); break;
            case Attr::status: out.status = v; break;
            case Attr::waitresource: out.wait_resource = decode_wait_resource(v); break;
            case Attr::waittime: out.wait_time_ms = to_int(v); break;
            case Attr::lockMode: out.lock_mode = v; break;
            case Attr::transactionname: out.transaction_name = v; break;
            case Attr::lasttranstarted: out.last_tran_started = v; break;
            case Attr::lastbatchstarted: out.last_batch_started = v; break;
            case Attr::lastbatchcompleted: out.last_batch_completed = v; break;
            case Attr::isolationlevel: out.isolation_level = v; break;
            case Attr::trancount: out.trancount = to_int(v); break;
            case Attr::clientapp: out.client_app = v; break;
            case Attr::hostname: out.host_name = v; break;
            case Attr::hostpid: out.host_pid = to_int(v); break;
            case Attr::loginname: out.login_name = v; break;
            case Attr::currentdb: out.database_id = to_int(v); break;
            case Attr::currentdbname: out.database_name = v; break;
            case Attr::XDES: out.xdes = v; break;
            case Attr::ownerId: out.owner_id = to_int(v); break;
            case Attr::xactid: out.xact_id = to_int(v); break;
            case Attr::priority: out.priority = to_int(v); break;
            case Attr::taskpriority: out.task_priority = to_int(v); break;
            case Attr::logused: out.log_used = to_int(v); break;
            case Attr::schedulerid: out.scheduler_id = to_int(v); break;
            case Attr::kpid: out.kpid = to_int(v); break;
            case Attr::lockTimeout: out.lock_timeout = to_int(v); break;
        }
    }
    for (auto c : p.children()) {
        if (c.type() != pugi::node_element) continue;
        const char* n = c.name();
        if (std::strcmp(n, "executionStack") == 0) {
            for (auto f : c.children("frame")) {
                out.frames.emplace_back();
                read_frame(f, out.frames.back());
            }
        } else if (std::strcmp(n, "inputbuf") == 0) {
            std::string t = node_text(c);
            out.input_buffer = std::string(trim(t));
        }
    }
}

}  // namespace dmvlog::xe::detail
