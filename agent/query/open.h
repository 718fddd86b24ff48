// Opening a store for reading by URI: "sqlite:PATH", "postgres:CONNINFO" or "sqlserver:ODBC-CONNECTION-STRING"
// (docs/cli.md, store URIs).
#pragma once

#include <memory>
#include <string>

#include "agent/config/config.h"
#include "agent/query/sql.h"

namespace dmvlog::query {

// Throws UsageError for a URI of an unknown kind, std::runtime_error when the store cannot be opened
// (a missing SQLite file included). password: for PostgreSQL when the conninfo has none.
// configured: the configured store when the URI is the configured one (a SQL Server store's login and
// encryption settings come from there).
std::unique_ptr<Db> open_reader(const std::string& uri, const std::string& password = "",
                                const config::Store* configured = nullptr);

}  // namespace dmvlog::query
