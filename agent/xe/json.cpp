#include "agent/xe/json.h"

#include <fmt/format.h>

#include "agent/core/time_format.h"

namespace dmvlog::xe {

namespace {

using json = nlohmann::ordered_json;

template <typename T>
json opt(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

json wait_resource_info(const std::optional<WaitResource>& w) {
    if (!w || w->kind == WaitResourceKind::none) return nullptr;
    json j;
    j["kind"] = std::string(to_string(w->kind));
    auto put = [&](const char* k, const std::optional<std::int64_t>& v) {
        if (v) j[k] = *v;
    };
    put("database_id", w->database_id);
    put("hobt_id", w->hobt_id);
    put("allocation_unit_id", w->allocation_unit_id);
    put("file_id", w->file_id);
    put("page_id", w->page_id);
    put("slot", w->slot);
    put("object_id", w->object_id);
    put("index_id", w->index_id);
    put("lock_partition", w->lock_partition);
    put("principal_id", w->principal_id);
    if (!w->key_hash.empty()) j["hash"] = w->key_hash;
    if (!w->name.empty()) j["name"] = w->name;
    if (!w->subresource.empty()) j["subresource"] = w->subresource;
    return j;
}

json frames_json(const std::vector<Frame>& frames) {
    json a = json::array();
    for (const auto& f : frames) {
        json j;
        j["line"] = opt(f.line);
        j["sql_handle"] = opt(f.sql_handle);
        j["stmt_start"] = opt(f.stmt_start);
        j["stmt_end"] = opt(f.stmt_end);
        j["proc_name"] = opt(f.proc_name);
        j["query_hash"] = opt(f.query_hash);
        j["query_plan_hash"] = opt(f.query_plan_hash);
        j["text"] = opt(f.text);
        a.push_back(std::move(j));
    }
    return a;
}

json process_json(const Process& p, const DeadlockReport* graph) {
    json j;
    if (graph) {
        j["id"] = opt(p.id);
        j["victim"] = p.id ? graph->is_victim(*p.id) : false;
    }
    j["spid"] = opt(p.spid);
    j["ecid"] = opt(p.ecid);
    j["status"] = opt(p.status);
    j["wait_resource"] = p.wait_resource ? json(p.wait_resource->raw) : json(nullptr);
    j["wait_resource_info"] = wait_resource_info(p.wait_resource);
    j["wait_time_ms"] = opt(p.wait_time_ms);
    j["lock_mode"] = opt(p.lock_mode);
    j["transaction_name"] = opt(p.transaction_name);
    j["last_tran_started"] = opt(p.last_tran_started);
    j["isolation_level"] = opt(p.isolation_level);
    j["trancount"] = opt(p.trancount);
    j["client_app"] = opt(p.client_app);
    j["host_name"] = opt(p.host_name);
    j["host_pid"] = opt(p.host_pid);
    j["login_name"] = opt(p.login_name);
    j["database_id"] = opt(p.database_id);
    j["database_name"] = opt(p.database_name);
    j["last_batch_started"] = opt(p.last_batch_started);
    j["last_batch_completed"] = opt(p.last_batch_completed);
    j["log_used"] = opt(p.log_used);
    j["input_buffer"] = opt(p.input_buffer);
    j["frames"] = frames_json(p.frames);
    return j;
}

json requests_json(const std::vector<LockRequest>& list, bool waiters) {
    json a = json::array();
    for (const auto& r : list) {
        json j;
        j["id"] = r.id;
        j["mode"] = opt(r.mode);
        if (waiters) j["request_type"] = opt(r.request_type);
        a.push_back(std::move(j));
    }
    return a;
}

std::string error_text(const Event& e) {
    return e.error->describe() + " (input byte " + std::to_string(e.input_offset + e.error->offset) + ")";
}

// Whitespace runs collapsed, cut to max_chars characters (UTF-8 aware).
std::string squeeze(std::string_view s, std::size_t max_chars) {
    std::string out;
    bool space = false;
    std::size_t chars = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = !out.empty();
            continue;
        }
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
            if (chars + (space ? 1 : 0) >= max_chars) {
                out += "...";
                return out;
            }
            if (space) {
                out.push_back(' ');
                ++chars;
                space = false;
            }
            ++chars;
        }
        out.push_back(c);
    }
    return out;
}

std::string num(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "?"; }

std::string spid_text(const Process& p) {
    std::string s = "spid " + num(p.spid);
    if (p.ecid && *p.ecid != 0) s += "/" + std::to_string(*p.ecid);
    return s;
}

}  // namespace

std::string format_event_time(const Timestamp& ts) {
    CivilTime c = civil_from_ticks(ts.utc_ticks);
    if (c.ticks % 10000 == 0)
        return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", c.year, c.month, c.day, c.hour, c.minute,
                           c.second, c.ticks / 10000);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z", c.year, c.month, c.day, c.hour, c.minute,
                       c.second, c.ticks);
}

