#include "agent/config/config.h"

#include "agent/core/text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "agent/config/toml_reader.h"
#include "agent/core/tsql_quote.h"

namespace dmvlog::config {

using detail::Reader;

namespace {

std::string format_message(const std::string& file, int line, int column, const std::string& key,
                           const std::string& problem) {
    std::string out = file;
    if (!file.empty() && line > 0) {
        out += ":" + std::to_string(line);
        if (column > 0) out += ":" + std::to_string(column);
    }
    if (!key.empty()) out += (out.empty() ? "" : ": ") + key;
    out += (out.empty() ? "" : ": ") + problem;
    return out;
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, int column, std::string key, std::string problem)
    : std::runtime_error(format_message(file, line, column, key, problem)),
      file_(std::move(file)),
      key_(std::move(key)),
      problem_(std::move(problem)),
      line_(line),
      column_(column) {}

// ---------------------------------------------------------------------------------------------------------
// Durations

std::chrono::milliseconds parse_duration(std::string_view text) {
    const std::string shown = "\"" + std::string(text) + "\"";
    const std::string units = "a duration is an integer and a unit: ms, s, m, h or d, e.g. \"500ms\", \"5s\", \"7d\"";
    std::size_t i = 0;
    bool negative = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
        negative = text[i] == '-';
        ++i;
    }
    const std::size_t digits_begin = i;
    long long value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        const int digit = text[i] - '0';
        if (value > (LLONG_MAX - digit) / 10) throw std::invalid_argument("duration " + shown + " is too large");
        value = value * 10 + digit;
        ++i;
    }
    if (i == digits_begin) throw std::invalid_argument("invalid duration " + shown + ": " + units);
    const std::string_view unit = text.substr(i);
    long long factor = 0;
    if (unit == "ms") factor = 1;
    else if (unit == "s") factor = 1000;
    else if (unit == "m") factor = 60'000;
    else if (unit == "h") factor = 3'600'000;
    else if (unit == "d") factor = 86'400'000;
    else if (unit.empty()) throw std::invalid_argument("invalid duration " + shown + ": the unit is missing; " + units);
    else throw std::invalid_argument("invalid duration " + shown + ": unknown unit '" + std::string(unit) + "'; " + units);
    if (value > LLONG_MAX / factor) throw std::invalid_argument("duration " + shown + " is too large");
    value *= factor;
    return std::chrono::milliseconds(negative ? -value : value);
}

bool split_listen(std::string_view listen, std::string& host, int& port) {
    std::string_view h, p;
    if (!listen.empty() && listen.front() == '[') {
        const auto close = listen.find(']');
        if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') return false;
        h = listen.substr(1, close - 1);
        p = listen.substr(close + 2);
    } else {
        const auto colon = listen.rfind(':');
        if (colon == std::string_view::npos || listen.find(':') != colon) return false;
        h = listen.substr(0, colon);
        p = listen.substr(colon + 1);
    }
    if (h.empty() || p.empty() || p.size() > 5) return false;
    if (!std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
    const int n = std::stoi(std::string(p));
    if (n < 1 || n > 65535) return false;
    host = std::string(h);
    port = n;
    return true;
}

bool is_loopback_host(std::string_view host) {
    if (host == "localhost" || host == "::1") return true;
    return host.starts_with("127.") && std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

std::string format_duration(std::chrono::milliseconds d) {
    const long long ms = d.count();
    if (ms == 0) return "0s";
    struct Unit { long long factor; const char* name; };
    static constexpr Unit units[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
    for (const auto& u : units) {
        if (ms % u.factor == 0) return std::to_string(ms / u.factor) + u.name;
    }
    return std::to_string(ms) + "ms";
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

namespace {

const std::vector<std::string> kTopKeys = {"instance", "store", "logging", "agent", "xe", "digest", "spool", "metrics", "collectors"};
const std::vector<std::string> kSpoolKeys = {"enabled", "dir", "max_bytes"};
const std::vector<std::string> kMetricsKeys = {"enabled", "listen"};
const std::vector<std::string> kDigestKeys = {"format", "out", "post", "post_file", "post_env", "post_timeout", "post_retries", "top"};
const std::vector<std::string> kXeKeys = {"session", "path", "max_file_size_mb", "max_rollover_files", "ring_buffer_session"};
const std::vector<std::string> kInstanceKeys = {
    "name", "connection", "user", "password_file", "password_env", "password_credential",
    "login_timeout", "lock_timeout", "include_databases", "exclude_databases", "encrypt",
    "trust_server_certificate", "ca_file"};
const std::vector<std::string> kStoreKeys = {"kind", "path", "busy_timeout", "conninfo", "password_file", "password_env",
                                          "password_credential", "connection", "user", "encrypt",
                                          "trust_server_certificate", "ca_file", "login_timeout"};
const std::vector<std::string> kLoggingKeys = {"level"};
const std::vector<std::string> kAgentKeys = {"time_zone", "splay", "state_dir", "stop_timeout", "quarantine",
                                             "snapshot_part_rows"};
const std::vector<std::string> kOverrideKeys = {"enabled", "interval", "timeout", "retention", "params"};
const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};

constexpr std::chrono::milliseconds kMaxIntMilliseconds{INT_MAX};

bool valid_instance_name(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
    });
}

bool valid_env_name(std::string_view s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])) != 0) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
}

