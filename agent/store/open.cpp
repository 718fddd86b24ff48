#include "agent/store/open.h"

#include "agent/store/pg_store.h"
#include "agent/store/sqlite_store.h"

namespace dmvlog::store {

std::unique_ptr<Store> open_store(const config::Config& cfg) {
    if (cfg.store.kind == "postgres")
        return std::make_unique<PgStore>(cfg.store.conninfo, config::resolve_store_password(cfg.store, cfg.source));
    return std::make_unique<SqliteStore>(cfg.store.path, cfg.store.busy_timeout);
}

std::unique_ptr<Store> open_store_uri(const std::string& uri, const std::string& password) {
    if (uri.rfind("sqlite:", 0) == 0) return std::make_unique<SqliteStore>(uri.substr(7));
    if (uri.rfind("postgres:", 0) == 0) return std::make_unique<PgStore>(uri.substr(9), password);
    throw StoreError("store URI '" + uri + "' is not supported (sqlite:PATH or postgres:CONNINFO)");
}

std::string store_ddl(const std::string& kind, const std::vector<TableSpec>& tables) {
    return kind == "postgres" ? PgStore::ddl(tables) : SqliteStore::ddl(tables);
}

}  // namespace dmvlog::store
