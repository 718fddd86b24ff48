#include "agent/odbc/tls_settings.h"

#include "agent/core/text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <map>

namespace dmvlog::odbc {

namespace {

bool is_key(std::string_view a, std::string_view b) { return lower(trim(a)) == lower(b); }

bool has_any(const std::vector<std::pair<std::string, std::string>>& kv, std::initializer_list<std::string_view> keys) {
    return std::any_of(kv.begin(), kv.end(), [&](const auto& p) {
        return std::any_of(keys.begin(), keys.end(), [&](std::string_view k) { return is_key(p.first, k); });
    });
}

std::string join(const std::vector<std::pair<std::string, std::string>>& kv) {
    std::string out;
    for (const auto& [k, v] : kv) {
        if (!out.empty()) out += ';';
        out += k + "=" + odbc_value(v);
    }
    return out;
}

bool truthy(std::string_view v) {
    const auto l = lower(trim(v));
    return l == "yes" || l == "true" || l == "1" || l == "mandatory" || l == "strict" || l == "require";
}

// freetds.conf values end at the line's end; a value with a newline or a section bracket would change the file.
std::string conf_value(std::string_view v, std::string_view what) {
    if (v.find_first_of("\r\n[]") != std::string_view::npos || trim(v).empty())
        throw std::invalid_argument(fmt::format("{} \"{}\" cannot go into a freetds.conf section", what, v));
    return trim(v);
}

std::mutex g_conf_mu;
std::string g_conf_path;

void remove_conf() {
    std::lock_guard lock(g_conf_mu);
    if (!g_conf_path.empty()) ::unlink(g_conf_path.c_str());
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_connection_string(std::string_view cs) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = 0;
    while (i < cs.size()) {
        while (i < cs.size() && (cs[i] == ';' || cs[i] == ' ')) ++i;
        if (i >= cs.size()) break;
        const std::size_t eq = cs.find('=', i);
        const std::size_t semi = cs.find(';', i);
        if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
            if (semi == std::string_view::npos) break;
            i = semi + 1;
            continue;
        }
        std::string key = trim(cs.substr(i, eq - i));
        i = eq + 1;
        std::string value;
        if (i < cs.size() && cs[i] == '{') {
            ++i;
            while (i < cs.size()) {
                if (cs[i] == '}') {
                    if (i + 1 < cs.size() && cs[i + 1] == '}') {
                        value += '}';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                value += cs[i++];
            }
            const std::size_t next = cs.find(';', i);
            i = next == std::string_view::npos ? cs.size() : next + 1;
        } else {
            const std::size_t next = cs.find(';', i);
            value = std::string(cs.substr(i, next == std::string_view::npos ? std::string_view::npos : next - i));
            i = next == std::string_view::npos ? cs.size() : next + 1;
        }
        out.emplace_back(std::move(key), std::move(value));
    }
    return out;
}

std::optional<std::string> connection_attribute(std::string_view cs, std::string_view key) {
    for (const auto& [k, v] : parse_connection_string(cs))
        if (is_key(k, key)) return v;
    return std::nullopt;
}

DriverKind driver_kind(std::string_view cs) {
    const auto driver = connection_attribute(cs, "Driver");
    if (!driver) return DriverKind::other;
    const auto d = lower(*driver);
    if (d == "freetds" || d.find("libtdsodbc") != std::string::npos) return DriverKind::freetds;
    if ((d.find("odbc driver") != std::string::npos && d.find("sql server") != std::string::npos) ||
        d.find("msodbcsql") != std::string::npos)
        return DriverKind::microsoft;
    return DriverKind::other;
}

std::string odbc_value(std::string_view v) {
    const bool braces = !v.empty() && (v.front() == ' ' || v.back() == ' ' || v.find_first_of(";{}=") != std::string_view::npos);
    if (!braces) return std::string(v);
    std::string out = "{";
    for (char c : v) {
        out.push_back(c);
        if (c == '}') out.push_back('}');
    }
    out.push_back('}');
    return out;
}

SecuredConnection secure_connection(std::string_view cs, const TlsSettings& settings, std::string_view instance) {
    SecuredConnection out;
    auto kv = parse_connection_string(cs);
    const DriverKind kind = driver_kind(cs);
    const bool check = settings.encrypt && !settings.trust_server_certificate;
    if (!settings.encrypt) {
        out.warnings.push_back(fmt::format(
            "instance {}: ENCRYPTION IS OFF (encrypt = false): the login and every query and answer cross the "
            "network in clear text", instance));
    } else if (settings.trust_server_certificate) {
        out.warnings.push_back(fmt::format(
            "instance {}: THE SERVER'S CERTIFICATE IS NOT CHECKED (trust_server_certificate = true): the connection "
            "is encrypted, but whoever can intercept it can pose as the server and read everything", instance));
    }
    const std::string ca = settings.ca_file.empty() ? "system" : settings.ca_file;
    if (kind == DriverKind::freetds) {
        if (has_any(kv, {"Encryption"})) {
            const auto stated = lower(trim(*connection_attribute(cs, "Encryption")));
            if (settings.encrypt && stated != "require")
                out.warnings.push_back(fmt::format(
                    "instance {}: the connection string says Encryption={}, so the connection may not be encrypted; "
                    "remove it (dmvlog then requires encryption)", instance, stated));
        } else {
            kv.emplace_back("Encryption", settings.encrypt ? "require" : "off");
        }
        const bool named = has_any(kv, {"Servername", "DSN"});
        if (check && !named && has_any(kv, {"Server"})) {
            std::string server = *connection_attribute(cs, "Server");
            std::string inst_name;
            if (auto slash = server.find('\\'); slash != std::string::npos) {
                inst_name = server.substr(slash + 1);
                server.resize(slash);
            }
            out.section_name = "dmvlog_" + std::string(instance);
            std::string section = fmt::format("[{}]\n\thost = {}\n", out.section_name, conf_value(server, "Server"));
            if (auto port = connection_attribute(cs, "Port")) section += fmt::format("\tport = {}\n", conf_value(*port, "Port"));
            if (!inst_name.empty()) section += fmt::format("\tinstance = {}\n", conf_value(inst_name, "instance"));
            section += fmt::format("\tencryption = {}\n\tca file = {}\n\tcheck certificate hostname = yes\n",
                                   lower(trim(connection_attribute(join(kv), "Encryption").value_or("require"))),
                                   conf_value(ca, "ca_file"));
            out.freetds_section = section;
            std::vector<std::pair<std::string, std::string>> rest;
            rest.emplace_back("Servername", out.section_name);
            for (auto& p : kv)
                if (!is_key(p.first, "Server") && !is_key(p.first, "Port") && !is_key(p.first, "Address"))
                    rest.push_back(std::move(p));
            // Driver first, as people write it
            std::stable_partition(rest.begin(), rest.end(), [](const auto& p) { return is_key(p.first, "Driver"); });
            kv = std::move(rest);
            out.summary = fmt::format("encrypted (FreeTDS, encryption = require), certificate checked against {} "
                                      "and the host name {}", settings.ca_file.empty() ? "the system trust store"
                                                                                       : "CA file " + settings.ca_file,
                                      server);
        } else if (check) {
            out.summary = "encrypted (FreeTDS); certificate checks as the freetds.conf section or DSN says (its ca file)";
        } else if (settings.encrypt) {
            out.summary = "encrypted (FreeTDS), certificate NOT checked";
        } else {
            out.summary = "NOT encrypted";
        }
    } else if (kind == DriverKind::microsoft) {
        if (!settings.ca_file.empty())
            throw std::invalid_argument(
                "ca_file works with FreeTDS only; Microsoft's driver checks the certificate against the system trust "
                "store (add the CA there, e.g. update-ca-certificates)");
        if (!has_any(kv, {"Encrypt"})) kv.emplace_back("Encrypt", settings.encrypt ? "yes" : "no");
        else if (settings.encrypt && !truthy(*connection_attribute(cs, "Encrypt")))
            out.warnings.push_back(fmt::format("instance {}: the connection string says Encrypt={}, so the connection "
                                               "is not encrypted; remove it", instance, *connection_attribute(cs, "Encrypt")));
        if (!has_any(kv, {"TrustServerCertificate"}))
            kv.emplace_back("TrustServerCertificate", settings.trust_server_certificate ? "yes" : "no");
        else if (check && truthy(*connection_attribute(cs, "TrustServerCertificate")))
            out.warnings.push_back(fmt::format("instance {}: the connection string says TrustServerCertificate=yes: the "
                                               "server's certificate is NOT checked; remove it", instance));
        out.summary = !settings.encrypt ? "NOT encrypted"
                      : check ? "encrypted (Microsoft's driver, Encrypt=yes), certificate checked against the system trust store"
                              : "encrypted (Microsoft's driver), certificate NOT checked";
    } else {
        out.summary = "as the DSN or driver configures it (dmvlog cannot tell the driver, so it adds no encryption keys)";
    }
    out.connection_string = join(kv);
    return out;
}

std::string install_freetds_conf(const std::vector<std::string>& sections) {
    std::lock_guard lock(g_conf_mu);
    // The file FreeTDS would read without dmvlog is read once, at the first call; each call then adds or
    // replaces its sections by name ("[name]" on their first line: the instances' on start and reload, the
    // store's when it connects), and the file is written again with all of them.
    static bool have_base = false;
    static std::string base;
    static std::map<std::string, std::string> known;
    if (!have_base) {
        if (const char* env = std::getenv("FREETDSCONF"); env && *env) {
            base = read_text(env);
        } else {
            const char* home = std::getenv("HOME");
            if (home && *home) base = read_text(std::string(home) + "/.freetds.conf");
            if (base.empty()) base = read_text("/etc/freetds/freetds.conf");
        }
        have_base = true;
    }
    for (const auto& s : sections) {
        const auto open = s.find('['), close = s.find(']');
        known[open != std::string::npos && close != std::string::npos && close > open ? s.substr(open, close - open) : s] = s;
    }
    if (!g_conf_path.empty()) ::unlink(g_conf_path.c_str());
    std::string text = base;
    if (!text.empty() && text.back() != '\n') text += '\n';
    text += "\n# Sections written by dmvlog for its instances and its store (encryption and certificate checks)\n";
    for (const auto& [name, s] : known) text += s + "\n";

    const char* tmp = std::getenv("TMPDIR");
    std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/dmvlog-freetds-XXXXXX";
    std::vector<char> buf(path.begin(), path.end());
    buf.push_back('\0');
    const int fd = ::mkstemp(buf.data());  // mode 0600
    if (fd < 0)
        throw std::runtime_error(fmt::format("cannot create a freetds.conf for the certificate checks in {}: {}",
                                             tmp && *tmp ? tmp : "/tmp", std::strerror(errno)));
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(buf.data());
            throw std::runtime_error(fmt::format("cannot write {}: {}", buf.data(), std::strerror(err)));
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    const bool first = g_conf_path.empty();
    g_conf_path = buf.data();
    ::setenv("FREETDSCONF", g_conf_path.c_str(), 1);
    if (first) std::atexit(remove_conf);
    return g_conf_path;
}

std::string tls_failure_hint(std::string_view error_text, const SecuredConnection& secured, const TlsSettings& settings) {
    if (secured.section_name.empty() || !settings.encrypt || settings.trust_server_certificate) return {};
    const auto t = lower(error_text);
    // nothing listening (20009), an unknown host (20013) or a timeout: not the certificate
    if (t.find("/20009]") != std::string::npos || t.find("/20013]") != std::string::npos ||
        t.find("hyt00") != std::string::npos || t.find("/18456]") != std::string::npos ||
        t.find("login failed") != std::string::npos)
        return {};
    if (t.find("08001") == std::string::npos && t.find("unable to connect") == std::string::npos &&
        t.find("certificate") == std::string::npos && t.find("tls") == std::string::npos)
        return {};
    return fmt::format(
        "if the server is up, the TLS handshake probably failed: its certificate must be signed by {} and name the "
        "host as given in Server= (FreeTDS says only \"Unable to connect\" when it refuses a certificate); set ca_file "
        "to the CA that signed it, or (not recommended) trust_server_certificate = true",
        settings.ca_file.empty() ? "a CA in the system trust store" : "the CA in " + settings.ca_file);
}

}  // namespace dmvlog::odbc