bool valid_credential_name(std::string_view s) {
    return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos && s.find('\0') == std::string_view::npos;
}

// The keys of an ODBC connection string ("KEY=value;KEY={va;lue}"), lower-cased.
std::vector<std::string> connection_keys(std::string_view cs) {
    std::vector<std::string> keys;
    std::size_t i = 0;
    while (i < cs.size()) {
        const std::size_t eq = cs.find('=', i);
        const std::size_t semi = cs.find(';', i);
        if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
            if (semi == std::string_view::npos) break;
            i = semi + 1;
            continue;
        }
        keys.push_back(lower(trim(cs.substr(i, eq - i))));
        i = eq + 1;
        while (i < cs.size() && cs[i] == ' ') ++i;
        if (i < cs.size() && cs[i] == '{') {
            ++i;
            while (i < cs.size()) {
                if (cs[i] == '}') {
                    if (i + 1 < cs.size() && cs[i + 1] == '}') { i += 2; continue; }
                    ++i;
                    break;
                }
                ++i;
            }
        }
        const std::size_t next = cs.find(';', i);
        if (next == std::string_view::npos) break;
        i = next + 1;
    }
    return keys;
}

bool valid_time_zone(std::string_view tz) {
    if (tz.empty() || tz.front() == '/' || tz.find("..") != std::string_view::npos) return false;
    return std::all_of(tz.begin(), tz.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '+' || c == '/';
    });
}

std::filesystem::path zoneinfo_dir() {
    if (const char* dir = std::getenv("TZDIR"); dir != nullptr && *dir != '\0') return dir;
    return "/usr/share/zoneinfo";
}

class Parser {
public:
    Parser(const std::string& file, const std::vector<std::string>& known) : r_(file, true), known_(known) {}

