// The PostgreSQL side of the store ingest benchmark: a throw-away server (tests/pg/pg-test-server), databases
// per timed run, and the baseline: the same rows in a COPY text file loaded with `psql -c "\copy ..."`.
#pragma once

#include <string>
#include <vector>

#include "bench/store_ingest/workload.h"

namespace dmvlog::bench {

// Starts tests/pg/pg-test-server in dir (stops it and removes dir when destroyed), or uses a given conninfo.
class PgServer {
public:
    static PgServer start(const std::string& dir);
    static PgServer existing(const std::string& conninfo);
    PgServer(PgServer&& o) noexcept : conninfo_(std::move(o.conninfo_)), dir_(std::move(o.dir_)) { o.dir_.clear(); }
    PgServer(const PgServer&) = delete;
    ~PgServer();
    const std::string& conninfo() const { return conninfo_; }
    // conninfo for another database of the same server.
    std::string conninfo(const std::string& dbname) const { return conninfo_ + " dbname=" + dbname; }
    // Runs SQL (no result) in the server's default database, or in dbname.
    void exec(const std::string& sql, const std::string& dbname = "") const;
    std::string query_value(const std::string& sql, const std::string& dbname) const;
    void recreate_database(const std::string& dbname) const;
    void drop_database(const std::string& dbname) const;

private:
    PgServer() = default;
    std::string conninfo_, dir_;
};

// The day partitions the store would create, made ahead (the baseline copies into ready partitions).
void create_partitions(const PgServer& pg, const std::string& dbname, const std::string& table,
                       const std::vector<std::string>& days);

// Every row of the workload's snapshots as COPY text lines (instance, collected_at, utc_offset_minutes, then
// the table's columns). Returns the rows written.
std::int64_t write_copy_file(const std::string& path, Workload& w);

// `psql -c "\timing on" -c "\copy TABLE (...) FROM 'file'"`: the seconds psql reports for the copy.
double psql_copy(const std::string& conninfo, const store::TableSpec& spec, const std::string& file);

}  // namespace dmvlog::bench
