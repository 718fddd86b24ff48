#include "notify_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

namespace dmvlog::test {

bool has_line(const std::string& message, const std::string& line) {
    std::istringstream in(message);
    std::string l;
    const bool prefix = !line.empty() && line.back() == '=';
    while (std::getline(in, l)) {
        if (prefix ? l.rfind(line, 0) == 0 : l == line) return true;
    }
    return false;
}

NotifySocket::NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) throw std::runtime_error("notify socket path too long: " + path);
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    unlink(path.c_str());
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
        throw std::runtime_error("bind " + path + ": " + std::strerror(errno));
    if (pipe(stop_pipe_) != 0) throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
    thread_ = std::thread([this] { reader(); });
}

NotifySocket::~NotifySocket() {
    if (write(stop_pipe_[1], "x", 1) < 0) {
    }
    thread_.join();
    close(fd_);
    close(stop_pipe_[0]);
    close(stop_pipe_[1]);
    unlink(path_.c_str());
}

void NotifySocket::reader() {
    char buf[4096];
    for (;;) {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents) return;
        if (fds[0].revents & POLLIN) {
            ssize_t n = recv(fd_, buf, sizeof(buf), 0);
            if (n <= 0) continue;
            std::lock_guard lock(mu_);
            messages_.emplace_back(buf, static_cast<std::size_t>(n));
            cv_.notify_all();
        }
    }
}

std::vector<std::string> NotifySocket::messages() const {
    std::lock_guard lock(mu_);
    return messages_;
}

int NotifySocket::find(const std::string& line, std::size_t from) const {
    std::lock_guard lock(mu_);
    for (std::size_t i = from; i < messages_.size(); ++i)
        if (has_line(messages_[i], line)) return static_cast<int>(i);
    return -1;
}

int NotifySocket::wait_for(const std::string& line, std::size_t from, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    int found = -1;
    cv_.wait_for(lock, timeout, [&] {
        for (std::size_t i = from; i < messages_.size(); ++i)
            if (has_line(messages_[i], line)) {
                found = static_cast<int>(i);
                return true;
            }
        return false;
    });
    return found;
}

std::string NotifySocket::dump() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& m : messages_) {
        std::string shown = m;
        for (std::size_t p; (p = shown.find('\n')) != std::string::npos;) shown.replace(p, 1, " | ");
        out += shown + "\n";
    }
    return out;
}

}  // namespace dmvlog::test