    Config run(std::string_view text) {
        const toml::table root = detail::parse_toml(text, r_.file(), true);
        Config cfg;
        cfg.source = r_.file();
        r_.check_keys(root, "", kTopKeys);
        for (const auto& [k, v] : detail::in_file_order(root)) {
            const std::string key(k->str());
            if (key == "instance") instances(*v, cfg);
            else if (key == "store") store(*v, cfg.store);
            else if (key == "logging") logging(*v, cfg.logging);
            else if (key == "agent") agent(*v, cfg.agent);
            else if (key == "xe") xe(*v, cfg.xe);
            else if (key == "digest") digest(*v, cfg.digest);
            else if (key == "spool") spool(*v, cfg.spool);
            else if (key == "metrics") metrics(*v, cfg);
            else if (key == "collectors") collectors(*v, cfg);
        }
        return cfg;
    }

private:
    void instances(const toml::node& node, Config& cfg) {
        const auto* list = node.as_array();
        if (list == nullptr || (!list->empty() && !list->is_array_of_tables())) {
            r_.fail(node.source(), "instance",
                    "expected an array of tables ([[instance]] sections), got " + detail::type_name(node.type()));
        }
        std::map<std::string, int> seen;
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto& t = *list->get(i)->as_table();
            const std::string prefix = "instance[" + std::to_string(i) + "]";
            Instance inst = instance(t, prefix);
            if (auto it = seen.find(inst.name); it != seen.end()) {
                r_.fail(t.get("name")->source(), prefix + ".name",
                        "duplicate instance name '" + inst.name + "' (first used at line " + std::to_string(it->second) +
                            "); every instance needs its own name");
            }
            seen.emplace(inst.name, inst.line);
            cfg.instances.push_back(std::move(inst));
        }
    }

    Instance instance(const toml::table& t, const std::string& prefix) {
        Instance inst;
        inst.line = static_cast<int>(t.source().begin.line);
        std::string password_source;  // the password_* key already seen
        for (const auto& [k, v] : detail::in_file_order(t)) {
            const std::string name(k->str());
            const std::string key = Reader::dotted(prefix, name);
            if (name == "password" || name == "pwd") {
                r_.fail(k->source(), key,
                        "a literal password is not allowed in the configuration file; use password_file (a file "
                        "only the agent's user can read, chmod 600), password_env (an environment variable) or "
                        "password_credential (a systemd credential)");
            }
        }
        r_.check_keys(t, prefix, kInstanceKeys);
        for (const auto& [k, v] : detail::in_file_order(t)) {
            const std::string name(k->str());
            const std::string key = Reader::dotted(prefix, name);
            if (name == "name") {
                inst.name = r_.string(*v, key);
                if (!valid_instance_name(inst.name)) {
                    r_.fail(v->source(), key,
                            "invalid instance name \"" + inst.name +
                                "\": use 1 to 128 letters, digits, '_', '.' or '-' (it is stored with every row)");
                }
            } else if (name == "connection") {
                inst.connection = r_.nonempty_string(*v, key);
                for (const auto& ck : connection_keys(inst.connection)) {
                    if (ck == "pwd" || ck == "password") {
                        r_.fail(v->source(), key,
                                "the connection string contains a password (" + ck +
                                    "=); remove it and use password_file, password_env or password_credential");
                    }
                }
            } else if (name == "user") {
                inst.user = r_.string(*v, key);
            } else if (name == "password_file" || name == "password_env" || name == "password_credential") {
                if (!password_source.empty()) {
                    r_.fail(k->source(), key,
                            "only one of password_file, password_env, password_credential may be set (" +
                                password_source + " is already set)");
                }
                password_source = name;
                const std::string value = r_.nonempty_string(*v, key);
                if (name == "password_file") {
                    inst.password_file = value;
                } else if (name == "password_env") {
                    if (!valid_env_name(value)) {
                        r_.fail(v->source(), key, "\"" + value + "\" is not a valid environment variable name");
                    }
                    inst.password_env = value;
                } else {
                    if (!valid_credential_name(value)) {
                        r_.fail(v->source(), key,
                                "\"" + value + "\" is not a credential name (a file name under $CREDENTIALS_DIRECTORY, without '/')");
                    }
                    inst.password_credential = value;
                }
            } else if (name == "login_timeout") {
                inst.login_timeout = r_.positive_seconds(*v, key);
                if (inst.login_timeout.count() > 3600) r_.fail(v->source(), key, "must be at most 1h");
            } else if (name == "lock_timeout") {
                inst.lock_timeout = r_.bounded_duration(*v, key, kMaxIntMilliseconds);
            } else if (name == "include_databases" || name == "exclude_databases") {
                auto& list = name == "include_databases" ? inst.include_databases : inst.exclude_databases;
                list = r_.strings(*v, key);
                for (const auto& db : list) {
                    // compared with sys.databases, never pasted into SQL; still held to what a name can be
                    if (auto problem = tsql::identifier_problem(db); !problem.empty())
                        r_.fail(v->source(), key, "database name \"" + db + "\" " + problem);
                }
            } else if (name == "encrypt") {
                inst.encrypt = r_.boolean(*v, key);
            } else if (name == "trust_server_certificate") {
                inst.trust_server_certificate = r_.boolean(*v, key);
            } else if (name == "ca_file") {
                inst.ca_file = r_.nonempty_string(*v, key);
            }
        }
        if (inst.name.empty()) r_.fail(t.source(), prefix + ".name", "missing: every [[instance]] needs a name");
        if (inst.connection.empty()) {
            r_.fail(t.source(), prefix + ".connection",
                    "missing: every [[instance]] needs an ODBC connection string or \"DSN=...\"");
        }
        return inst;
    }

    void store(const toml::node& node, Store& s) {
        const auto& t = r_.table(node, "store");
        r_.check_keys(t, "store", kStoreKeys);
        for (const auto& [k, v] : detail::in_file_order(t)) {
            const std::string name(k->str());
            const std::string key = "store." + name;
            if (name == "kind") {
                s.kind = r_.string(*v, key);
                if (s.kind != "sqlite" && s.kind != "postgres" && s.kind != "sqlserver") {
                    r_.fail(v->source(), key,
                            "unknown store kind \"" + s.kind + "\"; supported: \"sqlite\", \"postgres\", \"sqlserver\"");
                }
            } else if (name == "path") {
                s.path = r_.nonempty_string(*v, key);
            } else if (name == "busy_timeout") {
                s.busy_timeout = r_.bounded_duration(*v, key, kMaxIntMilliseconds);
            } else if (name == "conninfo") {
                s.conninfo = r_.nonempty_string(*v, key);
                if (s.conninfo.find("password=") != std::string::npos || s.conninfo.find(":@") != std::string::npos)
                    r_.fail(v->source(), key, "must not hold the password: use password_file, password_env or password_credential");
            } else if (name == "connection") {
                s.connection = r_.nonempty_string(*v, key);
                for (const auto& ck : connection_keys(s.connection)) {
                    if (ck == "pwd" || ck == "password")
                        r_.fail(v->source(), key,
                                "the connection string contains a password (" + ck +
                                    "=); remove it and use password_file, password_env or password_credential");
                }
            } else if (name == "user") {
                s.user = r_.string(*v, key);
            } else if (name == "encrypt") {
                s.encrypt = r_.boolean(*v, key);
            } else if (name == "trust_server_certificate") {
                s.trust_server_certificate = r_.boolean(*v, key);
            } else if (name == "ca_file") {
                s.ca_file = r_.nonempty_string(*v, key);
            } else if (name == "login_timeout") {
                s.login_timeout = r_.positive_seconds(*v, key);
                if (s.login_timeout.count() > 3600) r_.fail(v->source(), key, "must be at most 1h");
            } else if (name == "password_file") {
                s.password_file = r_.nonempty_string(*v, key);
            } else if (name == "password_env") {
                s.password_env = r_.nonempty_string(*v, key);
            } else if (name == "password_credential") {
                s.password_credential = r_.nonempty_string(*v, key);
            }
        }
        if (s.kind == "postgres" && s.conninfo.empty())
            r_.fail(t.source(), "store.conninfo", "missing: kind = \"postgres\" needs conninfo = \"host=... dbname=...\"");
        if (s.kind == "sqlserver" && s.connection.empty())
            r_.fail(t.source(), "store.connection",
                    "missing: kind = \"sqlserver\" needs connection = \"Driver=FreeTDS;Server=...;Port=1433;Database=dmvlog\"");
        const int passwords = s.password_file.has_value() + s.password_env.has_value() + s.password_credential.has_value();
        if (passwords > 1) r_.fail(t.source(), "store", "give at most one of password_file, password_env and password_credential");
    }

    void logging(const toml::node& node, Logging& l) {
        const auto& t = r_.table(node, "logging");
        r_.check_keys(t, "logging", kLoggingKeys);
        if (const auto* v = t.get("level")) {
            l.level = r_.string(*v, "logging.level");
            if (std::find(kLevels.begin(), kLevels.end(), l.level) == kLevels.end()) {
                std::string problem = "unknown level \"" + l.level + "\"";
                if (auto near = detail::nearest(l.level, kLevels); !near.empty()) problem += "; did you mean '" + near + "'?";
                problem += " (levels: " + detail::join(kLevels) + ")";
                r_.fail(v->source(), "logging.level", problem);
            }
        }
    }

    void agent(const toml::node& node, Agent& a) {
        const auto& t = r_.table(node, "agent");
        r_.check_keys(t, "agent", kAgentKeys);
        if (const auto* v = t.get("time_zone")) {
            a.time_zone = r_.nonempty_string(*v, "agent.time_zone");
            bool ok = valid_time_zone(a.time_zone);
            if (ok && a.time_zone != "UTC") {
                std::error_code ec;
                const auto dir = zoneinfo_dir();
                if (std::filesystem::is_directory(dir, ec)) ok = std::filesystem::is_regular_file(dir / a.time_zone, ec);
            }
            if (!ok) {
                r_.fail(v->source(), "agent.time_zone",
                        "unknown time zone \"" + a.time_zone + "\"; use an IANA name such as \"UTC\" or \"Europe/Berlin\"");
            }
        }
        if (const auto* v = t.get("splay")) a.splay = r_.bounded_duration(*v, "agent.splay", std::chrono::hours(1));
        if (const auto* v = t.get("state_dir")) a.state_dir = r_.nonempty_string(*v, "agent.state_dir");
        if (const auto* v = t.get("stop_timeout")) {
            a.stop_timeout = r_.positive_duration(*v, "agent.stop_timeout");
            if (a.stop_timeout < std::chrono::seconds(1) || a.stop_timeout > std::chrono::minutes(10))
                r_.fail(v->source(), "agent.stop_timeout",
                        "must be between 1s and 10m (got \"" + format_duration(a.stop_timeout) + "\")");
        }
        if (const auto* v = t.get("quarantine"))
            a.quarantine = r_.bounded_duration(*v, "agent.quarantine", std::chrono::hours(24 * 7));
        if (const auto* v = t.get("snapshot_part_rows")) {
            auto n = r_.integer(*v, "agent.snapshot_part_rows");
            if (n != 0 && (n < 100 || n > 1000000))
                r_.fail(v->source(), "agent.snapshot_part_rows", "must be 0 (whole snapshots) or 100 to 1000000");
            a.snapshot_part_rows = static_cast<std::size_t>(n);
        }
    }

    void xe(const toml::node& node, Xe& x) {
        const auto& t = r_.table(node, "xe");
        r_.check_keys(t, "xe", kXeKeys);
        if (const auto* v = t.get("session")) {
            x.session = r_.nonempty_string(*v, "xe.session");
            const bool ok = x.session.size() <= 100 && std::all_of(x.session.begin(), x.session.end(), [](char c) {
                                return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
                            });
            if (!ok) r_.fail(v->source(), "xe.session", "an event session name is [A-Za-z0-9_]+ (at most 100)");
        }
        if (const auto* v = t.get("ring_buffer_session")) {
            x.ring_buffer_session = r_.nonempty_string(*v, "xe.ring_buffer_session");
            const auto& n = x.ring_buffer_session;
            const bool ok = n.size() <= 100 && std::all_of(n.begin(), n.end(), [](char c) {
                                return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
                            });
            if (!ok) r_.fail(v->source(), "xe.ring_buffer_session", "an event session name is [A-Za-z0-9_]+ (at most 100)");
        }
        if (const auto* v = t.get("path")) {
            x.path = r_.nonempty_string(*v, "xe.path");
            const bool ok = x.path.size() <= 260 && x.path.ends_with(".xel") &&
                            std::none_of(x.path.begin(), x.path.end(), [](char c) {
                                return c == '\'' || c == '"' || c == ';' || static_cast<unsigned char>(c) < 0x20;
                            });
            if (!ok) {
                r_.fail(v->source(), "xe.path",
                        "must be a file path ending in .xel, at most 260 characters, without quotes, ';' or control characters");
            }
        }
        if (const auto* v = t.get("max_file_size_mb")) {
            auto n = r_.integer(*v, "xe.max_file_size_mb");
            if (n < 1 || n > 10240) r_.fail(v->source(), "xe.max_file_size_mb", "must be 1 to 10240");
            x.max_file_size_mb = static_cast<int>(n);
        }
        if (const auto* v = t.get("max_rollover_files")) {
            auto n = r_.integer(*v, "xe.max_rollover_files");
            if (n < 1 || n > 1000) r_.fail(v->source(), "xe.max_rollover_files", "must be 1 to 1000");
            x.max_rollover_files = static_cast<int>(n);
        }
    }

    void metrics(const toml::node& node, Config& cfg) {
        const auto& t = r_.table(node, "metrics");
        r_.check_keys(t, "metrics", kMetricsKeys);
        Metrics& m = cfg.metrics;
        m.line = static_cast<int>(t.source().begin.line);
        if (const auto* v = t.get("enabled")) m.enabled = r_.boolean(*v, "metrics.enabled");
        if (const auto* v = t.get("listen")) {
            m.listen = r_.string(*v, "metrics.listen");
            std::string host;
            int port = 0;
            if (!m.listen.empty() && !split_listen(m.listen, host, port))
                r_.fail(v->source(), "metrics.listen",
                        "must be host:port with a port of 1 to 65535, e.g. \"127.0.0.1:9187\" "
                        "(\"\" turns the endpoint off; got \"" + m.listen + "\")");
            if (!m.listen.empty() && !is_loopback_host(host))
                cfg.warnings.push_back(r_.file() + ":" + std::to_string(v->source().begin.line) + ": metrics.listen: " +
                                       m.listen + " is not a loopback address: /metrics and /readyz answer anyone "
                                       "who can reach it (no authentication); prefer 127.0.0.1 behind a proxy or a "
                                       "firewall");
        }
        if (m.listen.empty()) m.enabled = false;
    }

    void digest(const toml::node& node, Digest& d) {
        const auto& t = r_.table(node, "digest");
        r_.check_keys(t, "digest", kDigestKeys);
        if (const auto* v = t.get("format")) {
            d.format = r_.nonempty_string(*v, "digest.format");
            if (d.format != "text" && d.format != "markdown" && d.format != "html" && d.format != "json")
                r_.fail(v->source(), "digest.format", "must be text, markdown, html or json (got \"" + d.format + "\")");
        }
        if (const auto* v = t.get("out")) d.out = r_.nonempty_string(*v, "digest.out");
        if (const auto* v = t.get("post")) {
            d.post = r_.nonempty_string(*v, "digest.post");
            if (!d.post.starts_with("http://") && !d.post.starts_with("https://"))
                r_.fail(v->source(), "digest.post", "must be an http:// or https:// URL");
        }
        if (const auto* v = t.get("post_file")) d.post_file = r_.nonempty_string(*v, "digest.post_file");
        if (const auto* v = t.get("post_env")) d.post_env = r_.nonempty_string(*v, "digest.post_env");
        if (const auto* v = t.get("post_timeout"))
            d.post_timeout = r_.bounded_duration(*v, "digest.post_timeout", std::chrono::minutes(5));
        if (const auto* v = t.get("post_retries")) {
            auto n = r_.integer(*v, "digest.post_retries");
            if (n < 0 || n > 10) r_.fail(v->source(), "digest.post_retries", "must be 0 to 10");
            d.post_retries = static_cast<int>(n);
        }
        if (const auto* v = t.get("top")) {
            auto n = r_.integer(*v, "digest.top");
            if (n < 1 || n > 100) r_.fail(v->source(), "digest.top", "must be 1 to 100");
            d.top = static_cast<int>(n);
        }
        const int sources = !d.post.empty() + d.post_file.has_value() + d.post_env.has_value();
        if (sources > 1) r_.fail(node.source(), "digest", "give at most one of post, post_file and post_env");
    }

    void spool(const toml::node& node, Spool& s) {
        const auto& t = r_.table(node, "spool");
        r_.check_keys(t, "spool", kSpoolKeys);
        if (const auto* v = t.get("enabled")) s.enabled = r_.boolean(*v, "spool.enabled");
        if (const auto* v = t.get("dir")) s.dir = r_.nonempty_string(*v, "spool.dir");
        if (const auto* v = t.get("max_bytes")) {
            // An integer (bytes) or a string with a unit: "64KiB", "256MiB", "2GiB".
            std::optional<std::uint64_t> bytes;
            if (v->is_integer()) {
                auto n = v->as_integer()->get();
                if (n > 0) bytes = static_cast<std::uint64_t>(n);
            } else if (v->is_string()) {
                bytes = parse_byte_size(v->as_string()->get());
            }
            if (!bytes) r_.fail(v->source(), "spool.max_bytes", "expected a size in bytes (262144) or with a unit (\"64KiB\", \"256MiB\", \"2GiB\")");
            if (*bytes < (64u << 10) || *bytes > (1ull << 40)) r_.fail(v->source(), "spool.max_bytes", "must be 64KiB to 1TiB");
            s.max_bytes = *bytes;
        }
    }

    static std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc{} || end == text.data()) return std::nullopt;
        const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
        int shift = 0;
        if (unit == "" || unit == "B") shift = 0;
        else if (unit == "KiB") shift = 10;
        else if (unit == "MiB") shift = 20;
        else if (unit == "GiB") shift = 30;
        else if (unit == "TiB") shift = 40;
        else return std::nullopt;
        if (n == 0 || n > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
        return n << shift;
    }

    void collectors(const toml::node& node, Config& cfg) {
        const auto& t = r_.table(node, "collectors");
        for (const auto& [k, v] : detail::in_file_order(t)) {
            const std::string name(k->str());
            const std::string prefix = "collectors." + name;
            if (!known_.empty() && std::find(known_.begin(), known_.end(), name) == known_.end()) {
                std::string problem = "unknown collector";
                if (auto near = detail::nearest(name, known_); !near.empty()) problem += "; did you mean '" + near + "'?";
                problem += " (collectors: " + detail::join(known_) + ")";
                r_.fail(k->source(), prefix, problem);
            }
            if (known_.empty() && !detail::is_identifier(name)) {
                r_.fail(k->source(), prefix, "invalid collector name (collector names are [a-z_][a-z0-9_]*)");
            }
            cfg.collectors[name] = override_table(r_.table(*v, prefix), prefix);
        }
    }

    // A timeout longer than the interval is not an error; collect::apply_overrides warns about it, since only
    // it knows the declared values an override leaves in place.
    CollectorOverride override_table(const toml::table& t, const std::string& prefix) {
        CollectorOverride o;
        o.line = static_cast<int>(t.source().begin.line);
        r_.check_keys(t, prefix, kOverrideKeys);
        for (const auto& [k, v] : detail::in_file_order(t)) {
            const std::string name(k->str());
            const std::string key = prefix + "." + name;
            if (name == "enabled") o.enabled = r_.boolean(*v, key);
            else if (name == "interval") o.interval = r_.positive_duration(*v, key);
            else if (name == "timeout") o.timeout = r_.positive_duration(*v, key);
            else if (name == "retention") o.retention = r_.positive_seconds(*v, key);
            else if (name == "params") {
                const auto& params = r_.table(*v, key);
                for (const auto& [pk, pv] : detail::in_file_order(params)) {
                    const std::string pname(pk->str());
                    const std::string pkey = key + "." + pname;
                    if (!detail::is_identifier(pname)) r_.fail(pk->source(), pkey, "invalid param name ([a-z_][a-z0-9_]*)");
                    const long long value = r_.integer(*pv, pkey);
                    if (value < 0) r_.fail(pv->source(), pkey, "must not be negative (got " + std::to_string(value) + ")");
                    o.params[pname] = value;
                }
            }
        }
        return o;
    }

    Reader r_;
    const std::vector<std::string>& known_;
};

}  // namespace

