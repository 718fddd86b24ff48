// The configured store, by kind ([store] kind = "sqlite" | "postgres"), or by URI (sqlite:PATH,
// postgres:CONNINFO) for the CLI.
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

// The DDL a store of that URI's kind would run, for review (`dmvlog schema print`).
std::string store_ddl(const std::string& kind, const std::vector<TableSpec>& tables);

}  // namespace dmvlog::store
