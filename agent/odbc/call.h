// The handles and the one checked call helper of the ODBC layer. Internal to agent/odbc, but public so that
// tests and the store's ODBC code (if any) can use the same discipline.
#pragma once

#include <sql.h>
#include <sqlext.h>

#include <functional>
#include <string_view>
#include <vector>

#include "agent/odbc/error.h"

namespace dmvlog::odbc {

// Called after every ODBC call with its name and return code, when set (a trace switch).
using TraceFn = std::function<void(std::string_view operation, SQLRETURN rc)>;

// What a checked call needs besides the return code: where the diagnostics are, what to say in an
// Error, what to scrub from it, where INFO records go.
struct CallSite {
    SQLSMALLINT handle_type = 0;
    SQLHANDLE handle = SQL_NULL_HANDLE;
    std::string_view context;                      // e.g. "instance prod1: collector requests_5s"
    std::string_view secret;                       // a password to scrub from messages
    std::vector<Diagnostic>* messages = nullptr;   // receives SQL_SUCCESS_WITH_INFO records
    const TraceFn* trace = nullptr;
};

// Reads every diagnostic record of a handle (SQLGetDiagRecW 1..n, at most 64).
std::vector<Diagnostic> read_diagnostics(SQLSMALLINT handle_type, SQLHANDLE handle);

// INFO records kept per call site list (a PRINT loop must not grow memory without bound).
inline constexpr std::size_t kMaxMessages = 1000;

// The checked helper every ODBC call goes through:
//   SQL_SUCCESS, SQL_NO_DATA, SQL_NEED_DATA, SQL_STILL_EXECUTING   returned as is;
//   SQL_SUCCESS_WITH_INFO   its records are appended to site.messages (when given, up to kMaxMessages)
//                           and it is returned;
//   SQL_ERROR, SQL_INVALID_HANDLE, anything else   throws Error(operation, site.context, records).
SQLRETURN check(SQLRETURN rc, const CallSite& site, const char* operation);

// Owns one ODBC handle; frees it on destruction (never throws). Move-only.
class Handle {
public:
    Handle() = default;
    // Allocates a handle of type under parent (SQL_NULL_HANDLE for an environment); throws Error on failure.
    Handle(SQLSMALLINT type, SQLHANDLE parent, std::string_view context);
    ~Handle();
    Handle(Handle&& other) noexcept;
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    SQLHANDLE get() const noexcept { return handle_; }
    SQLSMALLINT type() const noexcept { return type_; }
    explicit operator bool() const noexcept { return handle_ != SQL_NULL_HANDLE; }
    void reset() noexcept;

private:
    SQLSMALLINT type_ = 0;
    SQLHANDLE handle_ = SQL_NULL_HANDLE;
};

// SQLWCHAR text <-> UTF-8 (unixODBC's SQLWCHAR is 2 bytes: UTF-16).
std::string from_sqlwchar(const SQLWCHAR* text, std::size_t length);
std::vector<SQLWCHAR> to_sqlwchar(std::string_view utf8);  // NUL-terminated

}  // namespace dmvlog::odbc
