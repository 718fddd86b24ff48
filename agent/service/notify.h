// Telling systemd how the service is doing (sd_notify, Type=notify): READY=1, RELOADING=1, STOPPING=1,
// STATUS=..., WATCHDOG=1. Every call does nothing when $NOTIFY_SOCKET is unset (not run by systemd).
#pragma once

#include <chrono>
#include <string>

namespace dmvlog::service {

class Notifier {
public:
    Notifier();

    // Run under systemd with Type=notify ($NOTIFY_SOCKET set)?
    bool enabled() const { return enabled_; }
    // The watchdog interval systemd expects WATCHDOG=1 within ($WATCHDOG_USEC, for this process); 0 = none.
    std::chrono::microseconds watchdog_interval() const { return watchdog_; }

    void ready(const std::string& status = "");
    // RELOADING=1 with MONOTONIC_USEC (systemd >= 253 wants it to match the reload to the signal).
    void reloading(const std::string& status = "");
    void stopping(const std::string& status = "");
    void status(const std::string& status);
    void watchdog();

    // The text sent; exposed for tests. status = "" adds no STATUS= line.
    static std::string message(const std::string& state, const std::string& status);

private:
    void send(const std::string& text);

    bool enabled_ = false;
    std::chrono::microseconds watchdog_{0};
};

}  // namespace dmvlog::service
