#include "agent/store/open.h"

#include <cstdlib>

#include "agent/store/mssql_store.h"
#include "agent/store/pg_store.h"
#include "agent/store/sqlite_store.h"

namespace dmvlog::store {

namespace {

MssqlOptions mssql_options(const config::Store& s, const std::string& password) {
    MssqlOptions o;
    o.connection = s.connection;
    o.user = s.user;
    o.password = password;
    o.tls = odbc::TlsSettings{s.encrypt, s.trust_server_certificate, s.ca_file};
    o.login_timeout = s.login_timeout;
    return o;
}

}  // namespace

std::unique_ptr<Store> open_store(const config::Config& cfg) {
    if (cfg.store.kind == "postgres")
        return std::make_unique<PgStore>(cfg.store.conninfo, config::resolve_store_password(cfg.store, cfg.source));
    if (cfg.store.kind == "sqlserver")
        return std::make_unique<MssqlStore>(mssql_options(cfg.store, config::resolve_store_password(cfg.store, cfg.source)));
    return std::make_unique<SqliteStore>(cfg.store.path, cfg.store.busy_timeout);
}

MssqlOptions mssql_uri_options(const std::string& connection) {
    // The login is the string's UID (kept there); the password comes from $DMVLOG_STORE_PASSWORD, never
    // from the URI (a command line is visible to every user of the host).
    MssqlOptions o;
    o.connection = connection;
    if (odbc::connection_attribute(connection, "PWD") || odbc::connection_attribute(connection, "Password"))
        throw StoreError("store URI sqlserver: the connection string must not hold the password: set DMVLOG_STORE_PASSWORD");
    if (const char* pw = std::getenv("DMVLOG_STORE_PASSWORD"); pw && *pw) {
        if (auto uid = odbc::connection_attribute(connection, "UID")) {
            o.user = *uid;
            std::string rest;
            for (const auto& [k, v] : odbc::parse_connection_string(connection)) {
                if (k == "UID" || k == "uid" || k == "Uid") continue;
                rest += (rest.empty() ? "" : ";") + k + "=" + odbc::odbc_value(v);
            }
            o.connection = rest;
        }
        o.password = pw;
    }
    return o;
}

std::unique_ptr<Store> open_store_uri(const std::string& uri, const std::string& password) {
    if (uri.rfind("sqlite:", 0) == 0) return std::make_unique<SqliteStore>(uri.substr(7));
    if (uri.rfind("postgres:", 0) == 0) return std::make_unique<PgStore>(uri.substr(9), password);
    if (uri.rfind("sqlserver:", 0) == 0) return std::make_unique<MssqlStore>(mssql_uri_options(uri.substr(10)));
    throw StoreError("store URI '" + uri + "' is not supported (sqlite:PATH, postgres:CONNINFO or sqlserver:ODBC-CONNECTION-STRING)");
}

std::string store_ddl(const std::string& kind, const std::vector<TableSpec>& tables) {
    if (kind == "postgres") return PgStore::ddl(tables);
    if (kind == "sqlserver") return MssqlStore::ddl(tables);
    return SqliteStore::ddl(tables);
}

}  // namespace dmvlog::store
