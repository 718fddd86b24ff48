// One SQL Server instance as a source: a small pool of ODBC connections, each set up the way every dmvlog
// session is (READ UNCOMMITTED, LOCK_TIMEOUT, DEADLOCK_PRIORITY LOW, NOCOUNT), reconnected with full-jitter
// exponential backoff after a failure, and what the server told us about itself at connect.
//
// Two backoffs: a connect that fails for the network or the server (refused, timed out, lost) waits
// [0, min(60 s, 1 s x 2^n)]; a login the server refused (18456 and its relatives, odbc::is_login_failure)
// waits [30 s, min(10 min, 30 s x 2^n)]: an administrator must fix the password or the login, and every
// attempt is one more failed login in the server's error log (and counts towards a lockout policy).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/backoff.h"
#include "agent/core/value.h"
#include "agent/odbc/connection.h"
#include "agent/odbc/tls_settings.h"

namespace dmvlog::collect {

// What `/* dmvlog:check */` (sql/agent/check.sql) returns.
struct ServerInfo {
    std::string product_version;   // "16.0.4135.4"
    std::string product_level;
    std::string edition;
    std::string server_name;
    std::string version_string;    // @@VERSION
    std::string login_name;
    int major_version = 0;         // 13 = 2016 ... 16 = 2022
    std::optional<bool> view_server_state;
    std::optional<bool> view_server_performance_state;
    std::optional<bool> alter_any_event_session;
    std::optional<Timestamp> server_utc_time;
    int utc_offset_minutes = 0;
    // The second result set: per online database, what per-database collectors need there.
    struct DatabaseAccess {
        std::string name;
        std::int64_t database_id = 0;
        bool has_access = false;                          // a user (or guest) lets the login in
        std::optional<bool> view_database_state;
        std::optional<bool> view_database_performance_state;  // NULL before SQL Server 2022
        bool can_view_state() const {
            return view_database_state.value_or(false) || view_database_performance_state.value_or(false);
        }
    };
    std::vector<DatabaseAccess> databases;
    // VIEW SERVER STATE, or on 2022+ VIEW SERVER PERFORMANCE STATE: what every collector needs.
    bool can_view_server_state() const {
        return view_server_state.value_or(false) || (major_version >= 16 && view_server_performance_state.value_or(false));
    }
    const char* server_state_permission() const {
        return major_version >= 16 ? "VIEW SERVER PERFORMANCE STATE" : "VIEW SERVER STATE";
    }
    const char* database_state_permission() const {
        return major_version >= 16 ? "VIEW DATABASE PERFORMANCE STATE" : "VIEW DATABASE STATE";
    }
};

// Product name of a major version ("SQL Server 2022").
std::string product_name(int major_version);

// The backoff after a failure to connect or a lost connection (schedule time).
inline constexpr std::chrono::milliseconds kConnectBackoffBase{1000};
inline constexpr std::chrono::milliseconds kConnectBackoffCap{60000};
// The backoff after a refused login: its base is also its floor (schedule time).
inline constexpr std::chrono::milliseconds kLoginBackoffBase{30000};
inline constexpr std::chrono::milliseconds kLoginBackoffCap{600000};

// The source cannot be used right now (it is waiting before the next reconnect attempt).
class SourceUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The instance's encryption settings, and its connection string with them applied (odbc/tls_settings.h)
// and "APP=dmvlog" added when it names no application. Throws std::invalid_argument like
// odbc::secure_connection.
odbc::TlsSettings tls_settings(const config::Instance& instance);
odbc::SecuredConnection secured_connection(const config::Instance& instance);

// Reads check.sql's single row.
ServerInfo read_server_info(odbc::Connection& conn);

class InstanceSource {
public:
    InstanceSource(odbc::Environment& env, config::Instance instance, std::string password, unsigned pool_size = 2);
    ~InstanceSource();

    // A connection borrowed from the pool; returned when the lease ends. Mark it broken() after a
    // communication error so that it is dropped instead of reused.
    class Lease {
    public:
        Lease(InstanceSource& src, std::unique_ptr<odbc::Connection> conn) : src_(&src), conn_(std::move(conn)) {}
        Lease(Lease&& o) noexcept : src_(o.src_), conn_(std::move(o.conn_)) { o.src_ = nullptr; }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        odbc::Connection& operator*() { return *conn_; }
        odbc::Connection* operator->() { return conn_.get(); }

    private:
        InstanceSource* src_;
        std::unique_ptr<odbc::Connection> conn_;
    };

    // A connected connection. Connects when the pool has none idle; throws odbc::Error when connecting fails
    // (and starts the backoff), SourceUnavailable while backing off.
    Lease acquire();
    // The server's details from the first successful connect (nullopt before).
    std::optional<ServerInfo> info() const;
    // Cancels every statement running on this source's connections (shutdown); from then on stopping() is true.
    void cancel_all();
    bool stopping() const;
    const config::Instance& instance() const { return instance_; }
    // How long until the next reconnect attempt is allowed (zero when not backing off).
    std::chrono::milliseconds backoff_remaining() const;
    std::uint64_t reconnects() const;
    // TESTING ONLY (`dmvlog run --time-scale X`): backoff waits are schedule time, so they pass X times faster
    // in wall time, like the schedule itself.
    void set_time_scale(double scale);
    // The last connect succeeded and no connection was lost since (false before the first connect).
    bool reachable() const;
    // Called (outside the pool's lock) after the first connect and after every reconnect that follows a
    // failure or a lost connection.
    void on_connect(std::function<void()> callback);

private:
    friend class Lease;
    // Starts the next wait of `backoff` (mu_ held); returns it in schedule time.
    std::chrono::milliseconds back_off_locked(Backoff& backoff);
    // Failed connect attempts since the last successful one (mu_ held).
    int failures_locked() const { return backoff_.failures() + login_backoff_.failures(); }
    void give_back(std::unique_ptr<odbc::Connection> conn);
    std::unique_ptr<odbc::Connection> open();

    odbc::Environment& env_;
    config::Instance instance_;
    std::string password_;
    unsigned pool_size_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<odbc::Connection>> idle_;
    std::vector<odbc::Connection*> busy_;
    unsigned open_count_ = 0;
    Backoff backoff_{kConnectBackoffBase, kConnectBackoffCap};
    Backoff login_backoff_ = Backoff(kLoginBackoffBase, kLoginBackoffCap).with_floor(kLoginBackoffBase);
    std::chrono::steady_clock::time_point next_attempt_{};
    double time_scale_ = 1.0;
    std::string last_error_;
    std::optional<ServerInfo> info_;
    std::uint64_t reconnects_ = 0;
    bool ever_connected_ = false;
    bool lost_ = false;
    bool probing_ = false;  // the one connect attempt allowed after a failure is under way
    bool stopping_ = false;
    std::function<void()> on_connect_;
};

}  // namespace dmvlog::collect
