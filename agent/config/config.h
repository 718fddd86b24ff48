// The agent's configuration, read from TOML (see packaging/dmvlog.example.toml).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dmvlog::config {

// A configuration error: names the file, line and column (when known), the key, and what is wrong.
// what() is the full message: "dmvlog.toml:12:1: collectors.requests_5s.interval: must be > 0 (got \"0s\")".
class ConfigError : public std::runtime_error {
public:
    ConfigError(std::string file, int line, int column, std::string key, std::string problem);
    const std::string& file() const { return file_; }
    int line() const { return line_; }
    int column() const { return column_; }
    const std::string& key() const { return key_; }
    const std::string& problem() const { return problem_; }

private:
    std::string file_, key_, problem_;
    int line_, column_;
};

struct Instance {
    std::string name;                 // unique, [A-Za-z0-9_.-]+
    std::string connection;           // ODBC connection string or "DSN=..."
    std::string user;                 // may be empty (DSN or integrated auth)
    std::optional<std::string> password_file;  // path
    std::optional<std::string> password_env;   // environment variable name
    std::optional<std::string> password_credential;  // name of a systemd credential ($CREDENTIALS_DIRECTORY/NAME)
    std::chrono::seconds login_timeout{10};
    std::chrono::milliseconds lock_timeout{1000};
    std::vector<std::string> include_databases;  // empty = all online user databases
    std::vector<std::string> exclude_databases;
    // Encryption (docs/operations.md, "Security"): on by default, with the server's certificate checked
    // against ca_file (a PEM file of CA certificates; relative to the configuration file's folder) or, when
    // it is empty, the system trust store. Turning either off is allowed and logged loudly.
    bool encrypt = true;
    bool trust_server_certificate = false;
    std::string ca_file;
    int line = 0;                     // where the [[instance]] table starts (for messages)
};

struct Store {
    std::string kind = "sqlite";      // "sqlite", "postgres" or "sqlserver"
    std::string path = "/var/lib/dmvlog/dmvlog.db";   // sqlite
    std::chrono::milliseconds busy_timeout{5000};     // sqlite
    std::string conninfo;             // postgres: libpq connection string, without the password
    std::optional<std::string> password_file;          // postgres: as for an instance
    std::optional<std::string> password_env;
    std::optional<std::string> password_credential;
    // sqlserver: an ODBC connection string (no password), the login, and encryption as for an instance.
    std::string connection;
    std::string user;
    bool encrypt = true;
    bool trust_server_certificate = false;
    std::string ca_file;
    std::chrono::seconds login_timeout{10};
};

// Per-collector overrides from [collectors.NAME]; unset fields keep the declaration's defaults.
struct CollectorOverride {
    std::optional<bool> enabled;
    std::optional<std::chrono::milliseconds> interval;
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<std::chrono::seconds> retention;
    std::map<std::string, long long> params;   // overrides of declared integer params
    int line = 0;                              // where the [collectors.NAME] table starts (for messages)
};

struct Logging {
    std::string level = "info";       // trace, debug, info, warn, error
};

struct Agent {
    std::string time_zone = "UTC";    // IANA name used to show and interpret local times
    std::chrono::milliseconds splay{0};  // 0 = automatic (up to 10% of each interval)
    // Where the agent keeps its own state (the spool of snapshots the store could not take yet, markers of
    // running queries). Unset in the file: $STATE_DIRECTORY (systemd's StateDirectory=), else the folder of
    // a SQLite store, else /var/lib/dmvlog. Relative paths are taken against the configuration file's folder.
    std::string state_dir;
    // After SIGTERM (or before a reload): how long the agent may take to cancel running queries and write what
    // it collected before it exits anyway. systemd's TimeoutStopSec= must be longer. 1s to 10m.
    std::chrono::milliseconds stop_timeout{10000};
    // How long a collector is skipped after the agent died while its query ran (a marker left in
    // <state_dir>/running); each repeat doubles it, up to 24 h. 0 = no markers, no quarantine.
    std::chrono::milliseconds quarantine{std::chrono::hours(1)};
    // A collector answer of more rows than this reaches the store in parts of this many rows, each written
    // as it arrives, so that memory follows this number and not the server's size. 0 = whole snapshots.
    std::size_t snapshot_part_rows = 500;
};

// dmvlog's extended-event session for blocking and deadlocks (`dmvlog xe setup`, blocking_events).
struct Xe {
    std::string session = "dmvlog_blocking";     // the event session's name ([A-Za-z0-9_]+)
    // The event_file target's path on the SQL Server host (SQL Server on Linux's log folder by default).
    std::string path = "/var/opt/mssql/log/dmvlog_blocking.xel";
    int max_file_size_mb = 64;
    int max_rollover_files = 8;
    // While that session is not running, blocking_events_ring_buffer reads blocked-process reports and deadlocks
    // from the ring_buffer target of this session (one a DBA set up; docs/xe.md, "Fallbacks").
    std::string ring_buffer_session = "blocked_process";
};

