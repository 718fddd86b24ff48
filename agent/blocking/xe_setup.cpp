#include "agent/blocking/xe_setup.h"

#include <fmt/format.h>
#include <stdexcept>

#include "agent/core/tsql_quote.h"

namespace dmvlog::blocking {

std::string session_setup_sql(const config::Xe& xe) {
    // config validates both ([xe]: session is [A-Za-z0-9_]+, path has no control characters); quoted anyway
    const std::string name_literal = tsql::quote_literal(xe.session, "xe.session", 128);
    const std::string name_ident = tsql::quote_identifier(xe.session, "xe.session");
    const std::string path_literal = tsql::quote_literal(xe.path, "xe.path", 260);
    return fmt::format(
        "IF NOT EXISTS (SELECT 1 FROM sys.server_event_sessions WHERE name = {0})\n"
        "    CREATE EVENT SESSION {1} ON SERVER\n"
        "    ADD EVENT sqlserver.blocked_process_report,\n"
        "    ADD EVENT sqlserver.xml_deadlock_report\n"
        "    ADD TARGET package0.event_file (SET filename = {2}, max_file_size = ({3}), max_rollover_files = ({4}))\n"
        "    WITH (MAX_MEMORY = 4096 KB, EVENT_RETENTION_MODE = ALLOW_SINGLE_EVENT_LOSS, MAX_DISPATCH_LATENCY = 5 SECONDS, "
        "STARTUP_STATE = ON);\n"
        "IF NOT EXISTS (SELECT 1 FROM sys.dm_xe_sessions WHERE name = {0})\n"
        "    ALTER EVENT SESSION {1} ON SERVER STATE = START;\n",
        name_literal, name_ident, path_literal, xe.max_file_size_mb, xe.max_rollover_files);
}

std::string threshold_sql(int seconds) {
    if (seconds < 0 || seconds > 86400) throw std::invalid_argument("the threshold must be 0 to 86400 seconds");
    return fmt::format("EXEC sp_configure 'show advanced options', 1;\nRECONFIGURE;\n"
                       "EXEC sp_configure 'blocked process threshold (s)', {};\nRECONFIGURE;\n",
                       seconds);
}

}  // namespace dmvlog::blocking