Config parse(std::string_view text, const std::string& file, const std::vector<std::string>& known_collectors) {
    return Parser(file, known_collectors).run(text);
}

Config load_file(const std::filesystem::path& path, const std::vector<std::string>& known_collectors) {
    const std::string file = path.string();
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) {
        throw ConfigError(file, 0, 0, "", "configuration file not found (use --config FILE or set DMVLOG_CONFIG)");
    }
    if (std::filesystem::is_directory(status)) throw ConfigError(file, 0, 0, "", "is a directory, not a configuration file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(file, 0, 0, "", std::string("cannot read configuration file: ") + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    Config cfg = parse(text.str(), file, known_collectors);
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0) check_file_mode(path, static_cast<unsigned>(st.st_mode), cfg);
    const auto config_dir = std::filesystem::absolute(path, ec).parent_path();
    for (auto& inst : cfg.instances)
        if (!inst.ca_file.empty() && std::filesystem::path(inst.ca_file).is_relative())
            inst.ca_file = (config_dir / inst.ca_file).lexically_normal().string();
    if (!cfg.store.ca_file.empty() && std::filesystem::path(cfg.store.ca_file).is_relative())
        cfg.store.ca_file = (config_dir / cfg.store.ca_file).lexically_normal().string();
    std::filesystem::path store_path(cfg.store.path);
    if (store_path.is_relative()) cfg.store.path = (config_dir / store_path).lexically_normal().string();
    if (!cfg.agent.state_dir.empty() && std::filesystem::path(cfg.agent.state_dir).is_relative())
        cfg.agent.state_dir = (config_dir / cfg.agent.state_dir).lexically_normal().string();
    cfg.agent.state_dir = resolve_state_dir(cfg);
    if (cfg.spool.dir.empty()) cfg.spool.dir = (std::filesystem::path(cfg.agent.state_dir) / "spool").string();
    else if (std::filesystem::path(cfg.spool.dir).is_relative())
        cfg.spool.dir = (config_dir / cfg.spool.dir).lexically_normal().string();
    return cfg;
}

