// The SQL Server simulator as a child process, for end-to-end tests.
//
//   dmvlog::test::SimProcess sim;                              // --engine selftest on a free port
//   odbc::Connection c(env, "test");
//   c.connect(sim.connection_string(), SimProcess::kUser, SimProcess::kPassword, 5s);
//
// The constructor starts tests/sqlserver_sim/sqlserver-sim (path from DMVLOG_SIM) with --port 0 and the
// given arguments, waits for "listening on N" (and "control on M" when asked for a control port), and sets
// ODBCSYSINI to the project's tests/odbc folder so that "Driver=FreeTDS" resolves without /etc. The
// destructor stops the simulator with SIGTERM (SIGKILL after 10 s). The simulator's stderr (its query log)
// goes to a temporary file, readable with log_text() when a test needs to explain a failure.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dmvlog::test {

struct SimOptions {
    std::vector<std::string> args = {"--engine", "selftest"};  // besides --port 0 (and --control-port 0)
    bool control = false;                                      // open a control port
    // Offer TLS with the test CA's certificate (--tls-dir test_tls_dir()): clients that ask for encryption
    // get it, and dmvlog checks the certificate against test_ca_file(). false: the simulator answers
    // "encryption not supported" (for tests of what happens then).
    bool tls = true;
    std::chrono::seconds startup_timeout{30};
};

class SimProcess {
public:
    static constexpr const char* kUser = "dmvlog";
    static constexpr const char* kPassword = "dmvlog";

    SimProcess();  // SimOptions{}
    explicit SimProcess(SimOptions options);
    ~SimProcess();
    SimProcess(const SimProcess&) = delete;
    SimProcess& operator=(const SimProcess&) = delete;

    int port() const noexcept { return port_; }
    int control_port() const noexcept { return control_port_; }  // 0 without a control port
    pid_t pid() const noexcept { return pid_; }

    // "Driver=FreeTDS;Server=127.0.0.1;Port=N;TDS_Version=7.4;Database=...;ClientCharset=UTF-8;APP=dmvlog;
    // Encryption=require" (full TLS; FreeTDS 1.3 cannot be given a CA file in a connection string, so these
    // direct ODBC connections are encrypted without a certificate check; dmvlog's own check goes through a
    // freetds.conf section, see odbc/tls_settings.h), without credentials (odbc::Connection::connect takes them
    // separately). Without TLS (SimOptions::tls false) the Encryption key is left out.
    std::string connection_string(std::string_view database = "master") const;
    // The same with UID/PWD for the simulator's login (dmvlog/dmvlog unless given).
    std::string connection_string_with_login(std::string_view user = kUser, std::string_view password = kPassword,
                                             std::string_view database = "master") const;

    // Sends one JSON line to the control port and returns the answer line (without the newline).
    // Throws std::runtime_error without a control port or on a socket failure/timeout.
    std::string control(std::string_view json_line) const;

    // Everything the simulator printed on stdout / stderr so far.
    std::string output() const;
    std::string log_text() const;

    // Still running (not exited)?
    bool running();
    // SIGTERM, then wait (SIGKILL after 10 s). Idempotent; the destructor calls it. Returns the exit status
    // as waitpid reports it (-1 if it was already stopped).
    int stop() noexcept;

private:
    void reader_loop(int fd);
    std::string startup_failure(std::string_view why) const;

    pid_t pid_ = -1;
    int port_ = 0;
    int control_port_ = 0;
    bool tls_ = true;
    std::string log_path_;
    std::thread reader_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::string stdout_;
    bool stdout_closed_ = false;
};

// Sets ODBCSYSINI to <repository>/tests/odbc, derived from DMVLOG_SIM. Idempotent; call before the first
// ODBC connect in tests that do not start a simulator.
void configure_odbc();

// The folder with the simulator's test certificates for this test process (ca.pem, server.pem, server.key),
// made on first use with the simulator's own code (openssl) and removed at exit; and the CA file in it, which
// agent_config names as the instance's ca_file.
std::string test_tls_dir();
std::string test_ca_file();

// The simulator script (DMVLOG_SIM) and the scenarios folder (DMVLOG_SCENARIOS).
std::string sim_path();
std::string scenarios_dir();

// A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read, close).
int free_tcp_port();

// A listener on 127.0.0.1 that accepts TCP connections (the kernel completes the handshake) but never
// reads or answers: a server that hangs at login. Closed by the destructor.
class SilentListener {
public:
    SilentListener();
    ~SilentListener();
    SilentListener(const SilentListener&) = delete;
    SilentListener& operator=(const SilentListener&) = delete;
    int port() const noexcept { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

}  // namespace dmvlog::test
