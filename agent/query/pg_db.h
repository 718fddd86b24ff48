// PostgreSQL: a read connection (libpq) for `dmvlog query` and `dmvlog digest` on a central store. Statements
// are the same analysis SQL as for SQLite (":name" parameters become $n); rows stream in libpq's single-row
// mode, so a scan of millions of rows holds one row at a time. A statement started while another still
// streams makes the other buffer its remaining rows first (one connection runs one query at a time).
#pragma once

#include <memory>
#include <string>

#include "agent/query/sql.h"

struct pg_conn;

namespace dmvlog::query {

class PgCursor;

class PgDb : public Db {
public:
    // Connects with a libpq connection string ("host=... dbname=..." or a postgresql:// URI). Throws
    // std::runtime_error naming the server's message (never the password).
    explicit PgDb(const std::string& conninfo, const std::string& password = "");
    ~PgDb() override;
    std::unique_ptr<Cursor> prepare(const std::string& sql) override;
    bool has_table(const std::string& table) override;
    std::string dialect() const override { return "postgres"; }
    pg_conn* handle() const { return conn_; }

private:
    friend class PgCursor;
    pg_conn* conn_ = nullptr;
    PgCursor* streaming_ = nullptr;   // the cursor whose rows are still on the wire
};

// ":name" parameters to "$1", "$2", ... (outside string literals and "::" casts); names in order of first use.
std::string pg_placeholders(const std::string& sql, std::vector<std::string>& names);

}  // namespace dmvlog::query