nlohmann::ordered_json to_json(const Event& e) {
    json j;
    j["event"] = e.type == EventType::other ? (e.name.empty() ? json(nullptr) : json(e.name))
                                            : json(std::string(to_string(e.type)));
    j["event_time"] = e.timestamp ? json(format_event_time(*e.timestamp)) : json(nullptr);
    const auto* r = e.type == EventType::blocked_process_report ? e.blocked_process_report() : nullptr;
    const auto* d = e.type == EventType::xml_deadlock_report ? e.deadlock_report() : nullptr;
    if (r) {
        j["monitor_loop"] = opt(r->monitor_loop);
        j["head_blocker"] = !e.error && r->head_blocker();
        j["duration_us"] = opt(r->duration_us);
        j["database_id"] = opt(r->database_id);
        j["database_name"] = opt(r->database_name);
        j["object_id"] = opt(r->object_id);
        j["index_id"] = opt(r->index_id);
        j["lock_mode"] = opt(r->lock_mode);
        j["transaction_id"] = opt(r->transaction_id);
        j["blocked"] = process_json(r->blocked, nullptr);
        j["blocking"] = r->has_blocking ? process_json(r->blocking, nullptr) : json(nullptr);
    } else if (d) {
        j["victims"] = d->victims;
        json procs = json::array();
        for (const auto& p : d->processes) procs.push_back(process_json(p, d));
        j["processes"] = std::move(procs);
        json res = json::array();
        for (const auto& lr : d->resources) {
            json x;
            x["type"] = lr.type;
            x["id"] = opt(lr.id);
            x["database_id"] = opt(lr.database_id);
            x["object_name"] = opt(lr.object_name);
            x["index_name"] = opt(lr.index_name);
            x["mode"] = opt(lr.mode);
            x["hobt_id"] = opt(lr.hobt_id);
            x["associated_object_id"] = opt(lr.associated_object_id);
            x["wait_type"] = opt(lr.wait_type);
            x["node_id"] = opt(lr.node_id);
            x["owners"] = requests_json(lr.owners, false);
            x["waiters"] = requests_json(lr.waiters, true);
            res.push_back(std::move(x));
        }
        j["resources"] = std::move(res);
    }
    j["parse_error"] = e.error ? json(error_text(e)) : json(nullptr);
    if (e.error) j["raw_xml"] = e.raw_xml;
    return j;
}

std::string to_json_line(const Event& e) {
    return to_json(e).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string to_table_line(const Event& e) {
    std::string when = e.timestamp ? format_event_time(*e.timestamp) : std::string("-");
    std::string out = fmt::format("{:<24}  ", when);
    if (e.type == EventType::blocked_process_report) {
        const auto& r = *e.blocked_process_report();
        out += "blocked  loop " + num(r.monitor_loop) + "  " + spid_text(r.blocked);
        out += " waits " + num(r.blocked.wait_time_ms) + " ms";
        if (r.blocked.lock_mode) out += " for " + *r.blocked.lock_mode;
        if (r.blocked.wait_resource) out += " on " + squeeze(r.blocked.wait_resource->raw, 60);
        if (r.has_blocking) {
            out += "  <- " + spid_text(r.blocking);
            if (r.blocking.status) out += " (" + *r.blocking.status + ")";
            if (!e.error && r.head_blocker()) out += " HEAD BLOCKER";
        }
        auto db = r.blocked.database_name ? *r.blocked.database_name : r.database_name.value_or("");
        if (!db.empty()) out += "  db " + db;
        if (r.blocked.input_buffer) out += "  \"" + squeeze(*r.blocked.input_buffer, 60) + "\"";
    } else if (e.type == EventType::xml_deadlock_report) {
        const auto& d = *e.deadlock_report();
        out += "deadlock  " + std::to_string(d.processes.size()) + " processes (";
        for (std::size_t i = 0; i < d.processes.size(); ++i) {
            if (i) out += ", ";
            out += spid_text(d.processes[i]);
            if (d.processes[i].id && d.is_victim(*d.processes[i].id)) out += " victim";
        }
        out += ")  resources: ";
        for (std::size_t i = 0; i < d.resources.size(); ++i) {
            if (i) out += ", ";
            const auto& r = d.resources[i];
            out += r.type;
            if (r.object_name) out += " " + *r.object_name;
            if (r.index_name) out += "." + *r.index_name;
            if (r.wait_type) out += " " + *r.wait_type;
        }
        if (d.resources.empty()) out += "-";
    } else {
        out += e.name.empty() ? "unknown" : e.name;
    }
    if (e.error) out += "  PARSE ERROR: " + error_text(e);
    return out;
}

}  // namespace dmvlog::xe
