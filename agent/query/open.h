// Opening a store for reading by URI: "sqlite:PATH" or "postgres:CONNINFO" (docs/cli.md, store URIs).
#pragma once

#include <memory>
#include <string>

#include "agent/query/sql.h"

namespace dmvlog::query {

// Throws UsageError for a URI of an unknown kind, std::runtime_error when the store cannot be opened
// (a missing SQLite file included). password: for PostgreSQL when the conninfo has none.
std::unique_ptr<Db> open_reader(const std::string& uri, const std::string& password = "");

}  // namespace dmvlog::query
