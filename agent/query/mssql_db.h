// SQL Server: a read connection (ODBC) for `dmvlog query` and `dmvlog digest` on a SQL Server store. The
// analysis SQL is translated to T-SQL (tsql_dialect.h); each statement's rows are read whole when it first
// steps (one connection, one statement at a time), so a question over a long window holds its rows in memory.
#pragma once

#include <memory>
#include <string>

#include "agent/odbc/connection.h"
#include "agent/odbc/environment.h"
#include "agent/query/sql.h"
#include "agent/store/mssql_store.h"

namespace dmvlog::query {

class MssqlDb : public Db {
public:
    // Connects as the store does (encryption and certificate checks included). Throws std::runtime_error.
    explicit MssqlDb(const store::MssqlOptions& options);
    ~MssqlDb() override;
    std::unique_ptr<Cursor> prepare(const std::string& sql) override;
    bool has_table(const std::string& table) override;
    std::string dialect() const override { return "sqlserver"; }
    odbc::Connection& connection() { return conn_; }
    const store::MssqlOptions& options() const { return options_; }

private:
    store::MssqlOptions options_;
    odbc::Environment env_;
    odbc::Connection conn_;
};

}  // namespace dmvlog::query
