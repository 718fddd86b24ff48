// Encryption and certificate checks for an instance's ODBC connection string.
//
// dmvlog encrypts by default and checks the server's certificate by default. What that takes depends on the
// driver named by Driver=:
//   - FreeTDS: "Encryption=require" (added when the string does not say). FreeTDS 1.3 checks a certificate
//     only when a freetds.conf server section names a `ca file`; its ODBC connection strings have no key for
//     one (and without a CA file it encrypts without checking anything). So, with checks on and a
//     "Server=host;Port=N" string, dmvlog writes a private freetds.conf section for the instance (host, port,
//     encryption = require, ca file = the configured ca_file or "system" (the system trust store), check
//     certificate hostname = yes) and connects with "Servername=<section>" instead of Server/Port.
//   - Microsoft's driver ("ODBC Driver 17/18 for SQL Server"): "Encrypt=yes;TrustServerCertificate=no" unless
//     stated (the system trust store; ca_file is not supported there).
//   - A DSN or another driver: left as configured (the DSN says what happens); noted in `dmvlog check`.
// Turning encryption or checks off is allowed, with a loud warning at start and in `dmvlog check`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dmvlog::odbc {

struct TlsSettings {
    bool encrypt = true;                    // instance key encrypt
    bool trust_server_certificate = false;  // instance key trust_server_certificate (true = no check)
    std::string ca_file;                    // instance key ca_file ("" = the system trust store)
};

enum class DriverKind { freetds, microsoft, other };

// "KEY=value;KEY={va;lue}" as (key, value) pairs in order; braces removed ("}}" inside braces is "}").
std::vector<std::pair<std::string, std::string>> parse_connection_string(std::string_view cs);
// The value of key (case-insensitive), nullopt when absent.
std::optional<std::string> connection_attribute(std::string_view cs, std::string_view key);
// The driver a connection string names: FreeTDS (Driver=FreeTDS or a libtdsodbc path), Microsoft's (Driver=
// "ODBC Driver NN for SQL Server" or a libmsodbcsql path), or other (a DSN, another driver).
DriverKind driver_kind(std::string_view cs);

// An ODBC value as the driver reads it: bare when it can be, else in braces with "}" doubled.
std::string odbc_value(std::string_view value);

struct SecuredConnection {
    std::string connection_string;      // what to hand the driver (no credentials)
    std::string freetds_section;        // a freetds.conf section ("" when none is needed)
    std::string section_name;           // its name
    std::vector<std::string> warnings;  // encryption or certificate checks off: said loudly
    std::string summary;                // one line for `dmvlog check`: what protects the connection
};

// Applies the settings to cs for an instance named instance (used to name a freetds.conf section).
// Throws std::invalid_argument when the settings cannot be honoured (ca_file with Microsoft's driver; a
// connection string that turns encryption off while the settings ask for it stays as written, with a warning).
SecuredConnection secure_connection(std::string_view cs, const TlsSettings& settings, std::string_view instance);

// The private freetds.conf with the sections of secure_connection: written once per process, before the first
// connection, to a new file only this user can read (mkstemp in $TMPDIR), and FREETDSCONF set to it. The
// file FreeTDS would have read otherwise ($FREETDSCONF, ~/.freetds.conf, /etc/freetds/freetds.conf) is copied
// in first, so that its [global] settings and sections still apply. Removed at exit. Returns its path.
// Throws std::runtime_error when it cannot be written.
std::string install_freetds_conf(const std::vector<std::string>& sections);

// A hint for a failed connect when certificates are checked: "" when the failure does not look like TLS.
std::string tls_failure_hint(std::string_view error_text, const SecuredConnection& secured, const TlsSettings& settings);

}  // namespace dmvlog::odbc
