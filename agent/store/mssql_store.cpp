#include "agent/store/mssql_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

#include "agent/core/time_format.h"
#include "agent/odbc/result.h"
#include "agent/store/mssql_sql.h"
#include "agent/store/schema_files.h"

namespace dmvlog::store {

namespace sql = mssql_sql;

namespace {

using mssql_sql::int_of;
using mssql_sql::text_of;

double real_of(const Value& v) {
    if (const auto* d = std::get_if<double>(&v)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    if (const auto* s = std::get_if<std::string>(&v)) return std::strtod(s->c_str(), nullptr);
    if (const auto* d = std::get_if<Decimal>(&v)) return std::strtod(d->digits.c_str(), nullptr);
    return 0;
}

std::string server_of(const std::string& cs) {
    for (const char* key : {"Server", "Servername", "DSN"})
        if (auto v = odbc::connection_attribute(cs, key)) {
            std::string out = *v;
            if (auto port = odbc::connection_attribute(cs, "Port")) out += "," + *port;
            if (auto db = odbc::connection_attribute(cs, "Database")) out += "/" + *db;
            return out;
        }
    return "?";
}

}  // namespace

std::string mssql_where(const std::string& connection) { return "sqlserver " + server_of(connection); }

void connect_store(odbc::Connection& conn, const MssqlOptions& options, const std::string& where, std::string_view app) {
    odbc::SecuredConnection secured;
    try {
        secured = odbc::secure_connection(options.connection, options.tls, "(store)");
        if (!secured.freetds_section.empty()) odbc::install_freetds_conf({secured.freetds_section});
    } catch (const std::exception& e) {
        throw StoreError(fmt::format("store {}: {}", where, e.what()));
    }
    for (const auto& w : secured.warnings) spdlog::warn("store {}: {}", where, w);
    std::string cs = secured.connection_string;
    if (!odbc::connection_attribute(cs, "APP")) cs += (cs.empty() ? "" : ";") + std::string("APP=") + std::string(app);
    try {
        conn.connect(cs, options.user, options.password, options.login_timeout);
        // Errors end the statement and roll back the transaction (no half-written snapshot), and a store in
        // another language or date format reads the times the same way.
        conn.execute(std::string(sql::kTag) + "SET XACT_ABORT ON; SET LOCK_TIMEOUT 30000; SET DATEFORMAT ymd;");
    } catch (const odbc::Error& e) {
        std::string hint = odbc::tls_failure_hint(e.what(), secured, options.tls);
        throw StoreError(fmt::format("store {}: cannot connect: {}{}", where, e.what(), hint.empty() ? "" : " (" + hint + ")"));
    }
}

MssqlStore::MssqlStore(const MssqlOptions& options)
    : options_(options), where_(mssql_where(options.connection)), conn_(env_, "store " + where_) {
    connect_store(conn_, options, where_, "dmvlog-store");
}

MssqlStore::~MssqlStore() = default;

[[noreturn]] void MssqlStore::fail(const std::string& what, const std::exception& e) {
    if (dynamic_cast<const StoreError*>(&e)) throw StoreError(e.what());
    throw StoreError(fmt::format("store {}: {}: {}", where_, what, e.what()));
}

void MssqlStore::ensure_connected() {
    if (conn_.connected() && !conn_.dead()) return;
    try {
        conn_.reconnect();
        conn_.execute(std::string(sql::kTag) + "SET XACT_ABORT ON; SET LOCK_TIMEOUT 30000; SET DATEFORMAT ymd;");
    } catch (const std::exception& e) {
        fail("reconnect", e);
    }
}

std::vector<Row> MssqlStore::query(const std::string& what, const std::string& text, const Params& params) {
    try {
        odbc::CollectingSink sink;
        conn_.run(text, params, options_.query_timeout, sink, what);
        if (sink.sets().empty()) return {};
        return std::move(sink.sets().front().rows);
    } catch (const std::exception& e) {
        fail(what, e);
    }
}

long long MssqlStore::exec(const std::string& what, const std::string& text, const Params& params) {
    try {
        return conn_.execute_rows(text, std::vector<Row>{params}, options_.query_timeout, nullptr, what);
    } catch (const std::exception& e) {
        fail(what, e);
    }
}

long long MssqlStore::exec_rows(const std::string& what, const std::string& text, const std::vector<Row>& rows) {
    if (rows.empty()) return 0;
    try {
        return conn_.execute_rows(text, rows, options_.query_timeout, nullptr, what);
    } catch (const std::exception& e) {
        fail(what, e);
    }
}

void MssqlStore::batch(const std::string& what, const std::string& text) {
    try {
        conn_.execute(text, options_.query_timeout, what);
    } catch (const std::exception& e) {
        fail(what, e);
    }
}

std::string MssqlStore::ddl(const std::vector<TableSpec>& tables) {
    std::string out;
    for (const auto& m : migrations("sqlserver")) {
        out += fmt::format("-- schema/sqlserver/{}\n", m.name);
        out += m.sql;
        out += "\nGO\n";
    }
    for (const auto& t : tables) {
        out += fmt::format("-- collector {}\n", t.collector);
        out += sql::create_table(t);
        out += "GO\n";
    }
    return out;
}

int MssqlStore::schema_version() {
    std::lock_guard lock(mu_);
    ensure_connected();
    auto present = query("look for the schema", sql::get("look for the schema"));
    if (present.empty() || int_of(present[0].at(0)) == 0) return 0;
    auto v = query("read the schema version", sql::get("read the schema version"));
    return v.empty() ? 0 : static_cast<int>(int_of(v[0].at(0)));
}

bool MssqlStore::table_exists(const std::string& table) {
    auto r = query("look for a table", sql::table_exists(table));
    return !r.empty() && int_of(r[0].at(0)) == 1;
}

void MssqlStore::install(const std::vector<TableSpec>& tables) {
    const int current = schema_version();
    std::lock_guard lock(mu_);
    // Every statement is idempotent (IF OBJECT_ID ... IS NULL): two agents installing at once both succeed,
    // or the loser of a race fails here and succeeds on the next attempt.
    transaction("install the schema", [&] {
        for (const auto& m : migrations("sqlserver")) {
            if (m.version <= current) continue;
            batch("migration " + m.name, std::string(m.sql));
            exec("record a migration", sql::get("record a migration"),
                 {Value(std::int64_t{m.version}), Value(now_text()), Value(m.name), Value(std::int64_t{m.version})});
        }
        for (const auto& t : tables) {
            batch("create table " + t.name, sql::create_table(t));
            std::string column_list;
            for (const auto& c : t.columns) {
                // Columns added to a declaration since the table was created are added to the table.
                batch("add column " + t.name + "." + c.name, sql::add_column(t, c));
                if (!column_list.empty()) column_list += ", ";
                column_list += c.name + " " + sql::column_type(c.storage);
            }
            const std::string now = now_text();
            if (exec("update collector_tables", sql::get("update collector_tables"),
                     {Value(t.collector), Value(column_list), Value(now), Value(t.name)}) == 0)
                exec("insert collector_tables", sql::get("insert collector_tables"),
                     {Value(t.name), Value(t.collector), Value(column_list), Value(now)});
            tables_[t.name] = t;
        }
        return 0;
    });
}

void MssqlStore::insert_run(const RunRecord& run) {
    exec("record collector run", sql::get("record collector run"),
         {Value(run.instance), Value(run.collector), Value(run.started_at), Value(run.duration_ms), Value(run.rows),
          Value(run.bytes), Value(run.status), run.error_class.empty() ? Value() : Value(run.error_class),
          run.error.empty() ? Value() : Value(run.error)});
}

bool MssqlStore::write(const Snapshot& snap, const RunRecord& run) {
    std::lock_guard lock(mu_);
    auto tit = tables_.find(snap.table);
    if (tit == tables_.end()) throw StoreError(fmt::format("store {}: table {} is not installed", where_, snap.table));
    const TableSpec& spec = tit->second;
    const std::string collected_at = format_timestamp(snap.collected_at);
    std::vector<std::int64_t> sent;
    const bool is_new = transaction("write snapshot " + snap.collector, [&] {
        const std::int64_t row_count = snap.part_offset + static_cast<std::int64_t>(snap.rows.size());
        // A later part extends the snapshots row its earlier parts made (store.h).
        const long long extended =
            snap.part_offset > 0
                ? exec("extend snapshot", sql::get("extend snapshot"),
                       {Value(row_count), Value(snap.instance), Value(snap.collector), Value(collected_at), Value(snap.part_offset)})
                : 0;
        const long long inserted =
            extended > 0 ? 0
                         : exec("insert snapshot", sql::get("insert snapshot"),
                                {Value(snap.instance), Value(snap.collector), Value(collected_at),
                                 Value(std::int64_t{snap.utc_offset_minutes}),
                                 snap.sqlserver_start_time ? Value(*snap.sqlserver_start_time) : Value(), Value(row_count),
                                 Value(now_text()), Value(snap.instance), Value(snap.collector), Value(collected_at)});
        if (extended == 0 && inserted == 0) return false;   // written before (a replay): its rows and run record are there
        // SQL text not known to be stored, in hash order (agents writing the same text take its locks in the
        // same order), one parameter array.
        std::vector<Row> texts;
        std::vector<const std::pair<std::int64_t, std::string>*> todo;
        for (const auto& t : snap.texts)
            if (!known_texts_.count(t.first)) todo.push_back(&t);
        std::sort(todo.begin(), todo.end(), [](auto* a, auto* b) { return a->first < b->first; });
        todo.erase(std::unique(todo.begin(), todo.end(), [](auto* a, auto* b) { return a->first == b->first; }), todo.end());
        for (const auto* t : todo) {
            texts.push_back({Value(t->first), Value(t->second), Value(collected_at), Value(t->first)});
            sent.push_back(t->first);
        }
        exec_rows("insert sql_text", sql::get("insert sql_text"), texts);
        // The rows: INSERTs of many rows each (VALUES (...), (...), ...), sent as one parameter array: a snapshot
        // of 1,000 rows is a few dozen executions in a few round trips. The rows that do not fill a last
        // INSERT go in one of their own size.
        const std::size_t per = sql::rows_per_insert(spec), width = spec.columns.size() + 3;
        std::vector<Row> groups, rest;
        Row group;
        for (std::size_t k = 0; k < snap.rows.size(); ++k) {
            const Row& r = snap.rows[k];
            group.reserve(width * per);
            group.emplace_back(snap.instance);
            group.emplace_back(collected_at);
            group.emplace_back(std::int64_t{snap.utc_offset_minutes});
            for (std::size_t i = 0; i < spec.columns.size(); ++i) group.push_back(i < r.size() ? r[i] : Value());
            if (group.size() == width * per) groups.push_back(std::move(group)), group = Row();
        }
        exec_rows("insert into " + spec.name, sql::insert_rows(spec, per), groups);
        if (!group.empty()) rest.push_back(std::move(group));
        if (!rest.empty()) exec_rows("insert into " + spec.name, sql::insert_rows(spec, rest[0].size() / width), rest);
        if (!run.collector.empty()) insert_run(run);
        return true;
    });
    if (is_new) {
        if (known_texts_.size() + sent.size() > kKnownTexts) known_texts_.clear();
        known_texts_.insert(sent.begin(), sent.end());
    }
    return is_new;
}

void MssqlStore::record_run(const RunRecord& run) {
    std::lock_guard lock(mu_);
    ensure_connected();
    insert_run(run);
}

std::vector<RunSummary> MssqlStore::run_summaries(int recent) {
    std::lock_guard lock(mu_);
    ensure_connected();
    auto r = query("run summaries", sql::get("run summaries"));
    std::vector<RunSummary> out;
    std::vector<double> durations;
    auto finish = [&] {
        if (!out.empty()) set_percentiles(out.back(), durations);
        durations.clear();
    };
    for (const auto& row : r) {
        const std::int64_t rn = int_of(row.at(9));
        if (rn == 1) {
            finish();
            RunSummary s;
            s.instance = text_of(row[0]);
            s.collector = text_of(row[1]);
            s.last_started_at = text_of(row[2]);
            s.last_status = text_of(row[4]);
            s.last_error = text_of(row[5]);
            s.last_rows = int_of(row[6]);
            s.runs = int_of(row[7]);
            s.failures = int_of(row[8]);
            out.push_back(std::move(s));
        }
        if (rn <= recent) durations.push_back(real_of(row[3]));
    }
    finish();
    return out;
}

std::optional<std::string> MssqlStore::oldest_before(const std::string& collector, const std::string& table,
                                                     const Timestamp& cutoff) {
    std::lock_guard lock(mu_);
    ensure_connected();
    const std::string cut = format_timestamp(cutoff);
    auto r = table == kXeTable ? query("oldest event", sql::get("oldest event"), {Value(cut)})
                               : query("oldest snapshot", sql::get("oldest snapshot"), {Value(collector), Value(cut)});
    if (r.empty() || is_null(r[0].at(0))) return std::nullopt;
    return text_of(r[0][0]);
}

PurgeResult MssqlStore::purge(const std::string& collector, const std::string& table, const Timestamp& cutoff, int max_snapshots) {
    std::lock_guard lock(mu_);
    if (table == kXeTable) return purge_xe_locked(collector, cutoff, max_snapshots);
    if (!tables_.count(table)) throw StoreError(fmt::format("store {}: purge of {}: table is not installed", where_, table));
    const std::string cut = format_timestamp(cutoff);
    const int limit = std::max(1, max_snapshots);
    return transaction("purge " + table, [&] {
        PurgeResult out;
        auto victims = query("snapshots to purge", sql::get("snapshots to purge"),
                             {Value(std::int64_t{limit + 1}), Value(collector), Value(cut)});
        if (static_cast<int>(victims.size()) > limit) {
            out.more = true;
            victims.resize(static_cast<std::size_t>(limit));
        }
        std::vector<Row> keys, ids;
        for (const auto& v : victims) {
            keys.push_back({v.at(1), Value(text_of(v.at(2)))});
            ids.push_back({v.at(0)});
        }
        out.rows += exec_rows("purge " + table, sql::delete_snapshot_rows(table), keys);
        exec_rows("purge snapshots", sql::get("purge snapshots"), ids);
        out.snapshots = static_cast<std::int64_t>(victims.size());
        out.runs = exec("purge collector_runs", sql::get("purge collector_runs"),
                        {Value(std::int64_t{limit * 10}), Value(collector), Value(cut)});
        return out;
    });
}

}  // namespace dmvlog::store
