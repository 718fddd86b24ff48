// Configuration parsing: values, defaults, and the message for every class of mistake.
#include "agent/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace dmvlog::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

const std::string kInstance = "[[instance]]\nname = \"a\"\nconnection = \"DSN=a\"\n";

// The message of the ConfigError that parsing text throws, or "<no error>".
std::string error_of(const std::string& text, const std::vector<std::string>& known = {}) {
    try {
        parse(text, "t.toml", known);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "<no error>";
}

TEST(ConfigParse, EmptyFileGivesDefaults) {
    const Config cfg = parse("", "t.toml");
    EXPECT_EQ(cfg.source, "t.toml");
    EXPECT_TRUE(cfg.instances.empty());
    EXPECT_EQ(cfg.store.kind, "sqlite");
    EXPECT_EQ(cfg.store.path, "/var/lib/dmvlog/dmvlog.db");
    EXPECT_EQ(cfg.store.busy_timeout, 5000ms);
    EXPECT_EQ(cfg.logging.level, "info");
    EXPECT_EQ(cfg.agent.time_zone, "UTC");
    EXPECT_EQ(cfg.agent.splay, 0ms);
    EXPECT_EQ(cfg.agent.stop_timeout, 10s);
    EXPECT_EQ(cfg.agent.quarantine, std::chrono::hours(1));
    EXPECT_EQ(cfg.agent.snapshot_part_rows, 500u);
    EXPECT_TRUE(cfg.collectors.empty());
    EXPECT_TRUE(cfg.warnings.empty());
}

TEST(ConfigParse, EveryKey) {
    const Config cfg = parse(R"(
[[instance]]
name = "prod-1.a_b"
connection = "Driver=FreeTDS;Server=h,1433"
user = "dmvlog"
password_env = "PROD_PW"
login_timeout = "20s"
lock_timeout = "250ms"
include_databases = ["a", "b"]
exclude_databases = ["tempdb"]

[[instance]]
name = "second"
connection = "DSN=second"
password_credential = "second-pw"

[store]
kind = "sqlite"
path = "/data/d.db"
busy_timeout = "2s"

[logging]
level = "debug"

[agent]
time_zone = "UTC"
splay = "3s"
stop_timeout = "25s"
quarantine = "10m"
snapshot_part_rows = 800

[collectors.requests_5s]
enabled = false
interval = "10s"
timeout = "9s"
retention = "2d"
params = { top_rows = 50, min_elapsed_ms = 0 }
)",
                             "t.toml");
    ASSERT_EQ(cfg.instances.size(), 2u);
    const Instance& a = cfg.instances[0];
    EXPECT_EQ(a.name, "prod-1.a_b");
    EXPECT_EQ(a.connection, "Driver=FreeTDS;Server=h,1433");
    EXPECT_EQ(a.user, "dmvlog");
    EXPECT_EQ(a.password_env, std::optional<std::string>("PROD_PW"));
    EXPECT_FALSE(a.password_file.has_value());
    EXPECT_FALSE(a.password_credential.has_value());
    EXPECT_EQ(a.login_timeout, 20s);
    EXPECT_EQ(a.lock_timeout, 250ms);
    EXPECT_EQ(a.include_databases, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(a.exclude_databases, (std::vector<std::string>{"tempdb"}));
    EXPECT_EQ(a.line, 2);
    const Instance& b = cfg.instances[1];
    EXPECT_EQ(b.name, "second");
    EXPECT_EQ(b.user, "");
    EXPECT_EQ(b.password_credential, std::optional<std::string>("second-pw"));
    EXPECT_EQ(b.login_timeout, 10s);
    EXPECT_EQ(b.lock_timeout, 1000ms);
    EXPECT_EQ(b.line, 12);
    EXPECT_EQ(cfg.store.path, "/data/d.db");
    EXPECT_EQ(cfg.store.busy_timeout, 2s);
    EXPECT_EQ(cfg.logging.level, "debug");
    EXPECT_EQ(cfg.agent.splay, 3s);
    EXPECT_EQ(cfg.agent.stop_timeout, 25s);
    EXPECT_EQ(cfg.agent.quarantine, std::chrono::minutes(10));
    EXPECT_EQ(cfg.agent.snapshot_part_rows, 800u);
    ASSERT_EQ(cfg.collectors.count("requests_5s"), 1u);
    const CollectorOverride& o = cfg.collectors.at("requests_5s");
    EXPECT_EQ(o.enabled, std::optional<bool>(false));
    EXPECT_EQ(o.interval, std::optional<std::chrono::milliseconds>(10s));
    EXPECT_EQ(o.timeout, std::optional<std::chrono::milliseconds>(9s));
    EXPECT_EQ(o.retention, std::optional<std::chrono::seconds>(std::chrono::hours(48)));
    EXPECT_EQ(o.params, (std::map<std::string, long long>{{"top_rows", 50}, {"min_elapsed_ms", 0}}));
    EXPECT_EQ(o.line, 32);  // the [collectors.requests_5s] line of the text above
    EXPECT_TRUE(cfg.warnings.empty());
}

TEST(ConfigParse, OverrideFieldsLeftUnsetStayUnset) {
    const Config cfg = parse("[collectors.requests_1m]\nretention = \"90d\"\n", "t.toml");
    const CollectorOverride& o = cfg.collectors.at("requests_1m");
    EXPECT_FALSE(o.enabled.has_value());
    EXPECT_FALSE(o.interval.has_value());
    EXPECT_FALSE(o.timeout.has_value());
    EXPECT_EQ(o.retention, std::optional<std::chrono::seconds>(std::chrono::hours(90 * 24)));
    EXPECT_TRUE(o.params.empty());
    EXPECT_EQ(o.line, 1);
}

// ---- unknown keys

TEST(ConfigErrors, UnknownKeySuggestsTheNearest) {
    EXPECT_EQ(error_of(kInstance + "\n[collectors.requests_5s]\nintervall = \"5s\"\n"),
              "t.toml:6:1: collectors.requests_5s.intervall: unknown key; did you mean 'interval'? "
              "(allowed keys: enabled, interval, timeout, retention, params)");
    EXPECT_EQ(error_of("[[instances]]\nname = \"a\"\n"),
              "t.toml:1:3: instances: unknown key; did you mean 'instance'? "
              "(allowed keys: instance, store, logging, agent, xe, digest, spool, metrics, collectors)");
    EXPECT_THAT(error_of(kInstance + "pasword_file = \"/x\"\n"),
                HasSubstr("t.toml:4:1: instance[0].pasword_file: unknown key; did you mean 'password_file'?"));
    EXPECT_THAT(error_of("[agent]\ntimezone = \"UTC\"\n"),
                HasSubstr("t.toml:2:1: agent.timezone: unknown key; did you mean 'time_zone'?"));
    EXPECT_THAT(error_of("[store]\nbusy = \"1s\"\n"), HasSubstr("store.busy: unknown key; did you mean 'busy_timeout'?"));
}

TEST(ConfigErrors, UnknownKeyWithoutNearMatchListsAllowedKeys) {
    const std::string e = error_of("[logging]\nfile = \"/var/log/x\"\n");
    EXPECT_EQ(e, "t.toml:2:1: logging.file: unknown key (allowed keys: level)");
    EXPECT_THAT(e, Not(HasSubstr("did you mean")));
}

TEST(ConfigErrors, FirstUnknownKeyInFileOrderIsReported) {
    // toml++ sorts keys; the message must still name the first one in the file.
    EXPECT_THAT(error_of("[store]\nzzz = 1\naaa = 2\n"), HasSubstr("t.toml:2:1: store.zzz: unknown key"));
}

// ---- wrong types

TEST(ConfigErrors, WrongTypes) {
    EXPECT_EQ(error_of("[[instance]]\nname = 5\n"), "t.toml:2:8: instance[0].name: expected string, got integer");
    EXPECT_EQ(error_of(kInstance + "login_timeout = 10\n"),
              "t.toml:4:17: instance[0].login_timeout: expected a duration string such as \"5s\" "
              "(units: ms, s, m, h, d), got integer");
    EXPECT_EQ(error_of("[collectors.x]\nenabled = \"yes\"\n"),
              "t.toml:2:11: collectors.x.enabled: expected boolean (true or false), got string");
    EXPECT_EQ(error_of(kInstance + "include_databases = \"db1\"\n"),
              "t.toml:4:21: instance[0].include_databases: expected array of strings, got string");
    EXPECT_EQ(error_of(kInstance + "include_databases = [\"db1\", 2]\n"),
              "t.toml:4:29: instance[0].include_databases[1]: expected string, got integer");
    EXPECT_EQ(error_of("store = 1\n"), "t.toml:1:9: store: expected table, got integer");
    EXPECT_EQ(error_of("[collectors.x]\nparams = { top_rows = 1.5 }\n"),
              "t.toml:2:23: collectors.x.params.top_rows: expected integer, got float");
    EXPECT_EQ(error_of("[collectors]\nx = 5\n"), "t.toml:2:5: collectors.x: expected table, got integer");
}

TEST(ConfigErrors, InstanceMustBeAnArrayOfTables) {
    EXPECT_EQ(error_of("[instance]\nname = \"a\"\n"),
              "t.toml:1:1: instance: expected an array of tables ([[instance]] sections), got table");
    EXPECT_EQ(error_of("instance = [1]\n"),
              "t.toml:1:12: instance: expected an array of tables ([[instance]] sections), got array");
    EXPECT_TRUE(parse("instance = []\n", "t.toml").instances.empty());
}

// ---- impossible values

TEST(ConfigErrors, ImpossibleValues) {
    EXPECT_EQ(error_of("[collectors.requests_5s]\ninterval = \"0s\"\n"),
              "t.toml:2:12: collectors.requests_5s.interval: must be > 0 (got \"0s\")");
    EXPECT_EQ(error_of("[collectors.requests_5s]\ninterval = \"-5s\"\n"),
              "t.toml:2:12: collectors.requests_5s.interval: must be > 0 (got \"-5s\")");
    EXPECT_EQ(error_of("[collectors.x]\ntimeout = \"0ms\"\n"), "t.toml:2:11: collectors.x.timeout: must be > 0 (got \"0ms\")");
    EXPECT_EQ(error_of("[collectors.x]\nretention = \"-1d\"\n"),
              "t.toml:2:13: collectors.x.retention: must be > 0 (got \"-1d\")");
    EXPECT_EQ(error_of("[collectors.x]\nretention = \"1500ms\"\n"),
              "t.toml:2:13: collectors.x.retention: must be a whole number of seconds (got \"1500ms\")");
    EXPECT_EQ(error_of("[collectors.x]\nparams = { top_rows = -1 }\n"),
              "t.toml:2:23: collectors.x.params.top_rows: must not be negative (got -1)");
    EXPECT_EQ(error_of(kInstance + "lock_timeout = \"-1ms\"\n"),
              "t.toml:4:16: instance[0].lock_timeout: must not be negative (got \"-1ms\")");
    EXPECT_EQ(error_of(kInstance + "lock_timeout = \"30d\"\n"),
              "t.toml:4:16: instance[0].lock_timeout: must be at most 2147483647ms (got \"30d\")");
    EXPECT_EQ(error_of(kInstance + "login_timeout = \"0s\"\n"),
              "t.toml:4:17: instance[0].login_timeout: must be > 0 (got \"0s\")");
    EXPECT_EQ(error_of(kInstance + "login_timeout = \"2h\"\n"), "t.toml:4:17: instance[0].login_timeout: must be at most 1h");
    EXPECT_EQ(error_of("[store]\nbusy_timeout = \"-1s\"\n"),
              "t.toml:2:16: store.busy_timeout: must not be negative (got \"-1s\")");
    EXPECT_EQ(error_of("[agent]\nsplay = \"2h\"\n"), "t.toml:2:9: agent.splay: must be at most 1h (got \"2h\")");
    EXPECT_EQ(error_of("[agent]\nstop_timeout = \"0s\"\n"), "t.toml:2:16: agent.stop_timeout: must be > 0 (got \"0s\")");
    EXPECT_EQ(error_of("[agent]\nstop_timeout = \"500ms\"\n"),
              "t.toml:2:16: agent.stop_timeout: must be between 1s and 10m (got \"500ms\")");
    EXPECT_EQ(error_of("[agent]\nstop_timeout = \"1h\"\n"),
              "t.toml:2:16: agent.stop_timeout: must be between 1s and 10m (got \"1h\")");
    EXPECT_EQ(error_of("[agent]\nquarantine = \"8d\"\n"), "t.toml:2:14: agent.quarantine: must be at most 7d (got \"8d\")");
    EXPECT_EQ(parse("[agent]\nquarantine = \"0s\"\n", "t.toml").agent.quarantine, 0ms) << "0s turns quarantine off";
    EXPECT_EQ(error_of("[agent]\nsnapshot_part_rows = 10\n"),
              "t.toml:2:22: agent.snapshot_part_rows: must be 0 (whole snapshots) or 100 to 1000000");
    EXPECT_EQ(parse("[agent]\nsnapshot_part_rows = 0\n", "t.toml").agent.snapshot_part_rows, 0u) << "0: whole snapshots";
    EXPECT_EQ(error_of("[collectors.x]\ninterval = \"5 s\"\n"),
              "t.toml:2:12: collectors.x.interval: invalid duration \"5 s\": unknown unit ' s'; a duration is an "
              "integer and a unit: ms, s, m, h or d, e.g. \"500ms\", \"5s\", \"7d\"");
    EXPECT_THAT(error_of(kInstance + "include_databases = [\"\"]\n"),
                HasSubstr("instance[0].include_databases[0]: must not be empty"));
}

TEST(ConfigErrors, TimeoutLongerThanIntervalIsNotAnError) {
    // collect::apply_overrides warns about it (see declaration_test.cpp).
    const Config cfg = parse("[collectors.x]\ninterval = \"5s\"\ntimeout = \"10s\"\n", "t.toml");
    EXPECT_EQ(cfg.collectors.at("x").timeout, std::optional<std::chrono::milliseconds>(10s));
    EXPECT_EQ(cfg.collectors.at("x").interval, std::optional<std::chrono::milliseconds>(5s));
}

// ---- instances

TEST(ConfigErrors, DuplicateInstanceName) {
    EXPECT_EQ(error_of(kInstance + "\n[[instance]]\nname = \"a\"\nconnection = \"DSN=b\"\n"),
              "t.toml:6:8: instance[1].name: duplicate instance name 'a' (first used at line 1); every instance needs "
              "its own name");
}

TEST(ConfigErrors, InvalidInstanceName) {
    EXPECT_EQ(error_of("[[instance]]\nname = \"prod 1\"\nconnection = \"DSN=a\"\n"),
              "t.toml:2:8: instance[0].name: invalid instance name \"prod 1\": use 1 to 128 letters, digits, '_', '.' "
              "or '-' (it is stored with every row)");
    EXPECT_THAT(error_of("[[instance]]\nname = \"\"\nconnection = \"DSN=a\"\n"), HasSubstr("invalid instance name \"\""));
    EXPECT_THAT(error_of("[[instance]]\nname = \"a/b\"\nconnection = \"DSN=a\"\n"), HasSubstr("invalid instance name"));
}

TEST(ConfigErrors, MissingRequiredInstanceKeys) {
    EXPECT_EQ(error_of("[[instance]]\nconnection = \"DSN=a\"\n"),
              "t.toml:1:1: instance[0].name: missing: every [[instance]] needs a name");
    EXPECT_EQ(error_of("\n[[instance]]\nname = \"a\"\n"),
              "t.toml:2:1: instance[0].connection: missing: every [[instance]] needs an ODBC connection string or "
              "\"DSN=...\"");
}

TEST(ConfigErrors, LiteralPasswordIsRefusedWithTheAlternatives) {
    const std::string e = error_of(kInstance + "password = \"hunter2\"\n");
    EXPECT_EQ(e,
              "t.toml:4:1: instance[0].password: a literal password is not allowed in the configuration file; use "
              "password_file (a file only the agent's user can read, chmod 600), password_env (an environment "
              "variable) or password_credential (a systemd credential)");
    EXPECT_THAT(e, Not(HasSubstr("hunter2")));
}

TEST(ConfigErrors, PasswordInConnectionStringIsRefusedWithoutEchoingIt) {
    const std::string e = error_of("[[instance]]\nname = \"a\"\nconnection = \"Server=h;UID=u;PWD={se;cret}\"\n");
    EXPECT_EQ(e,
              "t.toml:3:14: instance[0].connection: the connection string contains a password (pwd=); remove it and "
              "use password_file, password_env or password_credential");
    EXPECT_THAT(e, Not(HasSubstr("cret")));
    EXPECT_THAT(error_of("[[instance]]\nname = \"a\"\nconnection = \"DSN=x; Password = p\"\n"),
                HasSubstr("contains a password (password=)"));
    // A value that merely contains "pwd=" inside braces is not a key.
    EXPECT_EQ(error_of("[[instance]]\nname = \"a\"\nconnection = \"Driver={x;pwd=1};Server=h\"\n"), "<no error>");
}

TEST(ConfigErrors, AtMostOnePasswordSource) {
    EXPECT_EQ(error_of(kInstance + "password_env = \"A\"\npassword_file = \"/x\"\n"),
              "t.toml:5:1: instance[0].password_file: only one of password_file, password_env, password_credential "
              "may be set (password_env is already set)");
}

TEST(ConfigErrors, PasswordSourceNames) {
    EXPECT_THAT(error_of(kInstance + "password_env = \"1A\"\n"),
                HasSubstr("instance[0].password_env: \"1A\" is not a valid environment variable name"));
    EXPECT_THAT(error_of(kInstance + "password_credential = \"../x\"\n"),
                HasSubstr("instance[0].password_credential: \"../x\" is not a credential name"));
    EXPECT_THAT(error_of(kInstance + "password_file = \"\"\n"), HasSubstr("instance[0].password_file: must not be empty"));
}

// ---- store, logging, agent

TEST(ConfigErrors, StoreKind) {
    EXPECT_EQ(error_of("[store]\nkind = \"postgres\"\n"),
              "t.toml:1:1: store.conninfo: missing: kind = \"postgres\" needs conninfo = \"host=... dbname=...\"");
    EXPECT_EQ(error_of("[store]\nkind = \"sqlserver\"\n"),
              "t.toml:1:1: store.connection: missing: kind = \"sqlserver\" needs connection = "
              "\"Driver=FreeTDS;Server=...;Port=1433;Database=dmvlog\"");
    EXPECT_THAT(error_of("[store]\nkind = \"sqlserver\"\nconnection = \"Driver=FreeTDS;Server=db;PWD=x\"\n"),
                HasSubstr("t.toml:3:14: store.connection: the connection string contains a password (pwd=)"));
    EXPECT_EQ(error_of("[store]\nkind = \"mysql\"\n"),
              "t.toml:2:8: store.kind: unknown store kind \"mysql\"; supported: \"sqlite\", \"postgres\", \"sqlserver\"");
    {
        auto ms = parse("[store]\nkind = \"sqlserver\"\nconnection = \"Driver=FreeTDS;Server=db1;Port=1433;Database=dmvlog\"\n"
                        "user = \"dmvlog_store\"\npassword_env = \"STOREPW\"\ntrust_server_certificate = true\nlogin_timeout = \"20s\"\n",
                        "t.toml");
        EXPECT_EQ(ms.store.kind, "sqlserver");
        EXPECT_EQ(ms.store.user, "dmvlog_store");
        EXPECT_TRUE(ms.store.trust_server_certificate);
        EXPECT_EQ(ms.store.login_timeout, std::chrono::seconds(20));
        EXPECT_EQ(ms.store.password_env, "STOREPW");
    }
    EXPECT_THAT(error_of("[store]\nkind = \"postgres\"\nconninfo = \"host=db1 password=secret\"\n"),
                HasSubstr("t.toml:3:12: store.conninfo: must not hold the password"));
    auto cfg = parse("[store]\nkind = \"postgres\"\nconninfo = \"host=db1 dbname=dmvlog user=agent\"\npassword_env = \"PGPW\"\n", "t.toml");
    EXPECT_EQ(cfg.store.kind, "postgres");
    EXPECT_EQ(cfg.store.conninfo, "host=db1 dbname=dmvlog user=agent");
    EXPECT_EQ(cfg.store.password_env, std::optional<std::string>("PGPW"));
}

TEST(ConfigErrors, LoggingLevel) {
    EXPECT_EQ(error_of("[logging]\nlevel = \"warning\"\n"),
              "t.toml:2:9: logging.level: unknown level \"warning\"; did you mean 'warn'? (levels: trace, debug, info, "
              "warn, error)");
    for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
        EXPECT_EQ(parse(std::string("[logging]\nlevel = \"") + level + "\"\n", "t.toml").logging.level, level);
    }
}

