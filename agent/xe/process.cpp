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

}  // namespace

std::optional<std::int64_t> to_int(std::string_view s) {
    if (s.empty()) return std::nullopt;
    const char* b = s.data();
    const char* e = b + s.size();
    // up to 18 digits cannot overflow: the common case, without from_chars
    const bool negative = *b == '-';
    const std::size_t digits = s.size() - (negative ? 1 : 0);
    if (digits > 0 && digits <= 18) {
        std::int64_t v = 0;
        for (const char* p = b + (negative ? 1 : 0); p != e; ++p) {
            auto d = static_cast<unsigned>(static_cast<unsigned char>(*p)) - '0';
            if (d > 9) return std::nullopt;
            v = v * 10 + static_cast<std::int64_t>(d);
        }
        return negative ? -v : v;
    }
    std::int64_t v = 0;
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
    node_text(node, out);
    return out;
}

// Parsed with pugi::parse_embed_pcdata (envelope.cpp): an element's first PCDATA is its value, any later
// PCDATA or CDATA a child node.
void node_text(pugi::xml_node node, std::string& out) {
    out.assign(node.value());
    for (auto c = node.first_child(); c; c = c.next_sibling()) {
        auto type = c.type();
        if (type == pugi::node_pcdata || type == pugi::node_cdata) out += c.value();
    }
}

bool trimmed_text(pugi::xml_node node, std::string& out, std::string& scratch) {
    const char* only = node.value();   // the first PCDATA (parse_embed_pcdata), "" when none
    int texts = *only ? 1 : 0;
    for (auto c = node.first_child(); c && texts <= 1; c = c.next_sibling()) {
        auto type = c.type();
        if (type == pugi::node_pcdata || type == pugi::node_cdata) {
            only = c.value();
            ++texts;
        }
    }
    if (texts <= 1) {
        std::string_view t = texts ? trim(only) : std::string_view();
        copy_to(out, t);
        return !t.empty();
    }
    node_text(node, scratch);
    std::string_view t = trim(scratch);
    copy_to(out, t);
    return !t.empty();
}

namespace {

// The string fields of a Frame written in this pass (the others are cleared at the end).
enum : unsigned { kSqlHandle = 1, kProcName = 2, kQueryHash = 4, kQueryPlanHash = 8, kText = 16 };

void read_frame(pugi::xml_node f, Frame& out, std::string& scratch) {
    out.line.reset();
    out.stmt_start.reset();
    out.stmt_end.reset();
    unsigned seen = 0;
    for (auto a = f.first_attribute(); a; a = a.next_attribute()) {
        const std::string_view n(a.name());
        const char* v = a.value();
        if (n == "line") out.line = to_int(v);
        else if (n == "stmtstart") out.stmt_start = to_int(v);
        else if (n == "stmtend") out.stmt_end = to_int(v);
        else if (n == "sqlhandle") set_text(out.sql_handle, v), seen |= kSqlHandle;
        else if (n == "procname") set_text(out.proc_name, v), seen |= kProcName;
        else if (n == "queryhash") set_text(out.query_hash, v), seen |= kQueryHash;
        else if (n == "queryplanhash") set_text(out.query_plan_hash, v), seen |= kQueryPlanHash;
    }
    if (*f.value() || f.first_child()) {   // text (the first PCDATA is the element's value) or children
        if (!out.text) out.text.emplace();
        if (trimmed_text(f, *out.text, scratch)) seen |= kText;
    }
    if (!(seen & kSqlHandle)) out.sql_handle.reset();
    if (!(seen & kProcName)) out.proc_name.reset();
    if (!(seen & kQueryHash)) out.query_hash.reset();
    if (!(seen & kQueryPlanHash)) out.query_plan_hash.reset();
    if (!(seen & kText)) out.text.reset();
}

// The string fields of a Process written in this pass.
enum : unsigned {
    kId = 1u << 0, kStatus = 1u << 1, kWaitResource = 1u << 2, kLockMode = 1u << 3, kTransactionName = 1u << 4,
    kLastTranStarted = 1u << 5, kLastBatchStarted = 1u << 6, kLastBatchCompleted = 1u << 7,
    kIsolationLevel = 1u << 8, kClientApp = 1u << 9, kHostName = 1u << 10, kLoginName = 1u << 11,
    kDatabaseName = 1u << 12, kXdes = 1u << 13, kInputBuffer = 1u << 14,
};

}  // namespace

ProcessReader::ProcessReader(Process& p) : p_(p) {
    p.spid.reset();
    p.sbid.reset();
    p.ecid.reset();
    p.wait_time_ms.reset();
    p.trancount.reset();
    p.host_pid.reset();
    p.database_id.reset();
    p.owner_id.reset();
    p.xact_id.reset();
    p.priority.reset();
    p.task_priority.reset();
    p.log_used.reset();
    p.scheduler_id.reset();
    p.kpid.reset();
    p.lock_timeout.reset();
}