void check_file_mode(const std::filesystem::path& path, unsigned mode, Config& cfg) {
    char octal_buf[16];
    std::snprintf(octal_buf, sizeof octal_buf, "%04o", mode & 07777u);
    const std::string octal(octal_buf);
    if ((mode & 004u) != 0 && !cfg.digest.post.empty()) {
        throw ConfigError(path.string(), 0, 0, "digest.post",
                          "the configuration file holds a secret (the webhook URL in digest.post) and everyone may "
                          "read it (mode " + octal + "): chmod o-r (e.g. 0640, group dmvlog), or move the URL to "
                          "digest.post_file / digest.post_env");
    }
    if ((mode & 022u) != 0) {
        cfg.warnings.push_back(format_message(path.string(), 0, 0, "",
                                              "others may change this configuration file (mode " + octal +
                                                  "), and with it where the agent connects and writes: chmod go-w"));
    }
}

std::string resolve_state_dir(const Config& config) {
    if (!config.agent.state_dir.empty()) return config.agent.state_dir;
    if (const char* env = std::getenv("STATE_DIRECTORY"); env && *env) {
        std::string first(env);
        return first.substr(0, first.find(':'));   // systemd lists one folder per StateDirectory= entry
    }
    if (config.store.kind == "sqlite") {
        auto dir = std::filesystem::path(config.store.path).parent_path();
        if (!dir.empty()) return dir.string();
    }
    return "/var/lib/dmvlog";
}