TEST(ConfigErrors, TimeZone) {
    EXPECT_THAT(error_of("[agent]\ntime_zone = \"../etc/passwd\"\n"),
                HasSubstr("t.toml:2:13: agent.time_zone: unknown time zone \"../etc/passwd\""));
    EXPECT_EQ(parse("[agent]\ntime_zone = \"UTC\"\n", "t.toml").agent.time_zone, "UTC");
    const char* tzdir = std::getenv("TZDIR");
    const std::filesystem::path zoneinfo = tzdir != nullptr && *tzdir != '\0' ? tzdir : "/usr/share/zoneinfo";
    if (!std::filesystem::is_regular_file(zoneinfo / "Europe/Berlin")) GTEST_SKIP() << "no time zone database";
    EXPECT_EQ(parse("[agent]\ntime_zone = \"Europe/Berlin\"\n", "t.toml").agent.time_zone, "Europe/Berlin");
    EXPECT_EQ(error_of("[agent]\ntime_zone = \"Mars/Olympus_Mons\"\n"),
              "t.toml:2:13: agent.time_zone: unknown time zone \"Mars/Olympus_Mons\"; use an IANA name such as \"UTC\" "
              "or \"Europe/Berlin\"");
}

// ---- collectors

TEST(ConfigErrors, UnknownCollectorWhenKnownCollectorsAreGiven) {
    const std::vector<std::string> known = {"requests_5s", "requests_1m"};
    EXPECT_EQ(error_of("[collectors.request_5s]\nenabled = false\n", known),
              "t.toml:1:13: collectors.request_5s: unknown collector; did you mean 'requests_5s'? (collectors: "
              "requests_5s, requests_1m)");
    EXPECT_EQ(error_of("[collectors.waits]\nenabled = false\n", known),
              "t.toml:1:13: collectors.waits: unknown collector (collectors: requests_5s, requests_1m)");
    EXPECT_EQ(error_of("[collectors.requests_1m]\nenabled = false\n", known), "<no error>");
    // Without a list, any well-formed name is accepted (apply_overrides checks it later).
    EXPECT_EQ(error_of("[collectors.waits]\nenabled = false\n"), "<no error>");
    EXPECT_THAT(error_of("[collectors.Waits]\nenabled = false\n"), HasSubstr("collectors.Waits: invalid collector name"));
}

