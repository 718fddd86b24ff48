#include "agent/digest/post.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <thread>

namespace dmvlog::digest {

namespace {

std::size_t sink(char* data, std::size_t size, std::size_t n, void* user) {
    auto* out = static_cast<std::string*>(user);
    if (out->size() < 4096) out->append(data, std::min<std::size_t>(size * n, 4096 - out->size()));
    return size * n;
}

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

// A URL for messages: scheme, host and port, never the path (a webhook's path is its secret).
std::string redact(const std::string& url) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos) return "(webhook)";
    auto path = url.find('/', scheme + 3);
    return url.substr(0, path) + (path == std::string::npos ? "" : "/…");
}

}  // namespace

std::string webhook_payload(const std::string& summary, const std::string& digest_json) {
    nlohmann::ordered_json j;
    j["text"] = summary;
    j["digest"] = nlohmann::ordered_json::parse(digest_json);
    return j.dump();
}

PostResult post_json(const std::string& body, const PostOptions& o) {
    static CurlGlobal global;
    PostResult r;
    auto wait = o.backoff;
    for (int attempt = 0; attempt <= o.retries; ++attempt) {
        if (attempt > 0) {
            std::this_thread::sleep_for(wait);
            wait *= 2;
        }
        ++r.attempts;
        CURL* c = curl_easy_init();
        if (!c) {
            r.error = "could not start an HTTP client";
            continue;
        }
        std::string response;
        char errbuf[CURL_ERROR_SIZE] = {0};
        curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json; charset=utf-8");
        curl_easy_setopt(c, CURLOPT_URL, o.url.c_str());
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.timeout.count()));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "dmvlog-digest/" DMVLOG_VERSION);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        const CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
        curl_easy_cleanup(c);
        r.status = status;
        if (rc != CURLE_OK) {
            r.error = fmt::format("{}: {}", redact(o.url), errbuf[0] ? errbuf : curl_easy_strerror(rc));
        } else if (status >= 200 && status < 300) {
            r.ok = true;
            r.error.clear();
            return r;
        } else {
            r.error = fmt::format("{}: HTTP {}{}", redact(o.url), status, response.empty() ? "" : " " + response.substr(0, 200));
            if (status >= 400 && status < 500 && status != 408 && status != 429) {
                spdlog::warn("digest: webhook attempt {} failed, not retried: {}", r.attempts, r.error);
                return r;   // the request itself is wrong: retrying would not help
            }
        }
        spdlog::warn("digest: webhook attempt {} of {} failed: {}", r.attempts, o.retries + 1, r.error);
    }
    return r;
}

}  // namespace dmvlog::digest
