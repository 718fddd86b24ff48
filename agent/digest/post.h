// Sending the digest to a webhook: a JSON POST (Slack-compatible "text" plus the structured digest) over
// libcurl, with a timeout per attempt and retries with backoff on network errors, 5xx and 429.
#pragma once

#include <chrono>
#include <string>

namespace dmvlog::digest {

struct PostOptions {
    std::string url;
    std::chrono::milliseconds timeout{10000};   // per attempt, connect included
    int retries = 3;                            // attempts after the first
    std::chrono::milliseconds backoff{1000};    // before the first retry; doubles each time
};

struct PostResult {
    bool ok = false;
    int attempts = 0;
    long status = 0;          // the last HTTP status (0: no response)
    std::string error;        // why the last attempt failed ("" when ok)
};

PostResult post_json(const std::string& body, const PostOptions& options);

// The webhook payload: {"text": summary, "digest": <the JSON digest>}.
std::string webhook_payload(const std::string& summary, const std::string& digest_json);

}  // namespace dmvlog::digest