TEST(ConfigErrors, InvalidParamName) {
    EXPECT_THAT(error_of("[collectors.x]\nparams = { Top = 1 }\n"),
                HasSubstr("t.toml:2:12: collectors.x.params.Top: invalid param name"));
}

// ---- syntax

TEST(ConfigErrors, TomlSyntaxErrorHasLineAndColumn) {
    const std::string e = error_of("[store]\npath = \"/x\"\nkind = = \"sqlite\"\n");
    EXPECT_THAT(e, ::testing::StartsWith("t.toml:3:8: TOML syntax error: "));
    const std::string dup = error_of("[store]\npath = \"/x\"\npath = \"/y\"\n");
    EXPECT_THAT(dup, ::testing::StartsWith("t.toml:3:"));
    EXPECT_THAT(dup, HasSubstr("TOML syntax error"));
}

TEST(ConfigError, Accessors) {
    const ConfigError e("f.toml", 3, 7, "store.kind", "bad");
    EXPECT_STREQ(e.what(), "f.toml:3:7: store.kind: bad");
    EXPECT_EQ(e.file(), "f.toml");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.column(), 7);
    EXPECT_EQ(e.key(), "store.kind");
    EXPECT_EQ(e.problem(), "bad");
    EXPECT_STREQ(ConfigError("f.toml", 3, 0, "k", "p").what(), "f.toml:3: k: p");
    EXPECT_STREQ(ConfigError("f.toml", 0, 0, "", "p").what(), "f.toml: p");
    EXPECT_STREQ(ConfigError("", 0, 0, "k", "p").what(), "k: p");
}