// The blocking digest (`dmvlog digest`, dmvlog-digest.timer): where it goes when the command line does not say.
struct Digest {
    std::string format = "html";      // text, markdown, html or json: what --out gets
    std::string out;                  // file to write ("" = standard output); {from} becomes the window start
                                      // in agent.time_zone as YYYYMMDD-HHMM, {instance} the instance (or "all")
    std::string post;                 // webhook URL ("" = none); post_file/post_env keep a secret URL out of the file
    std::optional<std::string> post_file;
    std::optional<std::string> post_env;
    std::chrono::milliseconds post_timeout{10000};
    int post_retries = 3;             // attempts after the first
    int top = 5;                      // rows per list
};

// The disk spool: snapshots the store cannot take yet wait there, in order (docs/operations.md, "Spool").
struct Spool {
    bool enabled = true;
    std::string dir;                  // "" = <agent.state_dir>/spool; load_file resolves it
    std::uint64_t max_bytes = 256ull << 20;   // beyond it the oldest segment is evicted
};

// The agent's own metrics and health endpoints (`dmvlog run`): GET /metrics (Prometheus text), /healthz, /readyz.
struct Metrics {
    bool enabled = true;              // enabled = false, or listen = "", turns the endpoint off
    std::string listen = "127.0.0.1:9187";   // host:port (IPv4); loopback unless said otherwise
    int line = 0;                     // where the [metrics] table starts (for messages)
};

// "host:port" split; false when it is not of that form (port 1..65535; IPv6 hosts in brackets).
bool split_listen(std::string_view listen, std::string& host, int& port);
// A loopback host: 127.0.0.0/8, ::1, localhost.
bool is_loopback_host(std::string_view host);

struct Config {
    std::string source;               // file the configuration came from ("" for built-in defaults)
    std::vector<Instance> instances;
    Store store;
    Logging logging;
    Agent agent;
    Xe xe;
    Digest digest;
    Spool spool;
    Metrics metrics;
    std::map<std::string, CollectorOverride> collectors;
    // Problems that do not stop the agent, formatted like ConfigError::what(); the caller logs them (a
    // configuration file that others may write to; a metrics.listen address that is not loopback; a collector
    // timeout longer than its interval is reported by collect::apply_overrides, which knows the declared values).
    std::vector<std::string> warnings;
};

// Parses a configuration file. Throws ConfigError for unknown keys, wrong types, impossible values.
// Collector names in [collectors.NAME] are checked against known_collectors when it is not empty.
// A relative store.path is made absolute against the directory of the configuration file.
Config load_file(const std::filesystem::path& path, const std::vector<std::string>& known_collectors = {});

// Refused: a configuration file that holds a secret (digest.post, a webhook URL that often carries a token)
// and that others may read (mode & 004); the message names the file, its mode and the key. A file that group
// or others may write to is accepted with a warning in Config::warnings. load_file does this; exposed for tests.
void check_file_mode(const std::filesystem::path& path, unsigned mode, Config& cfg);

// Same, from text (file is used in messages only).
Config parse(std::string_view text, const std::string& file, const std::vector<std::string>& known_collectors = {});

// Checks what running or collecting needs beyond a well-formed file: at least one [[instance]].
// load_file/parse accept zero instances (so that `dmvlog check-config` and tools can read any file);
// `run` and `collect` call this. Throws ConfigError.
void validate_for_run(const Config& config);

// The agent's state folder: agent.state_dir when set, else $STATE_DIRECTORY (its first folder), else the
// folder of a SQLite store, else /var/lib/dmvlog. load_file stores the result in agent.state_dir.
std::string resolve_state_dir(const Config& config);

// Durations in configuration: "500ms", "5s", "1m", "2h", "7d" (integer + unit). Throws std::invalid_argument.
// A leading '-' is accepted (so that callers can say "must be > 0" instead of "invalid"); the value must fit
// in 64-bit milliseconds.
std::chrono::milliseconds parse_duration(std::string_view text);

// The inverse: the largest unit that represents d exactly ("7d", "90s", "500ms", "0s").
std::string format_duration(std::chrono::milliseconds d);

// Resolves the password of an instance from password_file, password_env or the systemd credential.
// Returns "" when none is configured. Throws ConfigError naming the source (never the password) when it
// cannot be read, is empty, or when a password file is accessible by group or others (mode & 077).
// A relative password_file is taken relative to the directory of config_file (when config_file is not "").
// One trailing newline ("\n" or "\r\n") is removed from a file or credential.
std::string resolve_password(const Instance& instance, const std::string& config_file);

// The store's password (postgres) from password_file, password_env or the systemd credential; "" when none
// is configured. Throws ConfigError like resolve_password.
std::string resolve_store_password(const Store& store, const std::string& config_file);

// The digest's webhook URL: digest.post, else the file digest.post_file (relative to config_file's directory;
// one trailing newline removed), else $digest.post_env. "" when none. Throws ConfigError when a named file or
// variable cannot be read or is empty.
std::string resolve_digest_post(const Digest& digest, const std::string& config_file);

// Which configuration file to use: --config (if given), else $DMVLOG_CONFIG, else /etc/dmvlog/dmvlog.toml.
std::filesystem::path config_path(const std::optional<std::string>& cli_value);

}  // namespace dmvlog::config
