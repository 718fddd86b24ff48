// dmvlog digest: the blocking digest of a window (docs/digest.md).
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "agent/cli/cli.h"
#include "agent/cli/common.h"
#include "agent/digest/digest.h"
#include "agent/digest/format.h"
#include "agent/digest/post.h"
#include "agent/query/open.h"
#include "agent/store/sqlite_store.h"

namespace dmvlog::cli {

namespace {

const char* kUsage =
    "Usage: dmvlog digest [--store URI] [--instance NAME] [--last 1h | --from T --to T] [--tz ZONE]\n"
    "                     [--format text|markdown|html|json] [--out FILE] [--post URL] [--top N]\n"
    "                     [--deliver] [--config FILE]\n\n"
    "The blocking digest of a window: blocking episodes, blocked session time, the longest episode, sessions\n"
    "blocked at the worst moment and deadlocks, against the previous window; head blockers, blocked statements,\n"
    "contended resources and objects, deadlocks; top CPU queries and waits for context.\n\n"
    "The window is half-open [from, to); by default the last complete clock hour in the time zone (--tz, else\n"
    "agent.time_zone). An episode crossing a boundary counts in each window for its part inside it.\n"
    "--deliver writes and posts where the configuration's [digest] says (the dmvlog-digest.timer runs this).\n"
    "--out FILE: {from} in the name becomes the window start (YYYYMMDD-HHMM), {instance} the instance.\n"
    "Exit status: 0 ok; 1 store error; 2 usage or configuration error; 3 the digest was made but writing the\n"
    "file or posting to the webhook failed (logged).\n";

constexpr int exit_delivery = 3;

std::string fill_name(std::string pattern, const digest::Digest& d, const query::Zone& zone, const std::string& instance) {
    const auto local = zone.display(d.window.from);   // "YYYY-MM-DD HH:MM:SS ..."
    const std::string from = local.substr(0, 4) + local.substr(5, 2) + local.substr(8, 2) + "-" + local.substr(11, 2) + local.substr(14, 2);
    for (auto [key, value] : {std::pair<std::string, std::string>{"{from}", from}, {"{instance}", instance}}) {
        for (auto pos = pattern.find(key); pos != std::string::npos; pos = pattern.find(key, pos + value.size()))
            pattern.replace(pos, key.size(), value);
    }
    return pattern;
}

// Writes next to the target and renames, so a reader never sees half a file.
bool write_file(const std::string& path, const std::string& text, std::string& error) {
    std::error_code ec;
    const std::filesystem::path p(path);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        out.flush();
        if (!out) {
            error = "cannot write " + tmp;
            return false;
        }
    }
    std::filesystem::rename(tmp, p, ec);
    if (ec) {
        error = "cannot rename " + tmp + " to " + path + ": " + ec.message();
        std::filesystem::remove(tmp, ec);
        return false;
    }
    return true;
}

}  // namespace