// ---- run checks, files, paths

TEST(ConfigRun, ZeroInstancesParseButCannotRun) {
    const Config empty = parse("[logging]\nlevel = \"info\"\n", "t.toml");
    try {
        validate_for_run(empty);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(),
                     "t.toml: instance: no [[instance]] is configured; add one with a name and a connection (see "
                     "dmvlog.example.toml)");
    }
    EXPECT_NO_THROW(validate_for_run(parse(kInstance, "t.toml")));
}

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "dmvlog-config-test-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

void write_file(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

TEST(ConfigFile, MissingFileNamesThePath) {
    TempDir dir;
    const auto p = dir.path() / "nope.toml";
    try {
        load_file(p);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  p.string() + ": configuration file not found (use --config FILE or set DMVLOG_CONFIG)");
    }
    try {
        load_file(dir.path());
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), dir.path().string() + ": is a directory, not a configuration file");
    }
}

TEST(ConfigFile, LoadsAndResolvesARelativeStorePath) {
    TempDir dir;
    const auto p = dir.path() / "dmvlog.toml";
    write_file(p, kInstance + "[store]\npath = \"data/d.db\"\n");
    const Config cfg = load_file(p);
    EXPECT_EQ(cfg.source, p.string());
    ASSERT_EQ(cfg.instances.size(), 1u);
    EXPECT_EQ(cfg.store.path, (dir.path() / "data/d.db").string());

    write_file(p, "[store]\npath = \"/abs/d.db\"\n");
    EXPECT_EQ(load_file(p).store.path, "/abs/d.db");
}

