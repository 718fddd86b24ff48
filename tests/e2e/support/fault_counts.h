// What fault tests count: the collector queries the simulator answered completely (from its query log), the
// runs an agent's shutdown cancelled (from its output), and waiting for a line of an agent's output.
#pragma once

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent_process.h"
#include "sim_process.h"

namespace dmvlog::test {

// Collector queries the simulator answered completely (not cancelled, not dropped), by collector.
inline std::map<std::string, long long> answered(const SimProcess& sim, const std::vector<std::string>& collectors) {
    std::map<std::string, long long> out;
    std::istringstream log(sim.log_text());
    for (std::string line; std::getline(log, line);) {
        for (const auto& c : collectors) {
            if (line.find("/* dmvlog:" + c + " */") == std::string::npos) continue;
            const auto outcome = line.substr(line.rfind(" | ") + 3);
            if (outcome.find("result set") != std::string::npos && outcome.find("cancel") == std::string::npos &&
                outcome.find("dropped") == std::string::npos && outcome.find("error") == std::string::npos)
                ++out[c];
        }
    }
    return out;
}

// Runs an agent's shutdown cancelled (their answer may have left the simulator whole, but the agent dropped it
// when it cancelled the query: never collected), from the agent's output.
inline long long cancelled_at_stop(const std::string& output, const std::string& collector) {
    long long n = 0;
    const std::string line = "collector " + collector + ": run cancelled by the shutdown";
    for (auto pos = output.find(line); pos != std::string::npos; pos = output.find(line, pos + 1)) ++n;
    return n;
}

inline bool wait_for_output(const AgentProcess& agent, const std::string& text, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (agent.output().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace dmvlog::test
