// digest::post_json against a real HTTP server on loopback: the body arrives whole, 5xx is retried, 4xx is
// not, a dead port and a server that never answers fail within the attempts and timeouts given.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent/digest/post.h"

namespace dmvlog::digest {
namespace {

using namespace std::chrono_literals;

// Answers each connection with the next status of a script (the last one repeats); 0 = read, never answer.
class HttpServer {
public:
    explicit HttpServer(std::vector<int> statuses) : statuses_(std::move(statuses)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_, 8);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~HttpServer() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/T000/B000/secret"; }
    int requests() const { return requests_; }
    std::string last_request() const {
        std::lock_guard l(m_);
        return last_;
    }

private:
    void serve() {
        while (!stop_) {
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            std::string req;
            char buf[65536];
            // Headers, then Content-Length bytes of body.
            std::size_t want = std::string::npos;
            while (true) {
                auto n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                req.append(buf, static_cast<std::size_t>(n));
                auto end = req.find("\r\n\r\n");
                if (end != std::string::npos && want == std::string::npos) {
                    auto cl = req.find("Content-Length: ");
                    want = end + 4 + (cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16)));
                }
                if (want != std::string::npos && req.size() >= want) break;
            }
            const int k = requests_++;
            {
                std::lock_guard l(m_);
                last_ = req;
            }
            const int status = statuses_[std::min<std::size_t>(static_cast<std::size_t>(k), statuses_.size() - 1)];
            if (status == 0) {
                while (!stop_ && ::recv(c, buf, sizeof buf, 0) > 0) {
                }
            } else {
                std::string body = status < 300 ? "ok" : "no";
                std::string resp = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) +
                                   "\r\nConnection: close\r\n\r\n" + body;
                ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
            }
            ::close(c);
        }
    }
    std::vector<int> statuses_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> requests_{0};
    mutable std::mutex m_;
    std::string last_;
    std::thread thread_;
};

PostOptions opts(const std::string& url, int retries = 3) {
    PostOptions o;
    o.url = url;
    o.timeout = 2s;
    o.retries = retries;
    o.backoff = 10ms;
    return o;
}

TEST(WebhookPost, DeliversTheJsonBody) {
    HttpServer s({200});
    auto body = webhook_payload("prod1: 1 blocking episode", R"({"schema":"dmvlog-digest/1","instances":[]})");
    auto r = post_json(body, opts(s.url()));
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.status, 200);
    auto req = s.last_request();
    EXPECT_EQ(req.rfind("POST /hooks/T000/B000/secret HTTP/1.1", 0), 0u) << req.substr(0, 200);
    EXPECT_NE(req.find("Content-Type: application/json"), std::string::npos);
    auto j = nlohmann::json::parse(req.substr(req.find("\r\n\r\n") + 4));
    EXPECT_EQ(j["text"], "prod1: 1 blocking episode");
    EXPECT_EQ(j["digest"]["schema"], "dmvlog-digest/1");
}

TEST(WebhookPost, RetriesServerErrors) {
    HttpServer s({503, 500, 200});
    auto r = post_json("{}", opts(s.url()));
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.attempts, 3);
    EXPECT_EQ(s.requests(), 3);
}

TEST(WebhookPost, GivesUpAfterTheRetriesAndSaysWhy) {
    HttpServer s({500});
    auto r = post_json("{}", opts(s.url(), 2));
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 3);
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.error.find("HTTP 500"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("secret"), std::string::npos) << "the webhook's path is not logged: " << r.error;
}

TEST(WebhookPost, ClientErrorsAreNotRetried) {
    HttpServer s({404});
    auto r = post_json("{}", opts(s.url()));
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.status, 404);
}

TEST(WebhookPost, ANoAnswerTimesOut) {
    HttpServer s({0});
    auto o = opts(s.url(), 1);
    o.timeout = 300ms;
    auto start = std::chrono::steady_clock::now();
    auto r = post_json("{}", o);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 2);
    EXPECT_EQ(r.status, 0);
    EXPECT_LT(took, 5s) << "two attempts of 300 ms";
    EXPECT_NE(r.error.find("127.0.0.1"), std::string::npos) << r.error;
}

TEST(WebhookPost, ADeadPortFails) {
    int port;
    {
        HttpServer s({200});
        port = std::stoi(s.url().substr(17, 5));
    }
    auto r = post_json("{}", opts("http://127.0.0.1:" + std::to_string(port) + "/x", 1));
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 2);
}

}  // namespace
}  // namespace dmvlog::digest