TEST(ConfigFile, StateDirFromTheFileThenSystemdThenBesideTheSqliteStore) {
    TempDir dir;
    const auto p = dir.path() / "dmvlog.toml";
    const char* saved = std::getenv("STATE_DIRECTORY");
    const std::string saved_value = saved ? saved : "";
    unsetenv("STATE_DIRECTORY");
    write_file(p, kInstance + "[store]\npath = \"data/d.db\"\n");
    EXPECT_EQ(load_file(p).agent.state_dir, (dir.path() / "data").string());
    write_file(p, kInstance + "[store]\nkind = \"postgres\"\nconninfo = \"host=db\"\n");
    EXPECT_EQ(load_file(p).agent.state_dir, "/var/lib/dmvlog");
    setenv("STATE_DIRECTORY", "/run/state/dmvlog:/run/state/other", 1);
    EXPECT_EQ(load_file(p).agent.state_dir, "/run/state/dmvlog");
    write_file(p, kInstance + "[agent]\nstate_dir = \"state\"\n");
    EXPECT_EQ(load_file(p).agent.state_dir, (dir.path() / "state").string());
    if (saved) setenv("STATE_DIRECTORY", saved_value.c_str(), 1);
    else unsetenv("STATE_DIRECTORY");
}

TEST(ConfigFile, ErrorsNameTheFile) {
    TempDir dir;
    const auto p = dir.path() / "dmvlog.toml";
    write_file(p, "[collectors.nope]\nenabled = true\n");
    try {
        load_file(p, {"requests_5s"});
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.file(), p.string());
        EXPECT_EQ(e.line(), 1);
        EXPECT_EQ(e.key(), "collectors.nope");
    }
}

