// A stand-in for systemd's notification socket: an AF_UNIX datagram socket the test binds and passes to the
// agent as $NOTIFY_SOCKET; every datagram (sd_notify message) is kept in arrival order.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dmvlog::test {

class NotifySocket {
public:
    explicit NotifySocket(const std::string& path);
    ~NotifySocket();
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    const std::string& path() const { return path_; }
    std::vector<std::string> messages() const;
    // Waits until a message at index >= from contains `text` on a line of its own (e.g. "READY=1"); returns
    // its index, or -1 after timeout.
    int wait_for(const std::string& line, std::size_t from, std::chrono::milliseconds timeout) const;
    // Index of the first message at or after `from` with that line; -1 when none.
    int find(const std::string& line, std::size_t from = 0) const;
    // Every message, one per line with \n shown as " | ", for failure messages.
    std::string dump() const;

private:
    void reader();

    std::string path_;
    int fd_ = -1;
    int stop_pipe_[2] = {-1, -1};
    std::thread thread_;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    std::vector<std::string> messages_;
};

// True when `message` has `line` as one of its lines ("READY=1", or a prefix ending in '=' such as "STATUS=").
bool has_line(const std::string& message, const std::string& line);

}  // namespace dmvlog::test
