// Where the agent logs: to journald when systemd connected its stderr to the journal, else to stderr.
#pragma once

#include <string>

namespace dmvlog::service {

// systemd's documented check: $JOURNAL_STREAM is "DEVICE:INODE" of the stream it connected, and the given
// file descriptor (stderr) is still that stream. journal_stream = nullptr when the variable is unset.
bool is_journal_stream(const char* journal_stream, int fd);

// Sets the default logger "dmvlog": journald (priorities from levels, no timestamps: the journal has them)
// when stderr is systemd's journal stream, else stderr with timestamps. level: trace, debug, info, warn, error.
// Returns "journal" or "stderr".
std::string setup_logging(const std::string& level);

}  // namespace dmvlog::service
