// The service's signals (SIGTERM, SIGINT, SIGHUP) taken by one thread with sigwait, so that no handler
// ever runs inside library code.
#pragma once

#include <signal.h>

#include <initializer_list>

namespace dmvlog::service {

class SignalSet {
public:
    // Blocks the signals in the calling thread; threads started afterwards inherit the mask, so construct
    // it before starting any thread.
    explicit SignalSet(std::initializer_list<int> signals);
    // Waits for one of the signals and returns it.
    int wait() const;

private:
    sigset_t set_{};
};

const char* signal_name(int sig);

}  // namespace dmvlog::service
