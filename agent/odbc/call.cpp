#include "agent/odbc/call.h"

#include <string>

#include "agent/core/utf.h"

namespace dmvlog::odbc {

static_assert(sizeof(SQLWCHAR) == sizeof(char16_t), "SQLWCHAR must be UTF-16 (unixODBC default)");

std::string from_sqlwchar(const SQLWCHAR* text, std::size_t length) {
    std::u16string u(length, u'\0');
    for (std::size_t i = 0; i < length; ++i) u[i] = static_cast<char16_t>(text[i]);
    return utf16_to_utf8(u);
}

std::vector<SQLWCHAR> to_sqlwchar(std::string_view utf8) {
    const std::u16string u = utf8_to_utf16(utf8);
    std::vector<SQLWCHAR> out(u.size() + 1, 0);
    for (std::size_t i = 0; i < u.size(); ++i) out[i] = static_cast<SQLWCHAR>(u[i]);
    return out;
}

std::vector<Diagnostic> read_diagnostics(SQLSMALLINT handle_type, SQLHANDLE handle) {
    std::vector<Diagnostic> out;
    if (handle == SQL_NULL_HANDLE) return out;
    for (SQLSMALLINT rec = 1; rec <= 64; ++rec) {
        SQLWCHAR state[6] = {};
        SQLINTEGER native = 0;
        std::vector<SQLWCHAR> msg(1024);
        SQLSMALLINT len = 0;
        SQLRETURN rc = SQLGetDiagRecW(handle_type, handle, rec, state, &native, msg.data(),
                                      static_cast<SQLSMALLINT>(msg.size()), &len);
        if (rc == SQL_SUCCESS_WITH_INFO && len >= static_cast<SQLSMALLINT>(msg.size())) {
            msg.resize(static_cast<std::size_t>(len) + 1);
            rc = SQLGetDiagRecW(handle_type, handle, rec, state, &native, msg.data(),
                                static_cast<SQLSMALLINT>(msg.size()), &len);
        }
        if (rc != SQL_SUCCESS && rc != SQL_SUCCESS_WITH_INFO) break;  // SQL_NO_DATA: no more records
        const std::size_t n = std::min<std::size_t>(len < 0 ? 0 : static_cast<std::size_t>(len), msg.size() - 1);
        Diagnostic d;
        d.sqlstate = from_sqlwchar(state, 5);
        d.native_error = native;
        d.message = from_sqlwchar(msg.data(), n);
        out.push_back(std::move(d));
    }
    return out;
}

SQLRETURN check(SQLRETURN rc, const CallSite& site, const char* operation) {
    if (site.trace && *site.trace) (*site.trace)(operation, rc);
    switch (rc) {
        case SQL_SUCCESS:
        case SQL_NO_DATA:
        case SQL_NEED_DATA:
        case SQL_STILL_EXECUTING:
            return rc;
        case SQL_SUCCESS_WITH_INFO:
            if (site.messages) {
                auto records = read_diagnostics(site.handle_type, site.handle);
                for (auto& d : records) {
                    if (site.messages->size() >= kMaxMessages) break;
                    d.message = scrub_secrets(d.message, site.secret);
                    site.messages->push_back(std::move(d));
                }
            }
            return rc;
        case SQL_INVALID_HANDLE:
            throw Error(operation, std::string(site.context), {Diagnostic{"HY000", 0, "invalid ODBC handle"}},
                        site.secret);
        default: {
            auto records = read_diagnostics(site.handle_type, site.handle);
            if (records.empty())
                records.push_back(Diagnostic{"HY000", 0, "failed without diagnostic records (rc " +
                                                             std::to_string(rc) + ")"});
            throw Error(operation, std::string(site.context), std::move(records), site.secret);
        }
    }
}

Handle::Handle(SQLSMALLINT type, SQLHANDLE parent, std::string_view context) : type_(type) {
    const SQLRETURN rc = SQLAllocHandle(type, parent, &handle_);
    if (rc != SQL_SUCCESS && rc != SQL_SUCCESS_WITH_INFO) {
        handle_ = SQL_NULL_HANDLE;
        // Allocation failures are reported on the parent handle.
        const SQLSMALLINT parent_type = type == SQL_HANDLE_DBC    ? SQL_HANDLE_ENV
                                        : type == SQL_HANDLE_STMT ? SQL_HANDLE_DBC
                                                                  : SQL_HANDLE_ENV;
        check(rc, CallSite{parent_type, parent, context}, "SQLAllocHandle");
        throw make_error("SQLAllocHandle", std::string(context), "allocation failed", "HY001");
    }
}

Handle::~Handle() { reset(); }

Handle::Handle(Handle&& other) noexcept : type_(other.type_), handle_(other.handle_) {
    other.handle_ = SQL_NULL_HANDLE;
}

Handle& Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        reset();
        type_ = other.type_;
        handle_ = other.handle_;
        other.handle_ = SQL_NULL_HANDLE;
    }
    return *this;
}

void Handle::reset() noexcept {
    if (handle_ != SQL_NULL_HANDLE) {
        SQLFreeHandle(type_, handle_);  // return code ignored: nothing useful to do in a destructor
        handle_ = SQL_NULL_HANDLE;
    }
}

}  // namespace dmvlog::odbc
