// Running the dmvlog binary in end-to-end tests, and reading the store it writes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

struct sqlite3;

namespace dmvlog::test {

struct CommandResult {
    int exit_code = -1;       // -1 when killed by a signal or timed out
    std::string output;       // stdout and stderr, interleaved
};

// Runs DMVLOG_BINARY with args, waits at most timeout, returns its exit code and output.
CommandResult run_dmvlog(const std::vector<std::string>& args, std::chrono::seconds timeout = std::chrono::seconds(60));

// Starts DMVLOG_BINARY in the background (output to a file); stop() sends SIGTERM and waits.
class AgentProcess {
public:
    explicit AgentProcess(const std::vector<std::string>& args);
    // With extra environment variables ("NAME=value") on top of the test's own.
    AgentProcess(const std::vector<std::string>& args, const std::vector<std::string>& env);
    ~AgentProcess();
    AgentProcess(const AgentProcess&) = delete;
    AgentProcess& operator=(const AgentProcess&) = delete;
    // SIGTERM, wait up to timeout; returns the exit code (-1 if it had to be killed).
    int stop(std::chrono::seconds timeout = std::chrono::seconds(30));
    // SIGKILL (a crash as the agent sees it: nothing runs after it), then reaps the process.
    void kill_hard();
    // Still running (not exited)?
    bool running();
    std::string output() const;
    pid_t pid() const noexcept { return pid_; }
    // Sends a signal (SIGHUP to reload, SIGTERM to stop) without waiting.
    void signal(int sig) const;
    // After signal(SIGTERM): waits for the exit, at most timeout; the exit code (-1 if killed).
    int wait(std::chrono::seconds timeout);

private:
    pid_t pid_ = -1;
    std::string log_path_;
};

// A temporary folder removed at the end of the test.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    // Writes content to name (mode 0600) and returns its path.
    std::string write(const std::string& name, const std::string& content) const;

private:
    std::filesystem::path path_;
};

// A config for one instance on the simulator at port, store at store_path, password from a 0600 file; encrypted
// with the certificate checked against the simulator's test CA (ca_file = test_ca_file(), encrypt and
// trust_server_certificate left at their defaults), so the simulator must offer TLS (SimOptions::tls).
std::string agent_config(const TempDir& dir, int port, const std::string& store_path, const std::string& extra = "",
                         const std::string& password = "dmvlog", const std::string& user = "dmvlog");

// Read access to a SQLite store.
class StoreReader {
public:
    explicit StoreReader(const std::string& path);
    ~StoreReader();
    StoreReader(const StoreReader&) = delete;
    StoreReader& operator=(const StoreReader&) = delete;
    long long scalar(const std::string& sql) const;       // first column of the first row (-1 if none)
    std::string text(const std::string& sql) const;       // first column of the first row as text ("" if NULL)
    std::vector<std::vector<std::string>> rows(const std::string& sql) const;  // NULL as "<NULL>"
    std::string type_of(const std::string& sql) const;     // typeof() style name of the first value

private:
    sqlite3* db_ = nullptr;
};

}  // namespace dmvlog::test
