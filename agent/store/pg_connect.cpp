#include "agent/store/pg_connect.h"

#include <libpq-fe.h>

#include <stdexcept>
#include <vector>

namespace dmvlog::store {

pg_conn* pg_connect(const std::string& conninfo, const std::string& password) {
    std::vector<const char*> keys = {"dbname", "fallback_application_name", "connect_timeout"};
    std::vector<const char*> vals = {conninfo.c_str(), "dmvlog", "10"};
    if (!password.empty()) {
        keys.push_back("password");
        vals.push_back(password.c_str());
    }
    keys.push_back(nullptr);
    vals.push_back(nullptr);
    PGconn* conn = PQconnectdbParams(keys.data(), vals.data(), 1);   // expand_dbname: conninfo may be a full string
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        std::string msg = conn ? PQerrorMessage(conn) : "out of memory";
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        if (conn) PQfinish(conn);
        throw std::runtime_error("cannot connect to the PostgreSQL store: " + msg);
    }
    return conn;
}

}  // namespace dmvlog::store
