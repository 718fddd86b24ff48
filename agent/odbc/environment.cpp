#include "agent/odbc/environment.h"

#include <algorithm>

namespace dmvlog::odbc {

Environment::Environment(OdbcVersion version) : env_(SQL_HANDLE_ENV, SQL_NULL_HANDLE, "ODBC environment") {
    const CallSite site{SQL_HANDLE_ENV, env_.get(), "ODBC environment"};
#ifdef SQL_OV_ODBC3_80
    if (version == OdbcVersion::v3_80) {
        const SQLRETURN rc = SQLSetEnvAttr(env_.get(), SQL_ATTR_ODBC_VERSION,
                                           reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(SQL_OV_ODBC3_80)), 0);
        if (rc == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO) {
            version_ = 380;
            return;
        }
    }
#else
    (void)version;
#endif
    check(SQLSetEnvAttr(env_.get(), SQL_ATTR_ODBC_VERSION,
                        reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(SQL_OV_ODBC3)), 0),
          site, "SQLSetEnvAttr(SQL_ATTR_ODBC_VERSION)");
    version_ = 300;
}

std::vector<std::string> Environment::drivers() const {
    std::vector<std::string> out;
    SQLUSMALLINT direction = SQL_FETCH_FIRST;
    for (;;) {
        SQLWCHAR name[256];
        SQLWCHAR attrs[1024];
        SQLSMALLINT name_len = 0;
        SQLSMALLINT attrs_len = 0;
        const SQLRETURN rc = SQLDriversW(env_.get(), direction, name, 256, &name_len, attrs, 1024, &attrs_len);
        if (rc != SQL_SUCCESS && rc != SQL_SUCCESS_WITH_INFO) break;
        out.push_back(from_sqlwchar(name, static_cast<std::size_t>(std::clamp<SQLSMALLINT>(name_len, 0, 255))));
        direction = SQL_FETCH_NEXT;
    }
    return out;
}

bool Environment::has_driver(std::string_view name) const {
    const auto all = drivers();
    return std::find(all.begin(), all.end(), name) != all.end();
}

}  // namespace dmvlog::odbc
