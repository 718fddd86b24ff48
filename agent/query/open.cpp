#include "agent/query/open.h"

#include <sqlite3.h>

#include <filesystem>

#include "agent/query/mssql_db.h"
#include "agent/query/pg_db.h"
#include "agent/store/open.h"
#include "agent/query/time_window.h"
#include "agent/store/sqlite_store.h"

namespace dmvlog::query {

namespace {

// A SQLite store opened read-only, with the reading settings.
class SqliteReader : public SqliteDb {
public:
    explicit SqliteReader(std::unique_ptr<store::SqliteStore> st) : SqliteDb(st->handle()), store_(std::move(st)) {
        tune_for_reading(handle());
    }
    std::unique_ptr<Db> another() override {
        const char* path = sqlite3_db_filename(handle(), "main");
        if (!path || !*path) return nullptr;
        return std::make_unique<SqliteReader>(
            std::make_unique<store::SqliteStore>(path, std::chrono::milliseconds(5000), true));
    }

private:
    std::unique_ptr<store::SqliteStore> store_;
};

}  // namespace

std::unique_ptr<Db> open_reader(const std::string& uri, const std::string& password, const config::Store* configured) {
    if (uri.rfind("sqlite:", 0) == 0) {
        const std::string path = uri.substr(7);
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec)) throw std::runtime_error("no store at " + path);
        return std::make_unique<SqliteReader>(std::make_unique<store::SqliteStore>(path, std::chrono::milliseconds(5000), true));
    }
    if (uri.rfind("postgres:", 0) == 0) return std::make_unique<PgDb>(uri.substr(9), password);
    if (uri.rfind("sqlserver:", 0) == 0) {
        store::MssqlOptions o;
        if (configured && configured->kind == "sqlserver" && configured->connection == uri.substr(10)) {
            o.connection = configured->connection;
            o.user = configured->user;
            o.password = password;
            o.tls = odbc::TlsSettings{configured->encrypt, configured->trust_server_certificate, configured->ca_file};
            o.login_timeout = configured->login_timeout;
        } else {
            o = store::mssql_uri_options(uri.substr(10));
        }
        return std::make_unique<MssqlDb>(o);
    }
    throw UsageError("store URI '" + uri + "' is not supported (sqlite:PATH, postgres:CONNINFO or sqlserver:ODBC-CONNECTION-STRING)");
}

}  // namespace dmvlog::query
