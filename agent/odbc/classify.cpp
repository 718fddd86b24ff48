#include "agent/odbc/classify.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

namespace dmvlog::odbc {

namespace {

// SQL Server error numbers (sys.messages) and FreeTDS library errors (20xxx, see FreeTDS's tds errors).
constexpr std::array<std::int32_t, 22> kTransientNatives = {
    1205,   // chosen as deadlock victim
    1222,   // lock request time out period exceeded (SET LOCK_TIMEOUT)
    1204,   // the instance cannot obtain a LOCK resource right now
    8645,   // timeout waiting for a memory grant
    233,    // no process is on the other end of the pipe / connection closed by the server
    10053,  // transport-level error: connection aborted
    10054,  // transport-level error: connection reset by peer
    10060,  // network timeout
    10061,  // connection refused
    40197,  // (Azure SQL) service error processing the request
    40501,  // (Azure SQL) service busy
    40613,  // (Azure SQL) database not currently available
    49918,  // (Azure SQL) not enough resources
    49919,  // (Azure SQL) too many operations in progress
    49920,  // (Azure SQL) service busy
    20002,  // FreeTDS: connection failed
    20003,  // FreeTDS: connection timed out
    20004,  // FreeTDS: read from the server failed
    20006,  // FreeTDS: write to the server failed
    20009,  // FreeTDS: unable to connect (server unavailable or does not exist)
    20017,  // FreeTDS: unexpected EOF from the server
    20020,  // FreeTDS: bad token from the server (stream out of sync; a new connection fixes it)
};

constexpr std::array<std::int32_t, 13> kPermissionNatives = {
    229,    // The %ls permission was denied on the object
    230,    // The %ls permission was denied on the column
    262,    // %ls permission denied in database
    297,    // The user does not have permission to perform this action
    300,    // VIEW SERVER STATE (or another server/database) permission was denied
    916,    // The server principal is not able to access the database under the current security context
    4060,   // Cannot open database requested by the login
    15247,  // User does not have permission to perform this action
    18452,  // Login failed: untrusted domain
    18456,  // Login failed for user
    18486,  // Login failed: account locked out
    18487,  // Login failed: password expired
    18488,  // Login failed: password must be changed
};

constexpr std::array<std::int32_t, 6> kIncompatibleNatives = {
    207,   // Invalid column name
    208,   // Invalid object name (a DMV this version does not have)
    2812,  // Could not find stored procedure
    4121,  // Cannot find either column or the user-defined function or aggregate
    195,   // '%.*ls' is not a recognized built-in function name
    4104,  // The multi-part identifier could not be bound (a column of a DMV missing in this version)
};

constexpr std::array<std::int32_t, 5> kLoginNatives = {18452, 18456, 18486, 18487, 18488};

constexpr std::array<std::string_view, 10> kTransientStates = {
    "08S01",  // communication link failure
    "08001",  // client unable to establish connection
    "08003",  // connection not open
    "08004",  // server rejected the connection
    "08007",  // connection failure during transaction
    "HYT00",  // timeout expired (query or login timeout)
    "HYT01",  // connection timeout expired
    "HY008",  // operation cancelled (SQLCancel, or FreeTDS after a query timeout)
    "40001",  // serialization failure (deadlock)
    "40003",  // statement completion unknown
};

constexpr std::array<std::string_view, 1> kPermissionStates = {
    "28000",  // invalid authorization specification
};

constexpr std::array<std::string_view, 2> kIncompatibleStates = {
    "42S02",  // base table or view not found
    "42S22",  // column not found
};

constexpr std::array<std::string_view, 3> kLostStates = {"08S01", "08003", "08007"};
constexpr std::array<std::int32_t, 5> kLostNatives = {20004, 20006, 20017, 20020, 233};

template <typename Array, typename T>
bool contains(const Array& a, const T& v) {
    return std::find(a.begin(), a.end(), v) != a.end();
}

std::optional<ErrorClass> by_native(std::int32_t n) {
    if (n == 0) return std::nullopt;
    if (contains(kPermissionNatives, n)) return ErrorClass::permission;
    if (contains(kIncompatibleNatives, n)) return ErrorClass::incompatible;
    if (contains(kTransientNatives, n)) return ErrorClass::transient;
    return std::nullopt;
}

std::optional<ErrorClass> by_sqlstate(std::string_view s) {
    if (contains(kPermissionStates, s)) return ErrorClass::permission;
    if (contains(kIncompatibleStates, s)) return ErrorClass::incompatible;
    if (contains(kTransientStates, s)) return ErrorClass::transient;
    return std::nullopt;
}

int rank(ErrorClass c) {
    switch (c) {
        case ErrorClass::permission: return 0;
        case ErrorClass::incompatible: return 1;
        case ErrorClass::transient: return 2;
        case ErrorClass::fatal: return 3;
    }
    return 3;
}

}  // namespace

ErrorClass classify(const Diagnostic& d) {
    // A known server error number is the most precise signal: 1205 comes with 40001, 208 with 42S02, but
    // e.g. 300 comes with the generic 42000 and 1222 with HY000.
    if (auto c = by_native(d.native_error)) return *c;
    if (auto c = by_sqlstate(d.sqlstate)) return *c;
    return ErrorClass::fatal;
}

ErrorClass classify(const std::vector<Diagnostic>& records) {
    ErrorClass best = ErrorClass::fatal;
    for (const auto& d : records) {
        const ErrorClass c = classify(d);
        if (rank(c) < rank(best)) best = c;
    }
    return best;
}

ErrorClass classify(const Error& e) { return classify(e.diagnostics()); }

std::string_view to_string(ErrorClass c) {
    switch (c) {
        case ErrorClass::transient: return "transient";
        case ErrorClass::permission: return "permission";
        case ErrorClass::incompatible: return "incompatible";
        case ErrorClass::fatal: return "fatal";
    }
    return "fatal";
}

std::string_view describe(ErrorClass c) {
    switch (c) {
        case ErrorClass::transient:
            return "transient: the server or network is unavailable, busy or slow; retried with backoff";
        case ErrorClass::permission:
            return "permission: the login lacks a permission or was refused; disabled until the permission is "
                   "granted";
        case ErrorClass::incompatible:
            return "incompatible: the server version lacks an object, column or function the query uses; "
                   "disabled for this server";
        case ErrorClass::fatal:
            return "fatal: an unexpected error; the run failed";
    }
    return "fatal";
}

bool is_login_failure(const Error& e) {
    for (const auto& d : e.diagnostics())
        if (contains(kLoginNatives, d.native_error) || d.sqlstate == "28000") return true;
    return false;
}

bool is_connection_lost(const std::vector<Diagnostic>& records) {
    for (const auto& d : records)
        if (contains(kLostStates, d.sqlstate) || contains(kLostNatives, d.native_error)) return true;
    return false;
}

bool is_connection_lost(const Error& e) { return is_connection_lost(e.diagnostics()); }

}  // namespace dmvlog::odbc
