#include "agent/blocking/xe_job.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/blocking/ring_buffer.h"
#include "agent/collect/snapshot_builder.h"
#include "agent/core/time_format.h"
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

// Result set 1 (the clock) and the row set, or a ShapeError naming the collector.
const odbc::ResultSet& row_set(const collect::CollectorDecl& decl, std::vector<odbc::ResultSet>& sets, store::XeBatch& out,
                               const Timestamp& started_at) {
    if (sets.size() < 2 || sets[0].rows.empty())
        throw collect::ShapeError("collector " + decl.name + ": the answer lacks the clock or the event rows");
    const auto& clock = sets[0].rows[0];
    if (auto p = clock.empty() ? nullptr : std::get_if<Timestamp>(&clock[0])) out.collected_at = *p;
    else out.collected_at = started_at;
    if (clock.size() > 1)
        if (auto p = std::get_if<std::int64_t>(&clock[1])) out.utc_offset_minutes = static_cast<int>(*p);
    return sets[1];
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
    : decl_(decl), xe_(xe), session_(session_of(decl, xe)), source_(source), store_(store), writer_(writer),
      state_(source.instance().name, decl.name, writer) {}

bool XeJob::disabled() const { return state_.disabled(); }

// Values of the declared bound params, by name: the session's file path, the session's name, the bookmark.
std::vector<Value> XeJob::bound_values(const store::XeBookmark& bookmark) const {
    std::vector<Value> out;
    for (const auto& p : decl_.bound_params) {
        if (p.name == "path") out.emplace_back(read_path(xe_.path));
        else if (p.name == "session_name") out.emplace_back(session_);
        else if (p.name == "initial_file_name")
            out.push_back(bookmark.file_name ? Value(*bookmark.file_name) : Value(std::monostate{}));
        else if (p.name == "initial_offset")
            out.push_back(bookmark.file_offset ? Value(*bookmark.file_offset) : Value(std::monostate{}));
        else
            throw std::runtime_error(fmt::format("collector {}: bound param @{} ({}) is not one the agent binds "
                                                 "(path, session_name, initial_file_name, initial_offset)",
                                                 decl_.name, p.name, decl_.declaration_file));
    }
    return out;
}

void XeJob::note_decision(const SourceDecision& d) {
    std::lock_guard lock(mu_);
    if (d.note == last_decision_) return;
    if (d.read || !last_decision_.empty()) spdlog::info("instance {}: collector {}: {}", instance(), decl_.name, d.note);
    else spdlog::debug("instance {}: collector {}: {}", instance(), decl_.name, d.note);
    last_decision_ = d.note;
}

std::string XeJob::read_event_file(collect::InstanceSource::Lease& lease, const std::string& batch,
                                   std::chrono::seconds timeout, store::XeBatch& out, std::int64_t& bytes) {
    const std::string context = "collector " + decl_.name;
    store::XeBookmark bookmark = store_.read_xe_bookmark(instance(), session_);
    odbc::CollectingSink sink;
    auto read = [&](const store::XeBookmark& from) {
        sink = odbc::CollectingSink();
        lease->run(batch, bound_values(from), timeout, sink, context);
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

    const auto& rs = row_set(decl_, sink.sets(), out, out.collected_at);
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
    std::int64_t passed_over = 0;
    for (std::size_t i = 0; i < keep; ++i) {
        const auto& row = rs.rows[i];
        const auto& data = row[static_cast<std::size_t>(c_data)];
        if (is_null(data)) {  // an event the query filtered out: it only moves the bookmark
            ++passed_over;
            continue;
        }
        store::XeEventRow ev;
        ev.object_name = text_of(row[static_cast<std::size_t>(c_name)]);
        ev.raw_xml = text_of(data);
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
    std::string note;
    if (passed_over) note += fmt::format("; {} other event(s) passed over", passed_over);
    if (keep < offsets.size()) note += "; a cut buffer is left for the next run";
    return note;
}

std::string XeJob::read_ring_buffer(collect::InstanceSource::Lease& lease, const std::string& batch,
                                    std::chrono::seconds timeout, store::XeBatch& out, std::int64_t& bytes) {
    const store::XeBookmark bookmark = store_.read_xe_bookmark(instance(), session_);
    odbc::CollectingSink sink;
    lease->run(batch, bound_values(bookmark), timeout, sink, "collector " + decl_.name);
    const auto& rs = row_set(decl_, sink.sets(), out, out.collected_at);
    const int c_data = column(rs.columns, "target_data");
    if (c_data < 0) throw collect::ShapeError(fmt::format("collector {}: the answer lacks column target_data", decl_.name));
    out.bookmark = bookmark;
    if (rs.rows.empty()) return fmt::format("; session {} has no ring_buffer target", session_);

    std::string note;
    std::vector<store::XeEventRow> rows;
    std::vector<RingEvent> keys;
    std::int64_t cut = 0;
    for (const auto& row : rs.rows) {
        const std::string xml = text_of(row[static_cast<std::size_t>(c_data)]);
        bytes += static_cast<std::int64_t>(xml.size());
        xe::ParseOptions popts;
        popts.keep_raw = true;
        xe::EventReader reader(std::string_view(xml), popts);
        xe::Event e;
        while (reader.next(e)) {
            // The target's XML is cut at its size limit: an event cut short there is read whole next time.
            if (e.error && e.error->what.starts_with("truncated")) {
                ++cut;
                continue;
            }
            store::XeEventRow r;
            r.raw_xml = std::move(e.raw_xml);
            e.raw_xml.clear();
            r.object_name = e.name;
            keys.push_back(RingEvent{e.timestamp ? std::optional(e.timestamp->utc_ticks) : std::nullopt,
                                     store::xe_content_hash(r.raw_xml)});
            r.event = std::move(e);
            rows.push_back(std::move(r));
            e = xe::Event();
        }
    }
    const auto sel = select_ring_events(keys, RingBookmark{bookmark.event_ticks, bookmark.event_hashes});
    for (auto i : sel.take) out.events.push_back(std::move(rows[i]));
    out.bookmark.event_ticks = sel.next.ticks;
    out.bookmark.event_hashes = sel.next.hashes;
    if (sel.possible_loss) {
        out.possible_losses = 1;
        spdlog::warn("instance {}: collector {}: the ring buffer of session {} wrapped past the bookmark ({}): its "
                     "oldest event is newer, events in between may be lost; read it more often or give it a larger "
                     "max_events_limit / max_memory",
                     instance(), decl_.name, session_, format_timestamp(Timestamp{*bookmark.event_ticks, 0, false}));
        note += "; possible loss: the buffer wrapped past the bookmark";
    }
    if (cut) note += fmt::format("; {} event(s) cut at the target's XML size limit, read next time", cut);
    return note;
}

collect::RunResult XeJob::run() {
    collect::RunResult result;
    if (state_.refuse_if_disabled(result)) return result;
    const Timestamp started_at = collect::utc_now();
    const auto now = clock_ ? clock_->now() : std::chrono::time_point_cast<sched::Duration>(std::chrono::system_clock::now());
    const auto pass = gate_.enter(instance(), decl_.name, started_at, now, state_, result);
    if (!pass) return result;
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
        const auto timeout = to_seconds_ceil(decl_.timeout);
        const auto decision = decide_source(decl_, xe_, read_session_status(*lease, timeout));
        note_decision(decision);
        if (!decision.read) {
            result.status = "ok";
            result.duration_ms = elapsed_ms();
            state_.succeeded();
            writer_.submit(store::RunRecord{instance(), decl_.name, started_at, result.duration_ms, 0, 0, "ok", "",
                                            decision.note});
            return result;
        }
        collect::BatchContext ctx;
        ctx.server_major_version = info ? info->major_version : 0;
        const std::string batch = collect::assemble_batch(decl_, ctx);

        store::XeBatch out;
        out.instance = instance();
        out.source = session_;
        out.collected_at = started_at;
        std::int64_t bytes = 0;
        std::string note = decl_.kind == "xe_ring_buffer" ? read_ring_buffer(lease, batch, timeout, out, bytes)
                                                          : read_event_file(lease, batch, timeout, out, bytes);
        std::int64_t parse_errors = 0;
        for (const auto& ev : out.events) {
            parse_errors += ev.event.error ? 1 : 0;
            if (ev.event.timestamp && (!result.newest_event_ticks || ev.event.timestamp->utc_ticks > *result.newest_event_ticks))
                result.newest_event_ticks = ev.event.timestamp->utc_ticks;
        }
        if (parse_errors) note += fmt::format("; {} event(s) with malformed XML, kept raw in xe_events", parse_errors);

        result.status = "ok";
        result.rows = static_cast<std::int64_t>(out.events.size());
        result.bytes = bytes;
        result.duration_ms = elapsed_ms();
        auto written = store_.write_xe(out, store::RunRecord{instance(), decl_.name, started_at, result.duration_ms,
                                                             result.rows, result.bytes, "ok", "", decision.note + note});
        if (parse_errors)
            spdlog::warn("instance {}: collector {}: {} event(s) with malformed XML kept raw", instance(), decl_.name,
                         parse_errors);
        spdlog::debug("instance {}: collector {}: {} new event(s), {} already stored, {} report(s), {} deadlock(s), "
                      "{} episode(s) rebuilt{}",
                      instance(), decl_.name, written.events_new, written.events_duplicate, written.reports,
                      written.deadlocks, written.episodes, note);
        state_.succeeded();
    } catch (...) {
        result.duration_ms = elapsed_ms();
        state_.record_current_exception(result, started_at, source_.info(), source_.stopping());
    }
    return result;
}

}  // namespace dmvlog::blocking
