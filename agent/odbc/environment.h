// The process's one ODBC environment. main() makes it and passes it by reference to whatever connects;
// there is no global. Connections must not outlive it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/odbc/call.h"

namespace dmvlog::odbc {

// Which ODBC behaviour the application asks the driver manager for. ODBC 3 is the default: FreeTDS 1.3 is
// an ODBC 3.5 driver, and with 3.8 requested unixODBC adds the warning "[01000] Driver does not support
// the requested version" to every connect (measured) while the layer uses nothing of 3.8.
enum class OdbcVersion { v3, v3_80 };

class Environment {
public:
    // Allocates the environment and sets SQL_ATTR_ODBC_VERSION (3.8 falls back to 3 when the driver
    // manager refuses it). Throws Error on failure.
    explicit Environment(OdbcVersion version = OdbcVersion::v3);
    ~Environment() = default;
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;
    Environment(Environment&&) = delete;
    Environment& operator=(Environment&&) = delete;

    SQLHENV handle() const noexcept { return env_.get(); }
    // 380 or 300.
    int odbc_version() const noexcept { return version_; }

    // Names of the drivers the driver manager knows (odbcinst.ini), for `dmvlog check`.
    std::vector<std::string> drivers() const;
    bool has_driver(std::string_view name) const;

private:
    Handle env_;
    int version_ = 0;
};

}  // namespace dmvlog::odbc
