#include "agent/service/notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdlib>
#include <cstring>

namespace dmvlog::service {

namespace {

long long monotonic_usec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

}  // namespace

Notifier::Notifier() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket != nullptr && *socket != '\0';
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
}

std::string Notifier::message(const std::string& state, const std::string& status) {
    std::string out = state;
    if (!status.empty()) {
        if (!out.empty()) out += "\n";
        out += "STATUS=" + status;
    }
    return out;
}

void Notifier::send(const std::string& text) {
    if (!enabled_ || text.empty()) return;
    int r = sd_notify(0, text.c_str());
    if (r < 0) spdlog::debug("sd_notify failed: {}", std::strerror(-r));
}

void Notifier::ready(const std::string& status) { send(message("READY=1", status)); }

void Notifier::reloading(const std::string& status) {
    send(message("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()), status));
}

void Notifier::stopping(const std::string& status) { send(message("STOPPING=1", status)); }

void Notifier::status(const std::string& status) { send(message("", status)); }

void Notifier::watchdog() {
    if (watchdog_.count() > 0) send("WATCHDOG=1");
}

}  // namespace dmvlog::service
