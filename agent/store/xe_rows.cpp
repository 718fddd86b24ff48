#include "agent/store/xe_rows.h"

#include <charconv>

#include "agent/core/time_format.h"
#include "agent/store/store.h"
#include "agent/store/xe_store.h"

namespace dmvlog::store::xe_rows {

const std::vector<std::string_view> kEventColumns = {"instance", "source", "event_name", "event_time", "file_name",
                                                     "file_offset", "content_hash", "raw_xml", "parse_error",
                                                     "collected_at"};
const std::vector<std::string_view> kReportColumns = {
    "instance", "event_time", "monitor_loop", "database_id", "object_id", "index_id", "lock_mode", "duration_ms",
    "wait_resource", "wait_resource_type", "wait_database_id", "wait_hobt_id", "wait_object_id", "blocked_spid",
    "blocked_ecid", "blocked_status", "blocked_wait_time_ms", "blocked_lock_mode", "blocked_login", "blocked_host",
    "blocked_app", "blocked_transaction_name", "blocked_last_tran_started", "blocked_isolation_level",
    "blocked_database_id", "blocked_input_buffer_hash", "blocked_sql_handle", "blocked_stmt_start", "blocked_stmt_end",
    "blocking_spid", "blocking_ecid", "blocking_status", "blocking_wait_resource", "blocking_login", "blocking_host",
    "blocking_app", "blocking_transaction_name", "blocking_last_tran_started", "blocking_isolation_level",
    "blocking_trancount", "blocking_input_buffer_hash", "blocking_sql_handle", "head_blocker"};
const std::vector<std::string_view> kDeadlockColumns = {"instance",     "event_time",    "victims",
                                                        "victim_spids", "process_count", "resource_count"};
const std::vector<std::string_view> kProcessColumns = {
    "instance", "event_time", "process_id", "victim", "spid", "ecid", "wait_resource", "lock_mode", "transaction_name",
    "login", "host", "app", "isolation_level", "database_id", "input_buffer_hash", "sql_handle"};
const std::vector<std::string_view> kResourceColumns = {"instance",   "event_time", "resource_type", "database_id",
                                                        "object_name", "index_name", "mode",          "owners",
                                                        "waiters"};
const std::vector<std::string_view> kEpisodeColumns = {
    "instance", "head_spid", "head_last_tran_started", "head_status", "head_login", "head_host", "head_app",
    "head_transaction_name", "head_input_buffer_hash", "start_time", "end_time", "duration_s", "reports",
    "monitor_passes", "sessions_blocked", "max_sessions_blocked", "max_wait_ms", "blocked_session_seconds", "resources",
    "live_snapshots"};
const std::vector<std::string_view> kEpisodeInputColumns = {
    "event_time", "monitor_loop", "blocked_spid", "blocked_wait_time_ms", "wait_resource", "blocking_spid",
    "blocking_last_tran_started", "blocking_status", "blocking_login", "blocking_host", "blocking_app",
    "blocking_transaction_name", "blocking_input_buffer_hash"};

namespace {

Value opt(const std::optional<std::string>& v) { return v ? Value(*v) : Value(); }
Value opt(const std::optional<std::int64_t>& v) { return v ? Value(*v) : Value(); }

std::optional<std::string> wait_raw(const xe::Process& p) {
    if (!p.wait_resource || p.wait_resource->raw.empty()) return std::nullopt;
    return p.wait_resource->raw;
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += ",";
        out += p;
    }
    return out;
}

std::string requests_list(const std::vector<xe::LockRequest>& list) {
    std::vector<std::string> parts;
    for (const auto& r : list) parts.push_back(r.mode ? r.id + ":" + *r.mode : r.id);
    return join(parts);
}

// An input buffer, stored once in sql_text: its hash (NULL for none).
Value text_ref(const std::optional<std::string>& text, Texts& texts) {
    if (!text || text->empty()) return {};
    const auto h = text_hash(*text);
    texts.emplace_back(h, *text);
    return h;
}

std::optional<std::int64_t> to_int(const std::optional<std::string>& s) {
    if (!s) return std::nullopt;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || p != s->data() + s->size()) return std::nullopt;
    return v;
}

}  // namespace

std::optional<std::string> event_time_text(const xe::Event& ev) {
    if (!ev.timestamp) return std::nullopt;
    return format_timestamp(*ev.timestamp);
}