class EnvGuard {
public:
    explicit EnvGuard(const char* name) : name_(name) {
        if (const char* v = std::getenv(name)) old_ = v;
    }
    ~EnvGuard() {
        if (old_) setenv(name_, old_->c_str(), 1);
        else unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

TEST(ConfigPath, CommandLineThenEnvironmentThenDefault) {
    EnvGuard guard("DMVLOG_CONFIG");
    setenv("DMVLOG_CONFIG", "/env/dmvlog.toml", 1);
    EXPECT_EQ(config_path(std::string("/cli/dmvlog.toml")), std::filesystem::path("/cli/dmvlog.toml"));
    EXPECT_EQ(config_path(std::nullopt), std::filesystem::path("/env/dmvlog.toml"));
    unsetenv("DMVLOG_CONFIG");
    EXPECT_EQ(config_path(std::nullopt), std::filesystem::path("/etc/dmvlog/dmvlog.toml"));
    setenv("DMVLOG_CONFIG", "", 1);
    EXPECT_EQ(config_path(std::nullopt), std::filesystem::path("/etc/dmvlog/dmvlog.toml"));
}

TEST(ConfigParse, DigestSection) {
    auto cfg = parse("[digest]\nformat = \"markdown\"\nout = \"/var/lib/dmvlog/d-{from}.md\"\n"
                     "post_env = \"HOOK\"\npost_timeout = \"3s\"\npost_retries = 0\ntop = 10\n", "t.toml");
    EXPECT_EQ(cfg.digest.format, "markdown");
    EXPECT_EQ(cfg.digest.out, "/var/lib/dmvlog/d-{from}.md");
    EXPECT_EQ(cfg.digest.post_env, std::optional<std::string>("HOOK"));
    EXPECT_EQ(cfg.digest.post_timeout, 3s);
    EXPECT_EQ(cfg.digest.post_retries, 0);
    EXPECT_EQ(cfg.digest.top, 10);
    ::setenv("DMVLOG_TEST_HOOK", "https://hooks.example.com/x", 1);
    Digest d;
    d.post_env = "DMVLOG_TEST_HOOK";
    EXPECT_EQ(resolve_digest_post(d, "t.toml"), "https://hooks.example.com/x");
    d.post_env = "DMVLOG_TEST_HOOK_UNSET";
    EXPECT_THROW(resolve_digest_post(d, "t.toml"), ConfigError);
}

TEST(ConfigErrors, DigestMistakesNameTheKeyAndLine) {
    EXPECT_EQ(error_of("[digest]\nformat = \"pdf\"\n"),
              "t.toml:2:10: digest.format: must be text, markdown, html or json (got \"pdf\")");
    EXPECT_THAT(error_of("[digest]\npost = \"ftp://x\"\n"), HasSubstr("t.toml:2:8: digest.post: must be an http:// or https:// URL"));
    EXPECT_THAT(error_of("[digest]\npost_retries = 11\n"), HasSubstr("t.toml:2:16: digest.post_retries: must be 0 to 10"));
    EXPECT_THAT(error_of("[digest]\npost = \"https://a/b\"\npost_env = \"X\"\n"),
                HasSubstr("digest: give at most one of post, post_file and post_env"));
    EXPECT_THAT(error_of("[digest]\nformt = \"html\"\n"), HasSubstr("t.toml:2:1: digest.formt: unknown key; did you mean 'format'?"));
}

TEST(ConfigParse, SpoolSection) {
    const Config defaults = parse("", "t.toml");
    EXPECT_TRUE(defaults.spool.enabled);
    EXPECT_EQ(defaults.spool.max_bytes, 256ull << 20);
    EXPECT_EQ(defaults.spool.dir, "");
    const Config c = parse("[spool]\nenabled = false\ndir = \"/srv/spool\"\nmax_bytes = 1048576\n", "t.toml");
    EXPECT_FALSE(c.spool.enabled);
    EXPECT_EQ(c.spool.dir, "/srv/spool");
    EXPECT_EQ(c.spool.max_bytes, 1048576u);
    EXPECT_EQ(parse("[spool]\nmax_bytes = \"64KiB\"\n", "t.toml").spool.max_bytes, 64u << 10);
    EXPECT_EQ(parse("[spool]\nmax_bytes = \"2GiB\"\n", "t.toml").spool.max_bytes, 2ull << 30);
}

TEST(ConfigErrors, SpoolMistakesNameTheKeyAndLine) {
    EXPECT_THAT(error_of("[spool]\nmax_bytes = 1000\n"), HasSubstr("t.toml:2:13: spool.max_bytes: must be 64KiB to 1TiB"));
    EXPECT_THAT(error_of("[spool]\nmax_bytes = \"12 parsecs\"\n"), HasSubstr("spool.max_bytes: expected a size in bytes"));
    EXPECT_THAT(error_of("[spool]\nmax_bytes = -5\n"), HasSubstr("spool.max_bytes: expected a size in bytes"));
    EXPECT_THAT(error_of("[spool]\nenabled = \"yes\"\n"), HasSubstr("spool.enabled"));
    EXPECT_THAT(error_of("[spool]\nmax_byte = 1\n"), HasSubstr("spool.max_byte: unknown key; did you mean 'max_bytes'?"));
}

TEST(ConfigFile, SpoolDirDefaultsToTheStateDirAndResolvesRelativePaths) {
    TempDir dir;
    const auto p = dir.path() / "dmvlog.toml";
    write_file(p, kInstance + "[agent]\nstate_dir = \"/srv/dmvlog\"\n");
    EXPECT_EQ(load_file(p).spool.dir, "/srv/dmvlog/spool");
    write_file(p, kInstance + "[spool]\ndir = \"q\"\n");
    EXPECT_EQ(load_file(p).spool.dir, (dir.path() / "q").string());
}

}  // namespace
}  // namespace dmvlog::config