int cmd_digest(const Args& args) {
    cxxopts::Options opts("dmvlog digest", kUsage);
    opts.add_options()("store", "store URI (sqlite:PATH or postgres:CONNINFO)", cxxopts::value<std::string>())(
        "instance", "instance name(s), comma separated (default: all in the store)", cxxopts::value<std::string>())(
        "from", "window start (inclusive)", cxxopts::value<std::string>())(
        "to", "window end (exclusive)", cxxopts::value<std::string>())(
        "last", "window of this length ending now (30m, 1h, 2d)", cxxopts::value<std::string>())(
        "tz", "IANA time zone for the window and times", cxxopts::value<std::string>())(
        "format", "text, markdown, html or json", cxxopts::value<std::string>())(
        "out", "write to this file instead of standard output", cxxopts::value<std::string>())(
        "post", "also POST the JSON digest to this webhook URL", cxxopts::value<std::string>())(
        "top", "rows per list", cxxopts::value<int>())(
        "deliver", "write and post where [digest] of the configuration says")(
        "config", "configuration file", cxxopts::value<std::string>())("h,help", "show this help");
    opts.custom_help("[OPTIONS]");
    cxxopts::ParseResult r;
    if (int rc = parse_or_usage(opts, "digest", args, r); rc >= 0) return rc;
    setup_logging("info");

    auto where = read_target(r, "digest");
    if (!where) return exit_usage;
    const bool deliver = r.count("deliver") > 0;
    config::Digest dc;
    std::string config_file;
    if (where->loaded) {
        dc = where->loaded->cfg.digest;
        config_file = where->loaded->cfg.source;
    } else if (deliver) {
        std::fprintf(stderr, "dmvlog digest: --deliver needs the configuration's [digest] (give --config)\n");
        return exit_usage;
    }

    std::string format_name = r.count("format") ? r["format"].as<std::string>() : deliver ? dc.format : "text";
    auto format = digest::parse_format(format_name);
    if (!format) {
        std::fprintf(stderr, "dmvlog digest: --format must be text, markdown, html or json (got '%s')\n", format_name.c_str());
        return exit_usage;
    }
    std::string out = r.count("out") ? r["out"].as<std::string>() : deliver ? dc.out : "";
    std::string post;
    try {
        post = r.count("post") ? r["post"].as<std::string>() : deliver ? config::resolve_digest_post(dc, config_file) : "";
    } catch (const config::ConfigError& e) {
        std::fprintf(stderr, "dmvlog digest: configuration error: %s\n", e.what());
        return exit_usage;
    }
    if (!post.empty() && post.rfind("http://", 0) != 0 && post.rfind("https://", 0) != 0) {
        std::fprintf(stderr, "dmvlog digest: --post must be an http:// or https:// URL\n");
        return exit_usage;
    }

    digest::Digest d;
    std::unique_ptr<query::Zone> zone;
    try {
        zone = std::make_unique<query::Zone>(where->tz_name);
        digest::Options o;
        o.zone = zone.get();
        o.top = r.count("top") ? r["top"].as<int>() : dc.top;
        if (o.top < 1) throw query::UsageError("--top must be 1 or more");
        const auto now = query::now_ticks();
        o.now = now;
        if (r.count("from") || r.count("to") || r.count("last")) {
            query::WindowArgs wa;
            if (r.count("from")) wa.from = r["from"].as<std::string>();
            if (r.count("to")) wa.to = r["to"].as<std::string>();
            if (r.count("last")) wa.last = r["last"].as<std::string>();
            o.window = query::make_window(wa, *zone, now, false, false);
        } else {
            o.window = digest::last_complete_hour(*zone, now);
        }
        if (r.count("instance")) o.instances = split_list(r["instance"].as<std::string>());

        auto db = query::open_reader(where->store_uri, where->store_password, where->loaded ? &where->loaded->cfg.store : nullptr);
        d = digest::build(db.get(), o);
        if (!o.instances.empty())
            for (const auto& inst : d.instances)
                if (inst.source.empty() && inst.episodes.empty() && inst.top_cpu.empty() && inst.top_waits.empty())
                    spdlog::warn("digest: the store has nothing of instance '{}'", inst.instance);
    } catch (const query::UsageError& e) {
        std::fprintf(stderr, "dmvlog digest: %s\n", e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dmvlog digest: %s\n", e.what());
        return exit_runtime;
    }

    int rc = exit_ok;
    const std::string text = digest::render(d, *format, *zone);
    if (out.empty()) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    } else {
        std::string instance = d.instances.size() == 1 ? d.instances[0].instance : "all";
        std::string path = fill_name(out, d, *zone, instance), error;
        if (write_file(path, text, error)) {
            spdlog::info("digest: {} written ({} bytes)", path, text.size());
        } else {
            spdlog::error("digest: {}", error);
            rc = exit_delivery;
        }
    }
    if (!post.empty()) {
        digest::PostOptions po;
        po.url = post;
        po.timeout = dc.post_timeout;
        po.retries = dc.post_retries;
        const auto body = digest::webhook_payload(digest::summary_text(d, *zone), digest::render_json(d, *zone));
        auto res = digest::post_json(body, po);
        if (res.ok) {
            spdlog::info("digest: posted to the webhook (HTTP {}, attempt {})", res.status, res.attempts);
        } else {
            spdlog::error("digest: posting to the webhook failed after {} attempt{}: {}", res.attempts,
                          res.attempts == 1 ? "" : "s", res.error);
            rc = exit_delivery;
        }
    }
    return rc;
}

}  // namespace dmvlog::cli
