// Reading the store for `dmvlog query` and `dmvlog digest`: the analysis SQL (sql/analysis/*.sql, embedded),
// a read connection per store kind (Db: SQLite here, PostgreSQL in pg_db.h) and a statement wrapper.
//
// An analysis file holds one question's statements, each introduced by a line "-- name: NAME". Parameters
// are named :instance, :from, :to, ... (the SQLite and PostgreSQL drivers both bind names).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace dmvlog::query {

class Db;

// The statement NAME of sql/analysis/FILE.sql. Throws std::runtime_error when missing.
const std::string& analysis_sql(const std::string& file, const std::string& name);

// The statement for this store: "NAME.sqlite" where the store is SQLite and has TABLE's row table
// (TABLE_data, agent/store/sqlite_layout.h), which that statement reads directly instead of the view TABLE;
// NAME otherwise. The rows table gives names and handles as dictionary ids and times as ticks: read them with
// Names and time_value().
const std::string& analysis_sql(Db* db, const std::string& file, const std::string& name, const std::string& table);

// Every statement of sql/analysis/FILE.sql by name. Throws std::runtime_error when the file is missing.
std::map<std::string, std::string> analysis_file(const std::string& file);

// Splits a file into its "-- name:" sections (exposed for tests).
std::map<std::string, std::string> split_sections(std::string_view text);

enum class ColType { null, integer, real, text, blob };

// One prepared statement of a store's read connection (SQLite or PostgreSQL). Parameters are named ":name";
// a parameter the statement does not use is ignored. Values of the current row stay valid until step().
class Cursor {
public:
    virtual ~Cursor() = default;
    virtual void bind_text(const char* name, const std::string& v) = 0;
    virtual void bind_int(const char* name, std::int64_t v) = 0;
    virtual void bind_null(const char* name) = 0;
    virtual bool step() = 0;
    virtual void reset() = 0;     // ready to run again; bindings are kept
    virtual int columns() const = 0;
    virtual ColType type(int i) const = 0;
    virtual std::int64_t i64(int i) const = 0;
    virtual double dbl(int i) const = 0;
    virtual std::string_view view(int i) const = 0;    // text ("" for NULL)
    virtual std::string_view blob(int i) const = 0;    // bytes ("" for NULL)
};

// A read connection to a store: what `dmvlog query` and `dmvlog digest` need from it.
class Db {
public:
    virtual ~Db() = default;
    virtual std::unique_ptr<Cursor> prepare(const std::string& sql) = 0;
    // True when the store has this table or view.
    virtual bool has_table(const std::string& table) = 0;
    virtual std::string dialect() const = 0;    // "sqlite", "postgres"
    // A second, independent read connection to the same store, for reading part of a long window on another
    // thread; nullptr where that does not pay (the server does the work) or is not possible.
    virtual std::unique_ptr<Db> another() { return nullptr; }
};

// SQLite: a Db over an open connection (not owned).
class SqliteDb : public Db {
public:
    explicit SqliteDb(sqlite3* db) : db_(db) {}
    std::unique_ptr<Cursor> prepare(const std::string& sql) override;
    bool has_table(const std::string& table) override;
    std::string dialect() const override { return "sqlite"; }
    sqlite3* handle() const { return db_; }

private:
    sqlite3* db_;
};

class Stmt {
public:
    Stmt(Db* db, const std::string& sql) : c_(db->prepare(sql)) {}
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& bind(const char* name, const std::string& v) {
        c_->bind_text(name, v);
        return *this;
    }
    Stmt& bind(const char* name, std::int64_t v) {
        c_->bind_int(name, v);
        return *this;
    }
    Stmt& bind_null(const char* name) {
        c_->bind_null(name);
        return *this;
    }
    bool step() { return c_->step(); }
    void reset() { c_->reset(); }

    int columns() const { return c_->columns(); }
    ColType type(int i) const { return c_->type(i); }
    bool null(int i) const { return c_->type(i) == ColType::null; }
    std::int64_t i64(int i) const { return c_->i64(i); }
    double dbl(int i) const { return c_->dbl(i); }
    std::string text(int i) const { return std::string(c_->view(i)); }
    std::string_view view(int i) const { return c_->view(i); }
    std::string_view blob(int i) const { return c_->blob(i); }
    std::optional<std::int64_t> opt_i64(int i) const {
        if (null(i)) return std::nullopt;
        return i64(i);
    }

private:
    std::unique_ptr<Cursor> c_;
};

// Names and handles of a SQLite store's row tables by dictionary id, each read once; a value that is not an id
// (from a view, or from another store) is returned as it is.
class Names {
public:
    explicit Names(Db* db) : db_(db) {}
    std::string_view text(Stmt& s, int i);   // "" for NULL
    std::string_view bytes(Stmt& s, int i);  // "" for NULL

private:
    std::string_view lookup(std::int64_t id);
    Db* db_;
    std::unique_ptr<Stmt> find_;
    std::unordered_map<std::int64_t, std::string> cache_;
};

// A time column: ticks as they are, or store text parsed; nullopt for NULL or text that is not a time.
std::optional<std::int64_t> time_value(Stmt& s, int i);

// Settings for reading a big SQLite store: memory-mapped reads (no copy per page) and a larger page cache.
void tune_for_reading(sqlite3* db);

inline bool has_table(Db* db, const std::string& table) { return db->has_table(table); }

// Texts of sql_text hashes (missing ones absent).
std::map<std::int64_t, std::string> texts(Db* db, const std::vector<std::int64_t>& hashes);

// "0x0123..." of binary data.
std::string hex(std::string_view bytes);

}  // namespace dmvlog::query
