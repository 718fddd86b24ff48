#include "agent/blocking/xe_job.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/collect/snapshot_builder.h"
#include "agent/odbc/classify.h"
#include "agent/odbc/connection.h"

namespace dmvlog::blocking {

namespace {

std::chrono::seconds to_seconds_ceil(std::chrono::milliseconds ms) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(ms + std::chrono::milliseconds(999));
    return std::max(s, std::chrono::seconds(1));
}

// The bookmark's file is gone (rolled over and deleted) or the offset is not in it.
bool is_bookmark_lost(const odbc::Error& e) { return e.has_native(25718) || e.has_native(25722); }

int column(const std::vector<odbc::ColumnInfo>& cols, std::string_view name) {
    for (std::size_t i = 0; i < cols.size(); ++i)
        if (cols[i].name == name) return static_cast<int>(i);
    return -1;
}

std::string text_of(const Value& v) {
    if (auto p = std::get_if<std::string>(&v)) return *p;
    return {};
}

}  // namespace

std::string read_path(const std::string& configured_path) {
    static constexpr std::string_view ext = ".xel";
    if (configured_path.size() >= ext.size() &&
        configured_path.compare(configured_path.size() - ext.size(), ext.size(), ext) == 0) {
        std::string stem = configured_path.substr(0, configured_path.size() - ext.size());
        if (!stem.empty() && stem.back() == '*') return configured_path;
        return stem + "*" + std::string(ext);
    }
    return configured_path;
}

std::size_t rows_to_keep(const std::vector<std::pair<std::string, std::int64_t>>& offsets, long long top_rows) {
    const std::size_t n = offsets.size();
    if (n == 0 || top_rows <= 0 || static_cast<long long>(n) < top_rows) return n;
    std::size_t keep = n;
    while (keep > 0 && offsets[keep - 1] == offsets.back()) --keep;
    return keep == 0 ? n : keep;  // one buffer larger than TOP: take it whole rather than never move on
}

XeJob::XeJob(const collect::CollectorDecl& decl, const config::Xe& xe, collect::InstanceSource& source,
             store::XeStore& store, store::Writer& writer)
    : decl_(decl), xe_(xe), source_(source), store_(store), writer_(writer), state_(source.instance().name, decl.name, writer) {}

bool XeJob::disabled() const { return state_.disabled(); }