void validate_for_run(const Config& config) {
    if (config.instances.empty()) {
        throw ConfigError(config.source, 0, 0, "instance",
                          "no [[instance]] is configured; add one with a name and a connection (see "
                          "dmvlog.example.toml)");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Passwords

namespace {

std::string strip_newline(std::string s) {
    if (!s.empty() && s.back() == '\n') {
        s.pop_back();
        if (!s.empty() && s.back() == '\r') s.pop_back();
    }
    return s;
}

std::string octal_mode(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

struct ReadResult {
    std::string content;
    std::string error;  // "" when read
};

// Reads a secret file; with check_mode, refuses one that group or others can access.
ReadResult read_secret(const std::filesystem::path& path, const std::string& what_file, bool check_mode) {
    ReadResult r;
    const std::string named = what_file + " " + path.string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        r.error = "cannot read " + named + ": " + std::strerror(errno);
        return r;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        r.error = "cannot read " + named + ": " + std::strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        r.error = named + " is not a regular file";
    } else if (check_mode && (st.st_mode & 077) != 0) {
        const char* what = (st.st_mode & 044) != 0 ? "readable" : (st.st_mode & 022) != 0 ? "writable" : "accessible";
        r.error = named + " is " + what + " by group or others (mode " + octal_mode(st.st_mode) +
                  "); make it private to the agent's user: chmod 600 " + path.string();
    } else {
        constexpr std::size_t kMax = 64 * 1024;
        char buf[4096];
        while (true) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0) {
                if (errno == EINTR) continue;
                r.error = "cannot read " + named + ": " + std::strerror(errno);
                break;
            }
            if (n == 0) break;
            r.content.append(buf, static_cast<std::size_t>(n));
            if (r.content.size() > kMax) {
                r.error = named + " is larger than 64 KiB; it should hold only the password";
                break;
            }
        }
    }
    ::close(fd);
    if (!r.error.empty()) {
        // Never keep a partial secret around.
        std::fill(r.content.begin(), r.content.end(), '\0');
        r.content.clear();
    }
    return r;
}

}  // namespace

