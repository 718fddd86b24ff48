// The simulator's clock, as end-to-end tests follow it: seconds since the scenario's start, and waiting for
// a given second.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "sim_process.h"

namespace dmvlog::test {

inline double offset_now(const SimProcess& sim) {
    return nlohmann::json::parse(sim.control(R"({"cmd":"now"})")).at("offset_seconds").get<double>();
}

// Waits until the scenario has run `offset` seconds; fails the test after `limit` of wall time.
inline void wait_for_offset(const SimProcess& sim, double offset, std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (offset_now(sim) < offset) {
        ASSERT_LT(std::chrono::steady_clock::now(), until) << "the simulator did not reach offset " << offset;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

}  // namespace dmvlog::test