collect::RunResult XeJob::run() {
    collect::RunResult result;
    if (state_.refuse_if_disabled(result)) return result;
    const Timestamp started_at = collect::utc_now();
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed_ms = [&] {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    try {
        auto lease = source_.acquire();
        auto info = source_.info();
        if (info && info->major_version > 0 && info->major_version < decl_.min_version) {
            result.duration_ms = elapsed_ms();
            state_.disable("incompatible",
                           fmt::format("needs {} or later; the server is {} {}", collect::product_name(decl_.min_version),
                                       collect::product_name(info->major_version), info->product_version),
                           result, started_at);
            return result;
        }
        collect::BatchContext ctx;
        ctx.server_major_version = info ? info->major_version : 0;
        const std::string batch = collect::assemble_batch(decl_, ctx);
        const auto timeout = to_seconds_ceil(decl_.timeout);
        const std::string context = "collector " + decl_.name;
        const std::string path = read_path(xe_.path);

        store::XeBookmark bookmark = store_.read_xe_bookmark(instance(), xe_.session);
        odbc::CollectingSink sink;
        auto read = [&](const store::XeBookmark& from) {
            sink = odbc::CollectingSink();
            std::vector<Value> params{Value(path),
                                      from.file_name ? Value(*from.file_name) : Value(std::monostate{}),
                                      from.file_offset ? Value(*from.file_offset) : Value(std::monostate{})};
            lease->run(batch, params, timeout, sink, context);
        };
        try {
            read(bookmark);
        } catch (const odbc::Error& e) {
            if (!bookmark.file_name || !is_bookmark_lost(e) || odbc::is_connection_lost(e)) throw;
            {
                std::lock_guard lock(mu_);
                if (!rollover_logged_)
                    spdlog::warn("instance {}: collector {}: the bookmark file {} (offset {}) is gone (rolled over); "
                                 "reading the session's files from the start, events already stored are skipped",
                                 instance(), decl_.name, *bookmark.file_name, *bookmark.file_offset);
                else
                    spdlog::debug("instance {}: collector {}: bookmark file {} gone again", instance(), decl_.name,
                                  *bookmark.file_name);
                rollover_logged_ = true;
            }
            bookmark.file_name.reset();
            bookmark.file_offset.reset();
            read(bookmark);
        }

        auto& sets = sink.sets();
        if (sets.size() < 2 || sets[0].rows.empty())
            throw collect::ShapeError("collector " + decl_.name + ": the answer lacks the clock or the event rows");
        store::XeBatch out;
        out.instance = instance();
        out.source = xe_.session;
        if (auto p = std::get_if<Timestamp>(&sets[0].rows[0][0])) out.collected_at = *p;
        else out.collected_at = started_at;
        const auto& rs = sets[1];
        const int c_name = column(rs.columns, "object_name"), c_data = column(rs.columns, "event_data"),
                  c_file = column(rs.columns, "file_name"), c_off = column(rs.columns, "file_offset");
        for (auto [c, n] : {std::pair{c_name, "object_name"}, {c_data, "event_data"}, {c_file, "file_name"},
                            {c_off, "file_offset"}})
            if (c < 0) throw collect::ShapeError(fmt::format("collector {}: the answer lacks column {}", decl_.name, n));

        std::vector<std::pair<std::string, std::int64_t>> offsets;
        offsets.reserve(rs.rows.size());
        for (const auto& row : rs.rows) {
            auto off = std::get_if<std::int64_t>(&row[static_cast<std::size_t>(c_off)]);
            offsets.emplace_back(text_of(row[static_cast<std::size_t>(c_file)]), off ? *off : 0);
        }
        long long top_rows = 0;
        for (const auto& [k, v] : decl_.params)
            if (k == "top_rows") top_rows = v;
        const std::size_t keep = rows_to_keep(offsets, top_rows);
        xe::ParseOptions popts;
        popts.keep_raw = true;
        std::int64_t bytes = 0;
        for (std::size_t i = 0; i < keep; ++i) {
            const auto& row = rs.rows[i];
            store::XeEventRow ev;
            ev.object_name = text_of(row[static_cast<std::size_t>(c_name)]);
            ev.raw_xml = text_of(row[static_cast<std::size_t>(c_data)]);
            ev.file_name = offsets[i].first;
            ev.file_offset = offsets[i].second;
            ev.event = xe::parse_event(ev.raw_xml, popts);
            ev.event.raw_xml.clear();  // raw_xml is kept in the row
            bytes += static_cast<std::int64_t>(ev.raw_xml.size());
            out.events.push_back(std::move(ev));
        }
        out.bookmark = bookmark;
        if (keep > 0) {
            out.bookmark.file_name = offsets[keep - 1].first;
            out.bookmark.file_offset = offsets[keep - 1].second;
        }
        std::int64_t parse_errors = 0;
        for (const auto& ev : out.events) parse_errors += ev.event.error ? 1 : 0;

        result.status = "ok";
        result.rows = static_cast<std::int64_t>(out.events.size());
        result.bytes = bytes;
        result.duration_ms = elapsed_ms();
        std::string note;
        if (parse_errors)
            note = fmt::format("{} event(s) with malformed XML, kept raw in xe_events", parse_errors);
        auto written = store_.write_xe(out, store::RunRecord{instance(), decl_.name, started_at, result.duration_ms,
                                                             result.rows, result.bytes, "ok", "", note});
        if (parse_errors)
            spdlog::warn("instance {}: collector {}: {} event(s) with malformed XML kept raw", instance(), decl_.name,
                         parse_errors);
        spdlog::debug("instance {}: collector {}: {} new event(s), {} already stored, {} report(s), {} deadlock(s), "
                      "{} episode(s) rebuilt{}",
                      instance(), decl_.name, written.events_new, written.events_duplicate, written.reports,
                      written.deadlocks, written.episodes, keep < offsets.size() ? "; a cut buffer is left for the next run" : "");
        state_.succeeded();
    } catch (...) {
        result.duration_ms = elapsed_ms();
        state_.record_current_exception(result, started_at, source_.info());
    }
    return result;
}

}  // namespace dmvlog::blocking