std::string resolve_password(const Instance& instance, const std::string& config_file) {
    const std::string who = "instance '" + instance.name + "': ";
    auto fail = [&](const std::string& key, const std::string& problem) -> ConfigError {
        return ConfigError(config_file, instance.line, 0, key, who + problem);
    };
    if (instance.password_file) {
        std::filesystem::path p(*instance.password_file);
        if (p.is_relative() && !config_file.empty()) p = std::filesystem::path(config_file).parent_path() / p;
        ReadResult r = read_secret(p, "password file", true);
        if (!r.error.empty()) throw fail("password_file", r.error);
        std::string pw = strip_newline(std::move(r.content));
        if (pw.empty()) throw fail("password_file", "password file " + p.string() + " is empty");
        return pw;
    }
    if (instance.password_env) {
        const char* value = std::getenv(instance.password_env->c_str());
        if (value == nullptr) throw fail("password_env", "environment variable " + *instance.password_env + " is not set");
        if (*value == '\0') throw fail("password_env", "environment variable " + *instance.password_env + " is empty");
        return value;
    }
    if (instance.password_credential) {
        const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
        if (dir == nullptr || *dir == '\0') {
            throw fail("password_credential",
                       "credential '" + *instance.password_credential +
                           "' needs $CREDENTIALS_DIRECTORY, which is not set; systemd sets it for a service with "
                           "LoadCredential= or LoadCredentialEncrypted= (otherwise use password_file)");
        }
        // systemd makes the credential directory private to the service; the file's own mode is not checked.
        ReadResult r = read_secret(std::filesystem::path(dir) / *instance.password_credential, "credential file", false);
        if (!r.error.empty()) throw fail("password_credential", r.error);
        std::string pw = strip_newline(std::move(r.content));
        if (pw.empty()) throw fail("password_credential", "credential '" + *instance.password_credential + "' is empty");
        return pw;
    }
    return "";
}