Row event(const std::string& instance, const std::string& source, const std::string& object_name,
          const std::string& raw_xml, const std::string& file_name, std::int64_t file_offset, const xe::Event& ev,
          const std::string& collected_at) {
    Row r;
    r.reserve(kEventColumns.size());
    r.emplace_back(instance);
    r.emplace_back(source);
    r.emplace_back(!ev.name.empty() ? ev.name : object_name);
    r.push_back(opt(event_time_text(ev)));
    if (file_name.empty()) {
        r.emplace_back();
        r.emplace_back();
    } else {
        r.emplace_back(file_name);
        r.emplace_back(file_offset);
    }
    r.emplace_back(xe_content_hash(raw_xml));
    r.emplace_back(raw_xml);
    r.push_back(ev.error ? Value(ev.error->describe()) : Value());
    r.emplace_back(collected_at);
    return r;
}

Row report(const std::string& instance, const std::optional<std::string>& event_time, const xe::BlockedProcessReport& rep,
           int utc_offset_minutes, Texts& texts) {
    const auto& bd = rep.blocked;
    const auto& bg = rep.blocking;
    const xe::Frame* frame = bd.frames.empty() ? nullptr : &bd.frames.front();
    const xe::Frame* bframe = bg.frames.empty() ? nullptr : &bg.frames.front();
    const xe::WaitResource* wr = bd.wait_resource ? &*bd.wait_resource : nullptr;
    Row r;
    r.reserve(kReportColumns.size());
    r.emplace_back(instance);
    r.push_back(opt(event_time));
    r.push_back(opt(rep.monitor_loop));
    r.push_back(opt(rep.database_id));
    r.push_back(opt(rep.object_id));
    r.push_back(opt(rep.index_id));
    r.push_back(opt(rep.lock_mode));
    r.push_back(rep.duration_us ? Value(static_cast<double>(*rep.duration_us) / 1000.0) : Value());
    r.push_back(opt(wait_raw(bd)));
    r.push_back(wr ? Value(std::string(xe::to_string(wr->kind))) : Value());
    r.push_back(opt(wr ? wr->database_id : std::nullopt));
    r.push_back(opt(wr ? wr->hobt_id : std::nullopt));
    r.push_back(opt(wr ? wr->object_id : std::nullopt));
    r.push_back(opt(bd.spid));
    r.push_back(opt(bd.ecid));
    r.push_back(opt(bd.status));
    r.push_back(opt(bd.wait_time_ms));
    r.push_back(opt(bd.lock_mode));
    r.push_back(opt(bd.login_name));
    r.push_back(opt(bd.host_name));
    r.push_back(opt(bd.client_app));
    r.push_back(opt(bd.transaction_name));
    r.push_back(opt(report_time_utc(bd.last_tran_started, utc_offset_minutes)));
    r.push_back(opt(bd.isolation_level));
    r.push_back(opt(bd.database_id));
    r.push_back(text_ref(bd.input_buffer, texts));
    r.push_back(opt(frame ? frame->sql_handle : std::nullopt));
    r.push_back(opt(frame ? frame->stmt_start : std::nullopt));
    r.push_back(opt(frame ? frame->stmt_end : std::nullopt));
    r.push_back(opt(bg.spid));
    r.push_back(opt(bg.ecid));
    r.push_back(opt(bg.status));
    r.push_back(opt(wait_raw(bg)));
    r.push_back(opt(bg.login_name));
    r.push_back(opt(bg.host_name));
    r.push_back(opt(bg.client_app));
    r.push_back(opt(bg.transaction_name));
    r.push_back(opt(report_time_utc(bg.last_tran_started, utc_offset_minutes)));
    r.push_back(opt(bg.isolation_level));
    r.push_back(opt(bg.trancount));
    r.push_back(text_ref(bg.input_buffer, texts));
    r.push_back(opt(bframe ? bframe->sql_handle : std::nullopt));
    r.emplace_back(std::int64_t{rep.head_blocker() ? 1 : 0});
    return r;
}

std::string deadlock_victims(const xe::DeadlockReport& d) { return join(d.victims); }

