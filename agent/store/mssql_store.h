// The central store on SQL Server (docs/stores.md, "SQL Server"): the same tables and columns as the SQLite
// and PostgreSQL stores, written over ODBC. Rows go in as ODBC parameter arrays (one prepared INSERT, many
// rows per round trip); a snapshot is written once (snapshots has a unique key, and the rows follow only a
// new snapshot row, in one transaction); retention deletes in small batches through the clustered index on
// (instance, collected_at). instance is part of every key, so many agents share one database.
//
// Every statement it sends is built by agent/store/mssql_sql.h, so that all of them can be printed and
// checked by the T-SQL grammar check (`dmvlog schema print --store sqlserver: --statements`).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "agent/odbc/connection.h"
#include "agent/odbc/environment.h"
#include "agent/odbc/tls_settings.h"
#include "agent/store/sqlite_store.h"   // StoreError
#include "agent/store/store.h"
#include "agent/store/xe_store.h"

namespace dmvlog::store {

struct MssqlOptions {
    std::string connection;                  // ODBC connection string, no password
    std::string user;
    std::string password;
    odbc::TlsSettings tls;
    std::chrono::seconds login_timeout{10};
    std::chrono::seconds query_timeout{60};  // every statement; a hung store fails the write (spooled)
};

// "sqlserver SERVER,PORT/DATABASE" of a connection string, for messages (never the password).
std::string mssql_where(const std::string& connection);

// Connects conn as the SQL Server store does, for writing or reading: encryption and the certificate check as
// configured (a private freetds.conf section), APP=app, and the store's session options; the configuration's
// warnings (encryption off) are logged. Throws StoreError naming where.
void connect_store(odbc::Connection& conn, const MssqlOptions& options, const std::string& where, std::string_view app);

class MssqlStore final : public Store, public XeStore {
public:
    // Connects. Throws StoreError with the driver's diagnostics (never the password).
    explicit MssqlStore(const MssqlOptions& options);
    ~MssqlStore() override;
    MssqlStore(const MssqlStore&) = delete;
    MssqlStore& operator=(const MssqlStore&) = delete;

    void install(const std::vector<TableSpec>& tables) override;
    bool write(const Snapshot& snapshot, const RunRecord& run) override;
    void record_run(const RunRecord& run) override;
    std::vector<RunSummary> run_summaries(int recent = 100) override;
    int schema_version() override;
    PurgeResult purge(const std::string& collector, const std::string& table, const Timestamp& cutoff,
                      int max_snapshots) override;
    std::optional<std::string> oldest_before(const std::string& collector, const std::string& table,
                                             const Timestamp& cutoff) override;

    XeBookmark read_xe_bookmark(const std::string& instance, const std::string& source) override;
    XeWriteResult write_xe(const XeBatch& batch, const RunRecord& run) override;
    PurgeResult purge_xe(const std::string& collector, const Timestamp& cutoff, int max_events) override;

    // The DDL install() runs (core migrations, then the collector tables), for review.
    static std::string ddl(const std::vector<TableSpec>& tables);

    const std::string& where() const { return where_; }

private:
    using Params = std::vector<Value>;
    std::vector<Row> query(const std::string& what, const std::string& sql, const Params& params = {});
    long long exec(const std::string& what, const std::string& sql, const Params& params = {});
    long long exec_rows(const std::string& what, const std::string& sql, const std::vector<Row>& rows);
    void batch(const std::string& what, const std::string& sql);   // a SQL batch (DDL)
    void ensure_connected();
    // Runs f in one transaction (autocommit off), committing at its end, rolling back when it throws.
    template <class F>
    auto transaction(const std::string& what, F&& f);
    [[noreturn]] void fail(const std::string& what, const std::exception& e);
    void insert_run(const RunRecord& run);
    std::int64_t rebuild_episodes(const std::string& instance, std::int64_t earliest_ticks);
    PurgeResult purge_xe_locked(const std::string& collector, const Timestamp& cutoff, int max_events);
    bool table_exists(const std::string& table);

    static constexpr std::size_t kKnownTexts = 20000;

    MssqlOptions options_;
    std::string where_;                      // "sqlserver SERVER/DATABASE" for messages
    odbc::Environment env_;                  // the store's own: it lives on the writer thread
    odbc::Connection conn_;
    std::mutex mu_;
    std::map<std::string, TableSpec> tables_;
    std::unordered_set<std::int64_t> known_texts_;
};

// Statements of a transaction go through the one connection, with autocommit off until commit or rollback.
template <class F>
inline auto MssqlStore::transaction(const std::string& what, F&& f) {
    ensure_connected();
    try {
        conn_.set_autocommit(false, what);
    } catch (const std::exception& e) {
        fail(what, e);
    }
    try {
        auto result = f();
        try {
            conn_.end_transaction(true, what);
            conn_.set_autocommit(true, what);
        } catch (const std::exception& e) {
            fail(what + ": commit", e);
        }
        return result;
    } catch (...) {
        if (conn_.connected() && !conn_.dead()) {
            try {
                conn_.end_transaction(false, what);
                conn_.set_autocommit(true, what);
            } catch (...) {
                conn_.disconnect();   // the next call reconnects: nothing of this transaction survives
            }
        }
        throw;
    }
}

}  // namespace dmvlog::store
