// Turns the result sets of one collector run into a store Snapshot: result set 1 is the snapshot clock,
// result set 2 the rows, mapped by column name onto the declaration (text stored once, statements sliced).
#pragma once

#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/collect/declaration.h"
#include "agent/odbc/result.h"
#include "agent/store/store.h"

namespace dmvlog::collect {

// The server's answer does not have the shape the declaration promises (a missing column, no clock row).
// Treated as an incompatible error: the collector is disabled with this message.
class ShapeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class SnapshotBuilder final : public odbc::ResultSink {
public:
    SnapshotBuilder(const CollectorDecl& decl, std::string instance);

    void begin_result(const std::vector<odbc::ColumnInfo>& columns) override;
    void row(Row&& values) override;
    void end_result(long long row_count) override;

    // Per-database collectors: the next batch's rows belong to this database (database_id and database_name
    // are appended to each row). The first batch's clock is the snapshot's clock.
    void start_database(std::int64_t database_id, std::string database_name);

    // Hands the rows over in parts of at most `rows` rows while they arrive (store::Snapshot::part_offset), so
    // that a large answer is never in memory whole: when a row arrives and `rows` are waiting, those go to
    // `emit` first. take() returns the last part. 0 = one whole snapshot.
    using PartSink = std::function<void(store::Snapshot&&)>;
    void emit_parts(std::size_t rows, PartSink emit);

    // Throws ShapeError when the answer was incomplete (no clock, or no row result set).
    store::Snapshot take();
    std::int64_t bytes() const { return bytes_; }
    // Rows of the whole answer: those handed over in parts and those still held.
    std::int64_t rows() const { return snap_.part_offset + static_cast<std::int64_t>(snap_.rows.size()); }

private:
    void add_text(Row& out, const Value& v);
    Timestamp to_utc(Timestamp server_local) const;

    const CollectorDecl& decl_;
    store::Snapshot snap_;
    int result_index_ = -1;
    bool have_clock_ = false;
    bool have_rows_ = false;
    std::vector<int> column_index_;      // per declared column: index in the row result set
    struct DerivedIndex {
        int text = -1, start = -1, end = -1;
    };
    std::vector<DerivedIndex> derived_index_;
    std::set<std::int64_t> seen_texts_;
    std::int64_t bytes_ = 0;
    std::size_t part_rows_ = 0;
    PartSink emit_;
    bool per_database_ = false;
    std::int64_t database_id_ = 0;
    std::string database_name_;
};

}  // namespace dmvlog::collect