namespace dmvlog::config {
namespace {

std::string kInstanceText() {
    return "[[instance]]\nname = \"a\"\nconnection = \"Driver=FreeTDS;Server=h;Port=1433\"\n";
}

TEST(ConfigSecurity, EncryptionKeysDefaultToOnAndChecked) {
    const Config cfg = parse(kInstanceText(), "t.toml");
    ASSERT_EQ(cfg.instances.size(), 1u);
    EXPECT_TRUE(cfg.instances[0].encrypt);
    EXPECT_FALSE(cfg.instances[0].trust_server_certificate);
    EXPECT_EQ(cfg.instances[0].ca_file, "");
    const Config off = parse(kInstanceText() + "encrypt = false\ntrust_server_certificate = true\nca_file = \"ca.pem\"\n",
                             "t.toml");
    EXPECT_FALSE(off.instances[0].encrypt);
    EXPECT_TRUE(off.instances[0].trust_server_certificate);
    EXPECT_EQ(off.instances[0].ca_file, "ca.pem");
    EXPECT_THAT(error_of(kInstanceText() + "encrypt = \"yes\"\n"), HasSubstr("encrypt"));
}

TEST(ConfigSecurity, DatabaseNamesInListsAreValidated) {
    EXPECT_THAT(error_of(kInstanceText() + "include_databases = [\"ok\", \"bad\\nname\"]\n"),
                HasSubstr("database name \"bad\nname\" contains a control character"));
    EXPECT_THAT(error_of(kInstanceText() + "exclude_databases = [\"\"]\n"), HasSubstr("must not be empty"));
    EXPECT_EQ(error_of(kInstanceText() + "include_databases = [\"a]b\", \"受注管理\"]\n"), "<no error>");
}

class ConfigFileMode : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("dmvlog-cfgmode-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& text, std::filesystem::perms mode) {
        const auto p = dir_ / "dmvlog.toml";
        std::ofstream(p) << text;
        std::filesystem::permissions(p, mode);
        return p.string();
    }
    std::filesystem::path dir_;
};

TEST_F(ConfigFileMode, AWorldReadableFileWithASecretIsRefusedNamingFileModeAndKey) {
    using P = std::filesystem::perms;
    const auto p = write(kInstanceText() + "\n[digest]\npost = \"https://hooks.example/T0KEN\"\n",
                         P::owner_read | P::owner_write | P::group_read | P::others_read);
    try {
        load_file(p);
        FAIL() << "a world-readable file with a secret must be refused";
    } catch (const ConfigError& e) {
        const std::string m = e.what();
        EXPECT_THAT(m, HasSubstr(p));
        EXPECT_THAT(m, HasSubstr("mode 0644"));
        EXPECT_THAT(m, HasSubstr("digest.post"));
        EXPECT_THAT(m, Not(HasSubstr("T0KEN"))) << "the secret itself is not repeated";
    }
    // the same file readable by its owner only is fine
    std::filesystem::permissions(p, P::owner_read | P::owner_write);
    EXPECT_NO_THROW(load_file(p));
}

TEST_F(ConfigFileMode, AWorldReadableFileWithoutSecretsIsFineAndAWritableOneWarns) {
    using P = std::filesystem::perms;
    const auto p = write(kInstanceText(), P::owner_read | P::owner_write | P::group_read | P::others_read);
    EXPECT_TRUE(load_file(p).warnings.empty());
    std::filesystem::permissions(p, P::owner_read | P::owner_write | P::group_read | P::group_write | P::others_read);
    const Config cfg = load_file(p);
    ASSERT_EQ(cfg.warnings.size(), 1u);
    EXPECT_THAT(cfg.warnings[0], HasSubstr("mode 0664"));
    EXPECT_THAT(cfg.warnings[0], HasSubstr(p));
}

TEST_F(ConfigFileMode, ARelativeCaFileIsTakenAgainstTheConfigFolder) {
    using P = std::filesystem::perms;
    const auto p = write(kInstanceText() + "ca_file = \"tls/ca.pem\"\n", P::owner_read | P::owner_write);
    EXPECT_EQ(load_file(p).instances[0].ca_file, (dir_ / "tls/ca.pem").string());
}

TEST(ConfigMetrics, DefaultsToLoopback9187) {
    const Config cfg = parse("", "t.toml");
    EXPECT_TRUE(cfg.metrics.enabled);
    EXPECT_EQ(cfg.metrics.listen, "127.0.0.1:9187");
    EXPECT_TRUE(cfg.warnings.empty());
}

TEST(ConfigMetrics, ListenAndEnabled) {
    Config cfg = parse("[metrics]\nlisten = \"127.0.0.1:19187\"\n", "t.toml");
    EXPECT_TRUE(cfg.metrics.enabled);
    EXPECT_EQ(cfg.metrics.listen, "127.0.0.1:19187");
    EXPECT_TRUE(cfg.warnings.empty());
    cfg = parse("[metrics]\nenabled = false\n", "t.toml");
    EXPECT_FALSE(cfg.metrics.enabled);
    cfg = parse("[metrics]\nlisten = \"\"\n", "t.toml");
    EXPECT_FALSE(cfg.metrics.enabled) << "an empty listen turns the endpoint off";
    cfg = parse("[metrics]\nlisten = \"[::1]:9187\"\n", "t.toml");
    EXPECT_TRUE(cfg.warnings.empty()) << "::1 is loopback";
}

TEST(ConfigMetrics, NonLoopbackListenIsAllowedButWarned) {
    const Config cfg = parse("[metrics]\nlisten = \"0.0.0.0:9187\"\n", "t.toml");
    EXPECT_EQ(cfg.metrics.listen, "0.0.0.0:9187");
    ASSERT_EQ(cfg.warnings.size(), 1u);
    EXPECT_THAT(cfg.warnings[0], HasSubstr("t.toml:2: metrics.listen: 0.0.0.0:9187 is not a loopback address"));
}

TEST(ConfigMetrics, BadListenAndUnknownKeysAreErrors) {
    EXPECT_THAT(error_of("[metrics]\nlisten = \"9187\"\n"), HasSubstr("metrics.listen: must be host:port with a port of 1 to 65535"));
    EXPECT_THAT(error_of("[metrics]\nlisten = \"127.0.0.1:0\"\n"), HasSubstr("metrics.listen: must be host:port"));
    EXPECT_THAT(error_of("[metrics]\nlisten = \"127.0.0.1:70000\"\n"), HasSubstr("metrics.listen"));
    EXPECT_THAT(error_of("[metrics]\nlisten = \"::1:9187\"\n"), HasSubstr("metrics.listen"));
    EXPECT_THAT(error_of("[metrics]\nenabled = \"yes\"\n"), HasSubstr("metrics.enabled"));
    EXPECT_THAT(error_of("[metrics]\nlisen = \"x\"\n"), HasSubstr("listen"));
}

TEST(ConfigMetrics, SplitListen) {
    std::string host;
    int port = 0;
    ASSERT_TRUE(split_listen("127.0.0.1:9187", host, port));
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_EQ(port, 9187);
    ASSERT_TRUE(split_listen("[::1]:80", host, port));
    EXPECT_EQ(host, "::1");
    EXPECT_EQ(port, 80);
    EXPECT_FALSE(split_listen(":9187", host, port));
    EXPECT_FALSE(split_listen("host:", host, port));
    EXPECT_FALSE(split_listen("host:12a", host, port));
    EXPECT_TRUE(is_loopback_host("127.0.0.2"));
    EXPECT_TRUE(is_loopback_host("localhost"));
    EXPECT_FALSE(is_loopback_host("10.0.0.1"));
    EXPECT_FALSE(is_loopback_host("127.example.com"));
}

}  // namespace
}  // namespace dmvlog::config
