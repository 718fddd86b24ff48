// packaging/dmvlog.example.toml must parse, show every key, and state the defaults the code has.
#include "agent/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "agent/collect/declaration.h"

namespace dmvlog::config {
namespace {

using namespace std::chrono_literals;

const std::filesystem::path kExample = std::filesystem::path(DMVLOG_SOURCE_DIR) / "packaging/dmvlog.example.toml";

std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(ExampleConfig, ParsesWithTheBuiltinCollectorsAndCanRun) {
    const auto known = collect::collector_names(collect::load_builtin());
    const Config cfg = load_file(kExample, known);
    EXPECT_NO_THROW(validate_for_run(cfg));
    EXPECT_TRUE(cfg.warnings.empty());
    auto decls = collect::load_builtin();
    EXPECT_NO_THROW(collect::apply_overrides(decls, cfg));
}

TEST(ExampleConfig, ShowsTheDefaults) {
    const Config cfg = load_file(kExample);
    const Config defaults;
    const Instance default_instance;
    ASSERT_EQ(cfg.instances.size(), 1u);
    EXPECT_EQ(cfg.instances[0].login_timeout, default_instance.login_timeout);
    EXPECT_EQ(cfg.instances[0].lock_timeout, default_instance.lock_timeout);
    EXPECT_TRUE(cfg.instances[0].include_databases.empty());
    EXPECT_TRUE(cfg.instances[0].exclude_databases.empty());
    EXPECT_EQ(cfg.instances[0].encrypt, default_instance.encrypt);
    EXPECT_EQ(cfg.instances[0].trust_server_certificate, default_instance.trust_server_certificate);
    EXPECT_EQ(cfg.instances[0].ca_file, default_instance.ca_file);
    EXPECT_EQ(cfg.store.kind, defaults.store.kind);
    EXPECT_EQ(cfg.store.path, defaults.store.path);
    EXPECT_EQ(cfg.store.busy_timeout, defaults.store.busy_timeout);
    EXPECT_EQ(cfg.logging.level, defaults.logging.level);
    EXPECT_EQ(cfg.agent.time_zone, defaults.agent.time_zone);
    EXPECT_EQ(cfg.agent.splay, defaults.agent.splay);
    EXPECT_EQ(cfg.agent.stop_timeout, defaults.agent.stop_timeout);
    EXPECT_EQ(cfg.agent.quarantine, defaults.agent.quarantine);
    EXPECT_EQ(cfg.digest.format, defaults.digest.format);
    EXPECT_EQ(cfg.digest.out, defaults.digest.out);
    EXPECT_EQ(cfg.digest.post, defaults.digest.post);
    EXPECT_EQ(cfg.digest.post_timeout, defaults.digest.post_timeout);
    EXPECT_EQ(cfg.digest.post_retries, defaults.digest.post_retries);
    EXPECT_EQ(cfg.digest.top, defaults.digest.top);
    EXPECT_EQ(cfg.spool.enabled, defaults.spool.enabled);
    EXPECT_EQ(cfg.spool.max_bytes, defaults.spool.max_bytes);
    EXPECT_EQ(cfg.metrics.enabled, defaults.metrics.enabled);
    EXPECT_EQ(cfg.metrics.listen, defaults.metrics.listen);
}

TEST(ExampleConfig, MentionsEveryKey) {
    const std::string text = read_text(kExample);
    for (const char* key : {"name", "connection", "user", "password_file", "password_env", "password_credential",
                            "login_timeout", "lock_timeout", "include_databases", "exclude_databases", "encrypt",
                            "trust_server_certificate", "ca_file", "kind", "path",
                            "busy_timeout", "level", "time_zone", "splay", "quarantine", "enabled", "interval", "timeout",
                            "retention", "params", "format", "out", "post", "post_file", "post_env", "post_timeout",
                            "post_retries", "top", "max_bytes", "dir", "listen"}) {
        const std::regex assignment("(^|\\n)#? ?" + std::string(key) + " = ");
        EXPECT_TRUE(std::regex_search(text, assignment)) << key;
    }
    for (const char* section : {"[[instance]]", "[store]", "[logging]", "[agent]", "[xe]", "[digest]", "[spool]", "[metrics]", "[collectors."}) {
        EXPECT_NE(text.find(section), std::string::npos) << section;
    }
}

TEST(ExampleConfig, CommentedOutOverrideShowsTheDeclaredDefaults) {
    // The commented [collectors.requests_5s] block, uncommented, must parse and equal the declaration.
    const std::string text = read_text(kExample);
    const auto begin = text.find("# [collectors.requests_5s]");
    ASSERT_NE(begin, std::string::npos);
    std::string block;
    std::istringstream lines(text.substr(begin));
    for (std::string line; std::getline(lines, line) && line.starts_with("# ");) block += line.substr(2) + "\n";
    const Config cfg = parse(block, "block.toml");
    const CollectorOverride& o = cfg.collectors.at("requests_5s");
    int found = 0;
    for (const auto& d : collect::load_builtin()) {
        if (d.name != "requests_5s") continue;
        ++found;
        EXPECT_EQ(o.enabled, std::optional<bool>(d.enabled));
        EXPECT_EQ(o.interval, std::optional<std::chrono::milliseconds>(d.interval));
        EXPECT_EQ(o.timeout, std::optional<std::chrono::milliseconds>(d.timeout));
        EXPECT_EQ(o.retention, std::optional<std::chrono::seconds>(d.retention));
        std::map<std::string, long long> params(d.params.begin(), d.params.end());
        EXPECT_EQ(o.params, params);
    }
    EXPECT_EQ(found, 1);
}

}  // namespace
}  // namespace dmvlog::config
