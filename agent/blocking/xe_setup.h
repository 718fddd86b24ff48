// The T-SQL of `dmvlog xe setup`: dmvlog's own event session for blocked-process reports and deadlocks, and
// the optional 'blocked process threshold (s)' change. Names and paths come from the validated [xe]
// configuration; quotes are doubled anyway.
#pragma once

#include <string>

#include "agent/config/config.h"

namespace dmvlog::blocking {

// Creates the session when sys.server_event_sessions lacks it, and starts it when it is not running.
std::string session_setup_sql(const config::Xe& xe);

// EXEC sp_configure 'show advanced options', 1; RECONFIGURE; EXEC sp_configure 'blocked process threshold (s)', N;
// RECONFIGURE;  (N: 0..86400, else std::invalid_argument)
std::string threshold_sql(int seconds);

}  // namespace dmvlog::blocking
