// A real SqliteStore in a temporary folder with every built-in collector table, and hand-built snapshots.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "agent/collect/declaration.h"
#include "agent/core/time_format.h"
#include "agent/query/questions.h"
#include "agent/store/sqlite_store.h"

namespace dmvlog::query::testing {

namespace fs = std::filesystem;
using Cols = std::map<std::string, Value>;

inline Value ts(const std::string& text) { return Value{*parse_timestamp(text)}; }
inline Value i(std::int64_t v) { return Value{v}; }
inline Value s(const std::string& v) { return Value{v}; }
inline Value b(std::uint8_t v, std::size_t n = 8) { return Value{Bytes(n, v)}; }
inline std::int64_t ticks(const std::string& text) { return parse_timestamp(text)->utc_ticks; }

class StoreFixture : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("dmvlog_query_test_" + std::to_string(::getpid()) + "_" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        store = std::make_unique<store::SqliteStore>((dir / "store.db").string());
        std::vector<store::TableSpec> specs;
        for (const auto& d : collect::load_builtin()) {
            auto t = store::table_spec(d);
            tables[d.name] = t;
            specs.push_back(t);
        }
        store->install(specs);
    }
    void TearDown() override {
        store.reset();
        fs::remove_all(dir);
    }

    // Writes one snapshot of a collector; columns not given are NULL. texts: values of text columns
    // (NAME_hash gets the hash; the text is stored in sql_text).
    void write(const std::string& collector, const std::string& at, const std::vector<Cols>& rows,
               const std::string& start_time = "2026-01-01 00:00:00", int offset = 0,
               const std::string& instance = "prod1") {
        const auto& spec = tables.at(collector);
        store::Snapshot snap;
        snap.instance = instance;
        snap.collector = collector;
        snap.table = spec.name;
        snap.collected_at = *parse_timestamp(at);
        snap.utc_offset_minutes = offset;
        snap.sqlserver_start_time = *parse_timestamp(start_time);
        for (const auto& cols : rows) {
            Row row(spec.columns.size());
            for (const auto& [name, v] : cols) {
                bool found = false;
                for (std::size_t k = 0; k < spec.columns.size(); ++k) {
                    if (spec.columns[k].name == name) {
                        row[k] = v;
                        found = true;
                    } else if (spec.columns[k].name == name + "_hash" && std::holds_alternative<std::string>(v)) {
                        auto h = store::text_hash(std::get<std::string>(v));
                        row[k] = Value{h};
                        snap.texts.push_back({h, std::get<std::string>(v)});
                        found = true;
                    }
                }
                EXPECT_TRUE(found) << collector << " has no column " << name;
            }
            snap.rows.push_back(std::move(row));
        }
        store::RunRecord run;
        run.instance = instance;
        run.collector = collector;
        run.started_at = snap.collected_at;
        run.status = "ok";
        store->write(snap, run);
    }

    Report ask(const std::string& name, const std::string& from, const std::string& to, Options o = {}) {
        o.window.from = ticks(from);
        o.window.to = ticks(to);
        return run_question(store->handle(), name, o);
    }
    Report ask_at(const std::string& name, const std::string& at, Options o = {}) {
        o.window.from = o.window.to = ticks(at);
        o.window.is_point = true;
        return run_question(store->handle(), name, o);
    }

    static const Table& table(const Report& r, const std::string& name) {
        for (const auto& t : r.tables)
            if (t.name == name) return t;
        throw std::runtime_error("no table " + name);
    }
    // The cell of the row whose column key_col equals key.
    template <class T>
    static T cell(const Table& t, const std::string& key_col, const Cell& key, const std::string& col) {
        int kc = t.col(key_col), c = t.col(col);
        EXPECT_GE(kc, 0) << key_col;
        EXPECT_GE(c, 0) << col;
        for (const auto& row : t.rows)
            if (row[static_cast<std::size_t>(kc)] == key) return std::get<T>(row[static_cast<std::size_t>(c)]);
        ADD_FAILURE() << "no row with " << key_col;
        return T{};
    }
    static bool has_note(const Report& r, const std::string& part) {
        for (const auto& n : r.notes)
            if (n.find(part) != std::string::npos) return true;
        return false;
    }

    fs::path dir;
    std::unique_ptr<store::SqliteStore> store;
    std::map<std::string, store::TableSpec> tables;
};

}  // namespace dmvlog::query::testing
