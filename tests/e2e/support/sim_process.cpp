#include "tests/e2e/support/sim_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace dmvlog::test {

namespace fs = std::filesystem;

namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

int find_number_after(const std::string& text, const std::string& prefix) {
    const std::regex re("(^|\\n)" + prefix + " ([0-9]+)\\r?\\n");
    std::smatch m;
    if (std::regex_search(text, m, re)) return std::stoi(m[2].str());
    return 0;
}

}  // namespace

std::string sim_path() { return DMVLOG_SIM; }

namespace {

struct TlsDir {
    fs::path path;
    TlsDir() {
        path = fs::temp_directory_path() / ("dmvlog-e2e-tls-" + std::to_string(::getpid()));
        const fs::path sim_dir = fs::path(DMVLOG_SIM).parent_path();
        const std::string cmd = "/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); "
                                "from sim.tds.tls import ensure_certificates; ensure_certificates(sys.argv[2])' '" +
                                sim_dir.string() + "' '" + path.string() + "'";
        if (std::system(cmd.c_str()) != 0 || !fs::exists(path / "ca.pem"))
            throw std::runtime_error("cannot make the test certificates in " + path.string() + " (" + cmd + ")");
    }
    ~TlsDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

const TlsDir& tls_dir_once() {
    static const TlsDir dir;
    return dir;
}

}  // namespace

std::string test_tls_dir() { return tls_dir_once().path.string(); }
std::string test_ca_file() { return (tls_dir_once().path / "ca.pem").string(); }
std::string scenarios_dir() { return DMVLOG_SCENARIOS; }

void configure_odbc() {
    // DMVLOG_SIM is <repo>/tests/sqlserver_sim/sqlserver-sim; the driver registry is <repo>/tests/odbc.
    const fs::path odbc_dir = fs::path(DMVLOG_SIM).parent_path().parent_path() / "odbc";
    ::setenv("ODBCSYSINI", odbc_dir.c_str(), 1);
}

int free_tcp_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(errno_text("socket"));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        const std::string e = errno_text("bind");
        ::close(fd);
        throw std::runtime_error(e);
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

SimProcess::SimProcess() : SimProcess(SimOptions{}) {}

SimProcess::SimProcess(SimOptions options) {
    configure_odbc();

    std::vector<std::string> argv_s = {sim_path(), "--port", "0"};
    if (options.control) {
        argv_s.push_back("--control-port");
        argv_s.push_back("0");
    }
    argv_s.insert(argv_s.end(), options.args.begin(), options.args.end());
    tls_ = options.tls;
    if (options.tls) {
        argv_s.push_back("--tls-dir");
        argv_s.push_back(test_tls_dir());
    }
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);

    // stderr (the query log) to a temporary file
    std::string tmpl = (fs::temp_directory_path() / "dmvlog-sim-XXXXXX.log").string();
    const int log_fd = ::mkostemps(tmpl.data(), 4, O_CLOEXEC);
    if (log_fd < 0) throw std::runtime_error(errno_text("mkostemps"));
    log_path_ = tmpl;

    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        ::close(log_fd);
        throw std::runtime_error(errno_text("pipe2"));
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(log_fd);
    if (rc != 0) {
        ::close(out[0]);
        pid_ = -1;
        throw std::runtime_error("cannot start " + sim_path() + ": " + std::strerror(rc));
    }
    reader_ = std::thread([this, fd = out[0]] { reader_loop(fd); });

    std::unique_lock lock(mu_);
    const bool ready = cv_.wait_for(lock, options.startup_timeout, [&] {
        port_ = find_number_after(stdout_, "listening on");
        if (options.control) control_port_ = find_number_after(stdout_, "control on");
        return stdout_closed_ || (port_ > 0 && (!options.control || control_port_ > 0));
    });
    const bool ok = ready && port_ > 0 && (!options.control || control_port_ > 0);
    lock.unlock();
    if (!ok) {
        const std::string why = startup_failure(ready ? "the simulator exited before it was ready"
                                                      : "the simulator was not ready in time");
        stop();
        std::error_code ec;
        fs::remove(log_path_, ec);
        throw std::runtime_error(why);
    }
}

SimProcess::~SimProcess() {
    stop();
    if (!log_path_.empty()) {
        std::error_code ec;
        fs::remove(log_path_, ec);
    }
}

void SimProcess::reader_loop(int fd) {
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        std::lock_guard lock(mu_);
        stdout_.append(buf, static_cast<std::size_t>(n));
        cv_.notify_all();
    }
    ::close(fd);
    std::lock_guard lock(mu_);
    stdout_closed_ = true;
    cv_.notify_all();
}

std::string SimProcess::startup_failure(std::string_view why) const {
    return std::string(why) + " (" + sim_path() + ")\nstdout:\n" + output() + "\nstderr:\n" + log_text();
}

std::string SimProcess::output() const {
    std::lock_guard lock(mu_);
    return stdout_;
}

std::string SimProcess::log_text() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool SimProcess::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

int SimProcess::stop() noexcept {
    int status = -1;
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        bool reaped = false;
        for (int i = 0; i < 200 && !reaped; ++i) {  // 10 s
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_ || (r < 0 && errno == ECHILD)) {
                reaped = true;
                break;
            }
            ::usleep(50'000);
        }
        if (!reaped) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
    }
    if (reader_.joinable()) reader_.join();
    return status;
}

std::string SimProcess::connection_string(std::string_view database) const {
    return "Driver=FreeTDS;Server=127.0.0.1;Port=" + std::to_string(port_) + ";TDS_Version=7.4;Database=" +
           std::string(database) + ";ClientCharset=UTF-8;APP=dmvlog" + (tls_ ? ";Encryption=require" : "");
}

std::string SimProcess::connection_string_with_login(std::string_view user, std::string_view password,
                                                     std::string_view database) const {
    return connection_string(database) + ";UID=" + std::string(user) + ";PWD=" + std::string(password);
}

std::string SimProcess::control(std::string_view json_line) const {
    if (control_port_ <= 0) throw std::runtime_error("the simulator has no control port");
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(errno_text("socket"));
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(control_port_));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const std::string e = errno_text("connect to control port");
        ::close(fd);
        throw std::runtime_error(e);
    }
    std::string line(json_line);
    line.push_back('\n');
    std::size_t sent = 0;
    while (sent < line.size()) {
        const ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            const std::string e = errno_text("send to control port");
            ::close(fd);
            throw std::runtime_error(e);
        }
        sent += static_cast<std::size_t>(n);
    }
    std::string answer;
    char c = 0;
    for (;;) {
        const ssize_t n = ::recv(fd, &c, 1, 0);
        if (n <= 0) {
            const std::string e = n == 0 ? std::string("control port closed") : errno_text("recv from control port");
            ::close(fd);
            throw std::runtime_error(e + " (got '" + answer + "')");
        }
        if (c == '\n') break;
        answer.push_back(c);
    }
    ::close(fd);
    return answer;
}

SilentListener::SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(errno_text("socket"));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        const std::string e = errno_text("listen");
        ::close(fd_);
        throw std::runtime_error(e);
    }
    port_ = ntohs(addr.sin_port);
}

SilentListener::~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace dmvlog::test
