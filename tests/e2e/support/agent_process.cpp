#include "agent_process.h"
#include "sim_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace dmvlog::test {

namespace {

pid_t spawn(const std::vector<std::string>& args, int out_fd, const std::vector<std::string>& env = {}) {
    std::vector<std::string> all = {DMVLOG_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** e = environ; *e; ++e) env_storage.emplace_back(*e);
    env_storage.insert(env_storage.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out_fd, 1);
        dup2(out_fd, 2);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    return pid;
}

int wait_for(pid_t pid, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

CommandResult run_dmvlog(const std::vector<std::string>& args, std::chrono::seconds timeout) {
    TempDir dir;
    auto log = dir.file("out.log");
    int fd = open(log.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    pid_t pid = spawn(args, fd);
    close(fd);
    CommandResult r;
    r.exit_code = wait_for(pid, timeout);
    r.output = slurp(log);
    return r;
}

AgentProcess::AgentProcess(const std::vector<std::string>& args) {
    char tmpl[] = "/tmp/dmvlog_agent_XXXXXX";
    int fd = mkstemp(tmpl);
    log_path_ = tmpl;
    pid_ = spawn(args, fd);
    close(fd);
}

AgentProcess::AgentProcess(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    char tmpl[] = "/tmp/dmvlog_agent_XXXXXX";
    int fd = mkstemp(tmpl);
    log_path_ = tmpl;
    pid_ = spawn(args, fd, env);
    close(fd);
}

void AgentProcess::signal(int sig) const {
    if (pid_ > 0) kill(pid_, sig);
}

int AgentProcess::wait(std::chrono::seconds timeout) {
    if (pid_ <= 0) return -1;
    int rc = wait_for(pid_, timeout);
    pid_ = -1;
    return rc;
}

AgentProcess::~AgentProcess() {
    stop(std::chrono::seconds(10));
    unlink(log_path_.c_str());
}

int AgentProcess::stop(std::chrono::seconds timeout) {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int rc = wait_for(pid_, timeout);
    pid_ = -1;
    return rc;
}

void AgentProcess::kill_hard() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
}

bool AgentProcess::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

std::string AgentProcess::output() const { return slurp(log_path_); }

TempDir::TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("dmvlog_e2e_" + std::to_string(getpid()) + "_" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
    auto p = file(name);
    {
        std::ofstream out(p, std::ios::trunc);
        out << content;
    }
    chmod(p.c_str(), 0600);
    return p;
}

std::string agent_config(const TempDir& dir, int port, const std::string& store_path, const std::string& extra,
                         const std::string& password, const std::string& user) {
    auto pw = dir.write("password", password + "\n");
    std::ostringstream c;
    c << "[[instance]]\n"
      << "name = \"sim\"\n"
      << "connection = \"Driver=FreeTDS;Server=127.0.0.1;Port=" << port << ";TDS_Version=7.4;ClientCharset=UTF-8\"\n"
      << "user = \"" << user << "\"\n"
      << "password_file = \"" << pw << "\"\n"
      << "login_timeout = \"3s\"\n"
      << "ca_file = \"" << test_ca_file() << "\"\n\n"
      << "[store]\nkind = \"sqlite\"\npath = \"" << store_path << "\"\n\n"
      << extra;
    return dir.write("dmvlog.toml", c.str());
}

StoreReader::StoreReader(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
        throw std::runtime_error("cannot open store " + path);
    sqlite3_busy_timeout(db_, 5000);
}

StoreReader::~StoreReader() { sqlite3_close(db_); }

std::vector<std::vector<std::string>> StoreReader::rows(const std::string& sql) const {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
        throw std::runtime_error(std::string("bad test SQL: ") + sqlite3_errmsg(db_) + ": " + sql);
    std::vector<std::vector<std::string>> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
        std::vector<std::string> row;
        for (int i = 0; i < sqlite3_column_count(st); ++i) {
            if (sqlite3_column_type(st, i) == SQLITE_NULL) row.emplace_back("<NULL>");
            else row.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                                  static_cast<std::size_t>(sqlite3_column_bytes(st, i)));
        }
        out.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    return out;
}

long long StoreReader::scalar(const std::string& sql) const {
    auto r = rows(sql);
    if (r.empty() || r[0].empty() || r[0][0] == "<NULL>") return -1;
    return std::stoll(r[0][0]);
}

std::string StoreReader::text(const std::string& sql) const {
    auto r = rows(sql);
    if (r.empty() || r[0].empty() || r[0][0] == "<NULL>") return "";
    return r[0][0];
}

std::string StoreReader::type_of(const std::string& sql) const { return text("SELECT typeof((" + sql + "))"); }

}  // namespace dmvlog::test
