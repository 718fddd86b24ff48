#include "agent/metrics/server.h"

#include <CivetServer.h>
#include <civetweb.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "agent/config/config.h"
#include "agent/metrics/registry.h"

namespace dmvlog::metrics {

namespace {

void respond(mg_connection* conn, int status, const char* reason, const char* content_type, const std::string& body) {
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
              "Connection: close\r\n\r\n",
              status, reason, content_type, body.size());
    mg_write(conn, body.data(), body.size());
}

class MetricsHandler final : public CivetHandler {
public:
    explicit MetricsHandler(Metrics& m) : m_(m) {}
    bool handleGet(CivetServer*, mg_connection* conn) override {
        try {
            respond(conn, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", m_.scrape());
        } catch (const std::exception& e) {
            respond(conn, 500, "Internal Server Error", "text/plain; charset=utf-8", std::string("metrics: ") + e.what() + "\n");
        }
        return true;
    }

private:
    Metrics& m_;
};

class HealthHandler final : public CivetHandler {
public:
    bool handleGet(CivetServer*, mg_connection* conn) override {
        respond(conn, 200, "OK", "text/plain; charset=utf-8", "ok\n");
        return true;
    }
};

class ReadyHandler final : public CivetHandler {
public:
    explicit ReadyHandler(Metrics& m) : m_(m) {}
    bool handleGet(CivetServer*, mg_connection* conn) override {
        Readiness r;
        try {
            r = m_.readiness();
        } catch (const std::exception& e) {
            r.detail = std::string("readiness: ") + e.what() + "\n";
        }
        if (r.ready) respond(conn, 200, "OK", "text/plain; charset=utf-8", "ready\n" + r.detail);
        else respond(conn, 503, "Service Unavailable", "text/plain; charset=utf-8", "not ready\n" + r.detail);
        return true;
    }

private:
    Metrics& m_;
};

int log_message(const mg_connection*, const char* message) {
    spdlog::warn("metrics endpoint: {}", message);
    return 1;
}

}  // namespace

Server::Server(const std::string& listen, Metrics& metrics)
    : metrics_(std::make_unique<MetricsHandler>(metrics)), healthz_(std::make_unique<HealthHandler>()),
      readyz_(std::make_unique<ReadyHandler>(metrics)) {
    std::string host;
    int port = 0;
    if (!config::split_listen(listen, host, port))
        throw std::runtime_error(fmt::format("metrics endpoint: \"{}\" is not host:port", listen));
    // civetweb takes numeric addresses ("127.0.0.1:9187"; IPv6 "[::1]:9187" only when it is built with IPv6).
    if (host == "localhost") host = "127.0.0.1";
    if (host.find(':') != std::string::npos && mg_check_feature(8) == 0)
        throw std::runtime_error(fmt::format("metrics endpoint: cannot listen on {}: this system's civetweb is built "
                                             "without IPv6; use an IPv4 address such as 127.0.0.1",
                                             listen));
    const std::string ports = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                                  : fmt::format("{}:{}", host, port);
    CivetCallbacks callbacks;
    callbacks.log_message = &log_message;
    try {
        server_ = std::make_unique<CivetServer>(
            std::vector<std::string>{"listening_ports", ports, "num_threads", "2", "request_timeout_ms", "10000",
                                     "enable_keep_alive", "no"},
            &callbacks);
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("metrics endpoint: cannot listen on {}: {} (is the port in use? set "
                                             "[metrics] listen, or enabled = false)",
                                             listen, e.what()));
    }
    server_->addHandler("/metrics", *metrics_);
    server_->addHandler("/healthz", *healthz_);
    server_->addHandler("/readyz", *readyz_);
}

Server::~Server() {
    if (server_) server_->close();
}

int Server::port() const {
    auto ports = server_->getListeningPorts();
    return ports.empty() ? 0 : ports.front();
}

}  // namespace dmvlog::metrics
