// Connecting to PostgreSQL (libpq), for the store's writer and the query layer's reader alike.
#pragma once

#include <string>

struct pg_conn;

namespace dmvlog::store {

// conninfo: a libpq connection string or postgresql:// URI; password (when not empty) is passed apart, so
// that it never sits in a string that could be logged. application_name is dmvlog. Throws
// std::runtime_error with the server's message (no password in it).
pg_conn* pg_connect(const std::string& conninfo, const std::string& password);

}  // namespace dmvlog::store