void ProcessReader::read(pugi::xml_node node) {
    Process& out = p_;
    auto& list = out.attributes;
    for (auto a = node.first_attribute(); a; a = a.next_attribute()) {
        const std::string_view name(a.name());
        const std::string_view v(a.value());
        if (attributes_ < list.size()) {
            auto& slot = list[attributes_];
            copy_to(slot.first, name);
            copy_to(slot.second, v);
        } else {
            list.emplace_back(std::piecewise_construct, std::forward_as_tuple(name), std::forward_as_tuple(v));
        }
        ++attributes_;
        switch (lookup(name)) {
            case Attr::other: break;
            case Attr::id: set_text(out.id, v), seen_ |= kId; break;
            case Attr::spid: out.spid = to_int(v); break;
            case Attr::sbid: out.sbid = to_int(v); break;
            case Attr::ecid: out.ecid = to_int(v); break;
            case Attr::status: set_text(out.status, v), seen_ |= kStatus; break;
            case Attr::waitresource:
                if (!out.wait_resource) out.wait_resource.emplace();
                decode_wait_resource(v, *out.wait_resource);
                seen_ |= kWaitResource;
                break;
            case Attr::waittime: out.wait_time_ms = to_int(v); break;
            case Attr::lockMode: set_text(out.lock_mode, v), seen_ |= kLockMode; break;
            case Attr::transactionname: set_text(out.transaction_name, v), seen_ |= kTransactionName; break;
            case Attr::lasttranstarted: set_text(out.last_tran_started, v), seen_ |= kLastTranStarted; break;
            case Attr::lastbatchstarted: set_text(out.last_batch_started, v), seen_ |= kLastBatchStarted; break;
            case Attr::lastbatchcompleted: set_text(out.last_batch_completed, v), seen_ |= kLastBatchCompleted; break;
            case Attr::isolationlevel: set_text(out.isolation_level, v), seen_ |= kIsolationLevel; break;
            case Attr::trancount: out.trancount = to_int(v); break;
            case Attr::clientapp: set_text(out.client_app, v), seen_ |= kClientApp; break;
            case Attr::hostname: set_text(out.host_name, v), seen_ |= kHostName; break;
            case Attr::hostpid: out.host_pid = to_int(v); break;
            case Attr::loginname: set_text(out.login_name, v), seen_ |= kLoginName; break;
            case Attr::currentdb: out.database_id = to_int(v); break;
            case Attr::currentdbname: set_text(out.database_name, v), seen_ |= kDatabaseName; break;
            case Attr::XDES: set_text(out.xdes, v), seen_ |= kXdes; break;
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
    for (auto c = node.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        const char* n = c.name();
        if (std::strcmp(n, "executionStack") == 0) {
            for (auto f = c.child("frame"); f; f = f.next_sibling("frame")) {
                if (frames_ == out.frames.size()) out.frames.emplace_back();
                read_frame(f, out.frames[frames_++], scratch_);
            }
        } else if (std::strcmp(n, "inputbuf") == 0) {
            if (!out.input_buffer) out.input_buffer.emplace();
            trimmed_text(c, *out.input_buffer, scratch_);
            seen_ |= kInputBuffer;
        }
    }
}

void ProcessReader::finish() {
    Process& p = p_;
    if (attributes_ < p.attributes.size()) p.attributes.erase(p.attributes.begin() + static_cast<std::ptrdiff_t>(attributes_), p.attributes.end());
    if (frames_ < p.frames.size()) p.frames.erase(p.frames.begin() + static_cast<std::ptrdiff_t>(frames_), p.frames.end());
    const unsigned seen = seen_;
    if (!(seen & kId)) p.id.reset();
    if (!(seen & kStatus)) p.status.reset();
    if (!(seen & kWaitResource)) p.wait_resource.reset();
    if (!(seen & kLockMode)) p.lock_mode.reset();
    if (!(seen & kTransactionName)) p.transaction_name.reset();
    if (!(seen & kLastTranStarted)) p.last_tran_started.reset();
    if (!(seen & kLastBatchStarted)) p.last_batch_started.reset();
    if (!(seen & kLastBatchCompleted)) p.last_batch_completed.reset();
    if (!(seen & kIsolationLevel)) p.isolation_level.reset();
    if (!(seen & kClientApp)) p.client_app.reset();
    if (!(seen & kHostName)) p.host_name.reset();
    if (!(seen & kLoginName)) p.login_name.reset();
    if (!(seen & kDatabaseName)) p.database_name.reset();
    if (!(seen & kXdes)) p.xdes.reset();
    if (!(seen & kInputBuffer)) p.input_buffer.reset();
}

}  // namespace dmvlog::xe::detail
