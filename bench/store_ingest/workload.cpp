#include "bench/store_ingest/workload.h"

#include <random>
#include <set>
#include <stdexcept>

#include "agent/collect/declaration.h"
#include "agent/core/time_format.h"

namespace dmvlog::bench {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// SQL text as servers hold it: CRLF line breaks, tab indents, a few hundred to a few thousand characters.
std::string batch_text(std::mt19937_64& rng, int q) {
    std::string t = "/* app: orders service, query " + std::to_string(q) + " */\r\nSELECT";
    const int columns = 3 + static_cast<int>(rng() % 40);
    for (int c = 0; c < columns; ++c)
        t += (c ? ",\r\n\t" : "\r\n\t") + std::string("o.column_") + std::to_string(rng() % 500) + " AS [c" +
             std::to_string(c) + "]";
    t += "\r\nFROM dbo.orders_" + std::to_string(q % 97) + " AS o\r\n\tJOIN dbo.customers AS c ON c.id = o.customer_id";
    t += "\r\nWHERE o.status = @p1 AND o.created >= @p2 AND c.region = N'" + std::string(q % 5 == 0 ? "Zürich" : "north") +
         "'\r\nOPTION (RECOMPILE);\r\n";
    if (q % 3 == 0) t += "UPDATE dbo.stats SET hits = hits + 1 WHERE name = 'path\\to\\item';\r\n";
    return t;
}

}  // namespace

store::TableSpec builtin_spec(const std::string& collector) {
    for (const auto& d : collect::load_builtin())
        if (d.name == collector) return store::table_spec(d);
    throw std::runtime_error("no built-in collector " + collector);
}

Workload::Workload(const store::TableSpec& spec, const Shape& shape, std::int64_t start_ticks, std::uint64_t seed)
    : spec_(spec), shape_(shape), start_(start_ticks) {
    std::mt19937_64 rng(seed);
    // SQL text: batches and statements sliced from them (the statement of every other batch is the batch).
    const int queries = std::max(200, shape.rows_per_snapshot * 3);
    std::vector<std::string> batch(static_cast<std::size_t>(queries)), statement(static_cast<std::size_t>(queries));
    for (int q = 0; q < queries; ++q) {
        auto& b = batch[static_cast<std::size_t>(q)];
        b = batch_text(rng, q);
        statement[static_cast<std::size_t>(q)] = q % 2 ? b : b.substr(b.find("SELECT"), b.find("OPTION") - b.find("SELECT"));
    }
    // Per column: a magnitude for integers, a few values for text columns.
    const std::size_t ncols = spec_.columns.size();
    std::vector<std::int64_t> magnitude(ncols);
    std::vector<std::vector<std::string>> words(ncols);
    static const char* kWords[] = {"running", "suspended", "PAGEIOLATCH_SH", "LCK_M_X", "Sales", "app-web-03",
                                   "CONTOSO\\svc_orders", "KEY: 5:72057594043432960 (8194443284a0)",
                                   "Microsoft JDBC Driver 12.4", "sleeping", "SOS_SCHEDULER_YIELD", "tab\there"};
    for (std::size_t c = 0; c < ncols; ++c) {
        static const std::int64_t kMagnitudes[] = {10, 1000, 1'000'000, 1'000'000'000, 1'000'000'000'000};
        magnitude[c] = kMagnitudes[rng() % 5];
        for (int k = 0; k < 6; ++k) words[c].push_back(kWords[rng() % (sizeof kWords / sizeof *kWords)]);
    }
    const int kBodies = 8;
    for (int b = 0; b < kBodies; ++b) {
        store::Snapshot s;
        s.instance = "bench-sql01";
        s.collector = spec_.collector;
        s.table = spec_.name;
        s.utc_offset_minutes = 60;
        s.sqlserver_start_time = Timestamp{start_ - 3 * kTicksPerDay, 0, false};
        std::set<std::int64_t> seen;
        for (int r = 0; r < shape.rows_per_snapshot; ++r) {
            Row row;
            row.reserve(ncols);
            const auto q = static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(queries));
            for (std::size_t c = 0; c < ncols; ++c) {
                const auto& col = spec_.columns[c];
                const bool may_be_null = c >= 3 && rng() % 100 < 4;
                switch (col.storage) {
                    case collect::StorageClass::integer:
                        if (ends_with(col.name, "_text_hash")) {
                            const std::string& text = col.name.rfind("statement", 0) == 0 ? statement[q] : batch[q];
                            const auto h = store::text_hash(text);
                            row.emplace_back(h);
                            if (seen.insert(h).second) s.texts.emplace_back(h, text);
                        } else if (may_be_null) {
                            row.emplace_back();
                        } else {
                            row.emplace_back(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(magnitude[c])));
                        }
                        break;
                    case collect::StorageClass::real:
                        row.emplace_back(static_cast<double>(rng() % 100'000'000) / 7.0);
                        break;
                    case collect::StorageClass::decimal:
                        row.emplace_back(Decimal{std::to_string(rng() % 10'000'000) + "." + std::to_string(10 + rng() % 90)});
                        break;
                    case collect::StorageClass::text:
                        if (may_be_null) row.emplace_back();
                        else row.emplace_back(words[c][rng() % words[c].size()]);
                        break;
                    case collect::StorageClass::blob: {
                        std::size_t n = 16;
                        if (col.name == "sql_handle") n = 44;
                        else if (ends_with(col.name, "handle")) n = 64;
                        else if (ends_with(col.name, "hash")) n = 8;
                        Bytes bytes(n);
                        for (auto& x : bytes) x = static_cast<std::uint8_t>(rng());
                        row.emplace_back(std::move(bytes));
                        break;
                    }
                    case collect::StorageClass::timestamp:
                        if (may_be_null) row.emplace_back();
                        else row.emplace_back(Timestamp{start_ - static_cast<std::int64_t>(rng() % (3600 * kTicksPerSecond)), 0, false});
                        break;
                }
            }
            s.rows.push_back(std::move(row));
        }
        bodies_.push_back(std::move(s));
    }
}

const store::Snapshot& Workload::snapshot(int k) {
    auto& s = bodies_[static_cast<std::size_t>(k) % bodies_.size()];
    s.collected_at = Timestamp{start_ + k * shape_.interval_ticks + 2'500'000 + k % 7 * 1000, 0, false};
    return s;
}

store::RunRecord Workload::run_record(const store::Snapshot& s) const {
    store::RunRecord run;
    run.instance = s.instance;
    run.collector = s.collector;
    run.started_at = Timestamp{s.collected_at.utc_ticks - 1'000'000, 0, false};
    run.duration_ms = 12.5;
    run.rows = static_cast<std::int64_t>(s.rows.size());
    run.bytes = run.rows * 300;
    run.status = "ok";
    return run;
}

std::vector<std::string> Workload::days() const {
    std::vector<std::string> out;
    const std::int64_t last = start_ + shape_.snapshots * shape_.interval_ticks + kTicksPerSecond;
    for (std::int64_t d = start_ - start_ % kTicksPerDay; d <= last; d += kTicksPerDay)
        out.push_back(format_timestamp(Timestamp{d, 0, false}).substr(0, 10));
    return out;
}

}  // namespace dmvlog::bench
