#include "agent/collect/snapshot_builder.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include "agent/collect/statement_slice.h"

namespace dmvlog::collect {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

int find_column(const std::vector<odbc::ColumnInfo>& cols, std::string_view name) {
    for (std::size_t i = 0; i < cols.size(); ++i)
        if (iequals(cols[i].name, name)) return static_cast<int>(i);
    return -1;
}

std::optional<long long> as_int(const Value& v) {
    if (auto p = std::get_if<std::int64_t>(&v)) return *p;
    return std::nullopt;
}

std::int64_t value_bytes(const Value& v) {
    return std::visit(
        [](const auto& x) -> std::int64_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, Bytes>) return static_cast<std::int64_t>(x.size());
            else if constexpr (std::is_same_v<T, Decimal>) return static_cast<std::int64_t>(x.digits.size());
            else if constexpr (std::is_same_v<T, std::monostate>) return 0;
            else return 8;
        },
        v);
}

}  // namespace

SnapshotBuilder::SnapshotBuilder(const CollectorDecl& decl, std::string instance) : decl_(decl) {
    snap_.instance = std::move(instance);
    snap_.collector = decl.name;
    snap_.table = decl.table;
}

void SnapshotBuilder::start_database(std::int64_t database_id, std::string database_name) {
    per_database_ = true;
    database_id_ = database_id;
    database_name_ = std::move(database_name);
    result_index_ = -1;
}

void SnapshotBuilder::emit_parts(std::size_t rows, PartSink emit) {
    part_rows_ = rows;
    emit_ = std::move(emit);
}

void SnapshotBuilder::begin_result(const std::vector<odbc::ColumnInfo>& columns) {
    ++result_index_;
    if (result_index_ == 0) {
        for (const char* name : {"collected_at", "utc_offset_minutes"}) {
            if (find_column(columns, name) < 0)
                throw ShapeError(fmt::format("collector {}: the snapshot clock result has no column {}", decl_.name, name));
        }
        column_index_ = {find_column(columns, "collected_at"), find_column(columns, "utc_offset_minutes"),
                         find_column(columns, "sqlserver_start_time")};
        return;
    }
    if (result_index_ > 1) return;  // extra result sets are ignored
    have_rows_ = true;
    column_index_.clear();
    std::vector<std::string> missing;
    for (const auto& c : decl_.columns) {
        int idx = find_column(columns, c.name);
        if (idx < 0) missing.push_back(c.name);
        column_index_.push_back(idx);
    }
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
        throw ShapeError(fmt::format("collector {}: the server's result lacks declared column(s) {} (declared in {})",
                                     decl_.name, list, decl_.declaration_file));
    }
    derived_index_.clear();
    for (const auto& d : decl_.derived) {
        derived_index_.push_back(
            {find_column(columns, d.text_column), find_column(columns, d.start_column), find_column(columns, d.end_column)});
    }
}

Timestamp SnapshotBuilder::to_utc(Timestamp local) const {
    // A zone-less value read as if it were UTC: shift it by the server's offset at the snapshot.
    if (!local.has_offset) local.utc_ticks -= static_cast<std::int64_t>(snap_.utc_offset_minutes) * 60 * 10'000'000;
    return local;
}

void SnapshotBuilder::add_text(Row& out, const Value& v) {
    const auto* s = std::get_if<std::string>(&v);
    if (!s) {
        out.emplace_back();
        return;
    }
    auto h = store::text_hash(*s);
    out.emplace_back(h);
    if (seen_texts_.insert(h).second) snap_.texts.emplace_back(h, *s);
}

void SnapshotBuilder::row(Row&& values) {
    for (const auto& v : values) bytes_ += value_bytes(v);
    if (result_index_ == 0) {
        if (have_clock_) return;
        const auto& at = values.at(static_cast<std::size_t>(column_index_[0]));
        const auto* ts = std::get_if<Timestamp>(&at);
        if (!ts) throw ShapeError(fmt::format("collector {}: collected_at is not a timestamp", decl_.name));
        snap_.collected_at = *ts;
        if (auto off = as_int(values.at(static_cast<std::size_t>(column_index_[1])))) snap_.utc_offset_minutes = static_cast<int>(*off);
        if (column_index_[2] >= 0) {
            if (const auto* st = std::get_if<Timestamp>(&values.at(static_cast<std::size_t>(column_index_[2]))))
                snap_.sqlserver_start_time = to_utc(*st);
        }
        have_clock_ = true;
        return;
    }
    if (result_index_ != 1) return;
    if (part_rows_ > 0 && emit_ && snap_.rows.size() >= part_rows_) {
        // The part goes with the texts first seen in it; the next starts after its rows.
        store::Snapshot part;
        part.instance = snap_.instance;
        part.collector = snap_.collector;
        part.table = snap_.table;
        part.collected_at = snap_.collected_at;
        part.utc_offset_minutes = snap_.utc_offset_minutes;
        part.sqlserver_start_time = snap_.sqlserver_start_time;
        part.part_offset = snap_.part_offset;
        part.rows.swap(snap_.rows);
        part.texts.swap(snap_.texts);
        snap_.part_offset += static_cast<std::int64_t>(part.rows.size());
        emit_(std::move(part));
    }
    // Derived slices first, from the values as received (nothing has been moved yet).
    std::vector<Value> derived;
    derived.reserve(decl_.derived.size());
    for (const auto& di : derived_index_) {
        const std::string* batch = di.text >= 0 ? std::get_if<std::string>(&values[static_cast<std::size_t>(di.text)]) : nullptr;
        if (!batch) {
            derived.emplace_back();
            continue;
        }
        auto start = di.start >= 0 ? as_int(values[static_cast<std::size_t>(di.start)]) : std::nullopt;
        auto end = di.end >= 0 ? as_int(values[static_cast<std::size_t>(di.end)]) : std::nullopt;
        derived.emplace_back(slice_statement(*batch, start, end));
    }
    Row out;
    out.reserve(decl_.columns.size() + decl_.derived.size());
    for (std::size_t i = 0; i < decl_.columns.size(); ++i) {
        auto& v = values[static_cast<std::size_t>(column_index_[i])];
        if (decl_.columns[i].text) {
            add_text(out, v);
        } else if (decl_.columns[i].is_local_time() && std::holds_alternative<Timestamp>(v)) {
            out.emplace_back(to_utc(std::get<Timestamp>(v)));
        } else {
            out.push_back(std::move(v));
        }
    }
    for (const auto& d : derived) add_text(out, d);
    if (per_database_) {
        out.emplace_back(database_id_);
        out.emplace_back(database_name_);
    }
    snap_.rows.push_back(std::move(out));
}

void SnapshotBuilder::end_result(long long) {}

store::Snapshot SnapshotBuilder::take() {
    if (!have_clock_) throw ShapeError(fmt::format("collector {}: the server did not return the snapshot clock row", decl_.name));
    if (!have_rows_ && !per_database_) throw ShapeError(fmt::format("collector {}: the server returned no row result set", decl_.name));
    return std::move(snap_);
}

}  // namespace dmvlog::collect