std::string resolve_store_password(const Store& store, const std::string& config_file) {
    Instance as;   // the store's password sources work exactly like an instance's
    as.name = "store";
    as.password_file = store.password_file;
    as.password_env = store.password_env;
    as.password_credential = store.password_credential;
    return resolve_password(as, config_file);
}

std::string resolve_digest_post(const Digest& digest, const std::string& config_file) {
    if (!digest.post.empty()) return digest.post;
    if (digest.post_file) {
        std::filesystem::path p(*digest.post_file);
        if (p.is_relative() && !config_file.empty()) p = std::filesystem::path(config_file).parent_path() / p;
        ReadResult r = read_secret(p, "webhook URL file", false);
        if (!r.error.empty()) throw ConfigError(config_file, 0, 0, "digest.post_file", r.error);
        std::string url = strip_newline(std::move(r.content));
        if (url.empty()) throw ConfigError(config_file, 0, 0, "digest.post_file", "webhook URL file " + p.string() + " is empty");
        return url;
    }
    if (digest.post_env) {
        const char* value = std::getenv(digest.post_env->c_str());
        if (value == nullptr || *value == '\0')
            throw ConfigError(config_file, 0, 0, "digest.post_env", "environment variable " + *digest.post_env + " is not set or empty");
        return value;
    }
    return "";
}

std::filesystem::path config_path(const std::optional<std::string>& cli_value) {
    if (cli_value && !cli_value->empty()) return *cli_value;
    if (const char* env = std::getenv("DMVLOG_CONFIG"); env != nullptr && *env != '\0') return env;
    return "/etc/dmvlog/dmvlog.toml";
}

}  // namespace dmvlog::config
