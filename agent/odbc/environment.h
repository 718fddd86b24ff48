// The process's one ODBC environment. main() makes it and passes it by reference to whatever connects;
// there is no global. Connections must not outlive it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/odbc/call.h"

namespace dmvlog::odbc {

class Environment {
public:
    // Allocates the environment and asks for ODBC 3.8 behaviour, falling back to ODBC 3 when the driver
    // manager refuses 3.8. Throws Error on failure.
    Environment();
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
