// The configured store, by kind ([store] kind = "sqlite" | "postgres" | "sqlserver"), or by URI (sqlite:PATH,
// postgres:CONNINFO, sqlserver:ODBC-CONNECTION-STRING) for the CLI.
#pragma once

#include <memory>
#include <string>

#include "agent/config/config.h"
#include "agent/store/store.h"

namespace dmvlog::store {

// Opens the configured store for writing. Throws StoreError (or ConfigError for the password).
std::unique_ptr<Store> open_store(const config::Config& cfg);

// Opens a store by URI for writing (schema install, store copy); password for postgres: when given.
std::unique_ptr<Store> open_store_uri(const std::string& uri, const std::string& password = "");

// A store URI's kind: "sqlite", "postgres", "sqlserver", or "" when it is none of them.
inline std::string uri_kind(const std::string& uri) {
    for (const char* k : {"sqlite", "postgres", "sqlserver"})
        if (uri.rfind(std::string(k) + ":", 0) == 0) return k;
    return "";
}

// The options of a sqlserver: URI: the login is the string's UID, the password $DMVLOG_STORE_PASSWORD (a
// password in the URI is refused: a command line is visible to every user of the host); encryption on, the
// certificate checked against the system trust store. Throws StoreError.
struct MssqlOptions;
MssqlOptions mssql_uri_options(const std::string& connection);

// The DDL a store of that URI's kind would run, for review (`dmvlog schema print`).
std::string store_ddl(const std::string& kind, const std::vector<TableSpec>& tables);

}  // namespace dmvlog::store
