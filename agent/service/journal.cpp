#include "agent/service/journal.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace dmvlog::service {

bool is_journal_stream(const char* journal_stream, int fd) {
    if (journal_stream == nullptr || *journal_stream == '\0') return false;
    const char* colon = std::strchr(journal_stream, ':');
    if (colon == nullptr || colon == journal_stream || colon[1] == '\0') return false;
    char* end = nullptr;
    errno = 0;
    const unsigned long long dev = std::strtoull(journal_stream, &end, 10);
    if (end != colon || errno != 0) return false;
    const unsigned long long ino = std::strtoull(colon + 1, &end, 10);
    if (*end != '\0' || errno != 0) return false;
    struct stat st {};
    if (fstat(fd, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

std::string setup_logging(const std::string& level) {
    std::shared_ptr<spdlog::logger> logger;
    const bool journal = is_journal_stream(std::getenv("JOURNAL_STREAM"), STDERR_FILENO);
    spdlog::drop("dmvlog");
    if (journal) {
        logger = std::make_shared<spdlog::logger>("dmvlog", std::make_shared<spdlog::sinks::systemd_sink_mt>("dmvlog"));
        spdlog::register_logger(logger);
        spdlog::set_default_logger(logger);
        spdlog::set_pattern("%v");
    } else {
        logger = spdlog::stderr_color_mt("dmvlog");
        spdlog::set_default_logger(logger);
        spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    }
    spdlog::set_level(spdlog::level::from_str(level));
    return journal ? "journal" : "stderr";
}

}  // namespace dmvlog::service