Row deadlock(const std::string& instance, const std::optional<std::string>& event_time, const xe::DeadlockReport& d) {
    std::vector<std::string> victim_spids;
    for (const auto& v : d.victims)
        if (const auto* p = d.process(v); p && p->spid) victim_spids.push_back(std::to_string(*p->spid));
    return Row{instance,
               opt(event_time),
               deadlock_victims(d),
               join(victim_spids),
               static_cast<std::int64_t>(d.processes.size()),
               static_cast<std::int64_t>(d.resources.size())};
}

std::vector<Row> processes(const std::string& instance, const std::optional<std::string>& event_time,
                           const xe::DeadlockReport& d, Texts& texts) {
    std::vector<Row> out;
    for (const auto& p : d.processes) {
        const xe::Frame* frame = p.frames.empty() ? nullptr : &p.frames.front();
        out.push_back(Row{instance, opt(event_time), opt(p.id), std::int64_t{p.id && d.is_victim(*p.id) ? 1 : 0},
                          opt(p.spid), opt(p.ecid), opt(wait_raw(p)), opt(p.lock_mode), opt(p.transaction_name),
                          opt(p.login_name), opt(p.host_name), opt(p.client_app), opt(p.isolation_level),
                          opt(p.database_id), text_ref(p.input_buffer, texts),
                          opt(frame ? frame->sql_handle : std::nullopt)});
    }
    return out;
}

std::vector<Row> resources(const std::string& instance, const std::optional<std::string>& event_time,
                           const xe::DeadlockReport& d) {
    std::vector<Row> out;
    for (const auto& res : d.resources)
        out.push_back(Row{instance, opt(event_time), res.type, opt(res.database_id), opt(res.object_name),
                          opt(res.index_name), opt(res.mode), requests_list(res.owners), requests_list(res.waiters)});
    return out;
}

Row episode(const std::string& instance, const blocking::Episode& ep, std::int64_t live_snapshots) {
    return Row{instance,
               ep.head_spid,
               ep.head_last_tran_started,
               ep.head_status,
               ep.head_login,
               ep.head_host,
               ep.head_app,
               ep.head_transaction_name,
               opt(ep.head_input_buffer_hash),
               format_timestamp(ep.start),
               format_timestamp(ep.end),
               ep.duration_s(),
               std::int64_t{ep.reports},
               std::int64_t{ep.passes},
               std::int64_t{ep.sessions_blocked},
               std::int64_t{ep.max_sessions_blocked},
               ep.max_wait_ms,
               ep.blocked_session_seconds,
               ep.resources,
               live_snapshots};
}

std::optional<blocking::ReportRow> report_row(const std::vector<std::optional<std::string>>& c) {
    if (c.size() != kEpisodeInputColumns.size() || !c[0] || !c[2] || !c[5]) return std::nullopt;
    auto t = parse_timestamp(*c[0]);
    if (!t) return std::nullopt;
    blocking::ReportRow r;
    r.event_time = *t;
    r.monitor_loop = to_int(c[1]);
    r.blocked_spid = to_int(c[2]).value_or(0);
    // blocked_wait_time_ms may come back as a real ("1234.0") from some stores
    r.blocked_wait_ms = c[3] ? static_cast<std::int64_t>(std::strtod(c[3]->c_str(), nullptr)) : 0;
    r.wait_resource = c[4].value_or("");
    r.blocking_spid = to_int(c[5]).value_or(0);
    r.blocking_last_tran_started = c[6].value_or("");
    r.blocking_status = c[7].value_or("");
    r.blocking_login = c[8].value_or("");
    r.blocking_host = c[9].value_or("");
    r.blocking_app = c[10].value_or("");
    r.blocking_transaction_name = c[11].value_or("");
    r.blocking_input_buffer_hash = to_int(c[12]);
    return r;
}

std::string column_list(const std::vector<std::string_view>& columns) {
    std::string out;
    for (auto c : columns) {
        if (!out.empty()) out += ", ";
        out += c;
    }
    return out;
}

std::string join_ints(const std::vector<std::int64_t>& v) {
    std::string out;
    for (auto x : v) {
        if (!out.empty()) out += ",";
        out += std::to_string(x);
    }
    return out;
}

std::vector<std::int64_t> split_ints(std::string_view text) {
    std::vector<std::int64_t> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const auto part = text.substr(0, comma);
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (ec == std::errc() && p == part.data() + part.size()) out.push_back(v);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace dmvlog::store::xe_rows
