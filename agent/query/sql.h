// Reading the store for `dmvlog query`: the analysis SQL (sql/analysis/*.sql, embedded) and a thin
// statement wrapper over SQLite.
//
// An analysis file holds one question's statements, each introduced by a line "-- name: NAME". Parameters
// are named :instance, :from, :to, ... (the SQLite and PostgreSQL drivers both bind names).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace dmvlog::query {

// The statement NAME of sql/analysis/FILE.sql. Throws std::runtime_error when missing.
const std::string& analysis_sql(const std::string& file, const std::string& name);

// Every statement of sql/analysis/FILE.sql by name. Throws std::runtime_error when the file is missing.
std::map<std::string, std::string> analysis_file(const std::string& file);

// Splits a file into its "-- name:" sections (exposed for tests).
std::map<std::string, std::string> split_sections(std::string_view text);

class Stmt {
public:
    Stmt(sqlite3* db, const std::string& sql);
    ~Stmt();
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    // Binds a named parameter (":name"); parameters the statement does not use are ignored.
    Stmt& bind(const char* name, const std::string& v);
    Stmt& bind(const char* name, std::int64_t v);
    Stmt& bind_null(const char* name);
    bool step();          // true: a row is available
    void reset();

    bool null(int i) const;
    std::int64_t i64(int i) const;
    double dbl(int i) const;
    std::string text(int i) const;          // "" for NULL
    std::string_view view(int i) const;     // valid until the next step
    std::string_view blob(int i) const;     // valid until the next step
    std::optional<std::int64_t> opt_i64(int i) const;
    sqlite3_stmt* get() { return s_; }

private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
};

// Settings for reading a big store: memory-mapped reads (no copy per page) and a larger page cache.
void tune_for_reading(sqlite3* db);

// True when the store has this table (collector tables exist once the collector's declaration is installed).
bool has_table(sqlite3* db, const std::string& table);

// Texts of sql_text hashes (missing ones absent).
std::map<std::int64_t, std::string> texts(sqlite3* db, const std::vector<std::int64_t>& hashes);

// "0x0123..." of binary data.
std::string hex(std::string_view bytes);

}  // namespace dmvlog::query
