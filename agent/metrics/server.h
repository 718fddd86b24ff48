// The agent's HTTP endpoint (`[metrics] listen`, 127.0.0.1:9187 by default), one listener for:
//   GET /metrics  the Prometheus text exposition of agent/metrics/registry.h
//   GET /healthz  200 "ok": the process is alive and answering
//   GET /readyz   200 when every instance is reachable and the store takes writes, else 503; the body says
//                 which check failed
// It is civetweb (Debian's libcivetweb, the server prometheus-cpp's Exposer wraps) used directly: the Exposer
// serves registries only and cannot answer other paths with a status of our choosing.
#pragma once

#include <memory>
#include <string>

class CivetServer;
class CivetHandler;

namespace dmvlog::metrics {

class Metrics;

class Server {
public:
    // listen: "host:port" (config::Metrics::listen). Throws std::runtime_error naming the address when it
    // cannot listen there (port in use, not an address of this host).
    Server(const std::string& listen, Metrics& metrics);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // The port it listens on (the configured one).
    int port() const;

private:
    std::unique_ptr<CivetHandler> metrics_, healthz_, readyz_;
    std::unique_ptr<CivetServer> server_;
};

}  // namespace dmvlog::metrics
