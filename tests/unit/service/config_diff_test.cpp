// What a reload logs as changed.
#include "agent/service/config_diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>


namespace dmvlog::service {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Parsed {
    config::Config cfg;
    std::vector<collect::CollectorDecl> decls;
};

Parsed parse(const std::string& text) {
    Parsed p;
    p.decls = collect::load_builtin();
    p.cfg = config::parse(text, "t.toml", collect::collector_names(p.decls));
    collect::apply_overrides(p.decls, p.cfg, nullptr);
    return p;
}

const std::string kBase = R"([[instance]]
name = "a"
connection = "DSN=a"
user = "dmvlog"
password_env = "PW"

[store]
path = "/data/d.db"

[collectors.requests_5s]
enabled = false
)";

TEST(ConfigDiff, TheSameConfigurationChangesNothing) {
    auto a = parse(kBase), b = parse(kBase);
    EXPECT_THAT(describe_changes(a.cfg, a.decls, b.cfg, b.decls), IsEmpty());
}

TEST(ConfigDiff, NamesInstancesStoreLevelAndCollectorsWithoutSecrets) {
    auto a = parse(kBase);
    auto b = parse(R"([[instance]]
name = "a"
connection = "DSN=a2"
user = "dmvlog"
password_credential = "a-pw"

[[instance]]
name = "b"
connection = "DSN=b"

[store]
path = "/data/e.db"

[logging]
level = "debug"

[agent]
stop_timeout = "20s"

[collectors.requests_1m]
interval = "2m"
)");
    EXPECT_THAT(describe_changes(a.cfg, a.decls, b.cfg, b.decls),
                ElementsAre("instance a: connection changed", "instance a: password from: password_env PW -> password_credential a-pw",
                            "instance added: b", "store: sqlite /data/d.db -> sqlite /data/e.db",
                            "agent.stop_timeout: 10s -> 20s", "logging.level: info -> debug",
                            "collector requests_5s: enabled", "collector requests_1m: interval: 1m -> 2m"));
    EXPECT_THAT(describe_changes(b.cfg, b.decls, a.cfg, a.decls),
                ::testing::Contains("instance removed: b"));
}

}  // namespace
}  // namespace dmvlog::service
