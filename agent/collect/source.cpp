#include "agent/collect/source.h"

#include <algorithm>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/core/embedded.h"
#include "agent/odbc/classify.h"

namespace dmvlog::collect {

namespace {

std::optional<bool> as_bool(const Value& v) {
    if (auto p = std::get_if<std::int64_t>(&v)) return *p != 0;
    return std::nullopt;
}

std::string as_text(const Value& v) {
    if (auto p = std::get_if<std::string>(&v)) return *p;
    return {};
}

}  // namespace

std::string product_name(int major) {
    switch (major) {
        case 11: return "SQL Server 2012";
        case 12: return "SQL Server 2014";
        case 13: return "SQL Server 2016";
        case 14: return "SQL Server 2017";
        case 15: return "SQL Server 2019";
        case 16: return "SQL Server 2022";
        case 17: return "SQL Server 2025";
        default: return fmt::format("SQL Server (major version {})", major);
    }
}

ServerInfo read_server_info(odbc::Connection& conn) {
    auto sql = embedded::find("sql/agent/check.sql");
    std::string batch = "/* dmvlog:check */\n" + std::string(sql.value_or("SELECT 1"));
    auto sets = conn.query(batch, std::chrono::seconds(30), "check");
    ServerInfo info;
    if (sets.empty() || sets[0].rows.empty()) return info;
    const auto& cols = sets[0].columns;
    const auto& row = sets[0].rows[0];
    auto get = [&](std::string_view name) -> const Value* {
        for (std::size_t i = 0; i < cols.size(); ++i)
            if (cols[i].name == name) return &row[i];
        return nullptr;
    };
    if (auto v = get("product_version")) info.product_version = as_text(*v);
    if (auto v = get("product_level")) info.product_level = as_text(*v);
    if (auto v = get("edition")) info.edition = as_text(*v);
    if (auto v = get("server_name")) info.server_name = as_text(*v);
    if (auto v = get("version_string")) info.version_string = as_text(*v);
    if (auto v = get("login_name")) info.login_name = as_text(*v);
    if (auto v = get("has_view_server_state")) info.view_server_state = as_bool(*v);
    if (auto v = get("has_view_server_performance_state")) info.view_server_performance_state = as_bool(*v);
    if (auto v = get("has_alter_any_event_session")) info.alter_any_event_session = as_bool(*v);
    if (auto v = get("server_utc_time"); v && std::holds_alternative<Timestamp>(*v)) info.server_utc_time = std::get<Timestamp>(*v);
    if (auto v = get("utc_offset_minutes"); v && std::holds_alternative<std::int64_t>(*v))
        info.utc_offset_minutes = static_cast<int>(std::get<std::int64_t>(*v));
    info.major_version = std::atoi(info.product_version.c_str());
    if (sets.size() > 1) {
        const auto& dcols = sets[1].columns;
        auto idx = [&](std::string_view name) -> int {
            for (std::size_t i = 0; i < dcols.size(); ++i)
                if (dcols[i].name == name) return static_cast<int>(i);
            return -1;
        };
        const int id = idx("database_id"), name = idx("name"), access = idx("has_access"),
                  state = idx("has_view_database_state"), perf = idx("has_view_database_performance_state");
        for (const auto& r : sets[1].rows) {
            ServerInfo::DatabaseAccess d;
            if (name >= 0) d.name = as_text(r[static_cast<std::size_t>(name)]);
            if (id >= 0)
                if (auto p = std::get_if<std::int64_t>(&r[static_cast<std::size_t>(id)])) d.database_id = *p;
            if (access >= 0) d.has_access = as_bool(r[static_cast<std::size_t>(access)]).value_or(false);
            if (state >= 0) d.view_database_state = as_bool(r[static_cast<std::size_t>(state)]);
            if (perf >= 0) d.view_database_performance_state = as_bool(r[static_cast<std::size_t>(perf)]);
            info.databases.push_back(std::move(d));
        }
    }
    return info;
}

odbc::TlsSettings tls_settings(const config::Instance& instance) {
    return odbc::TlsSettings{instance.encrypt, instance.trust_server_certificate, instance.ca_file};
}

odbc::SecuredConnection secured_connection(const config::Instance& instance) {
    auto secured = odbc::secure_connection(instance.connection, tls_settings(instance), instance.name);
    if (!odbc::connection_attribute(secured.connection_string, "APP")) {
        if (!secured.connection_string.empty()) secured.connection_string += ';';
        secured.connection_string += "APP=dmvlog";
    }
    return secured;
}

InstanceSource::InstanceSource(odbc::Environment& env, config::Instance instance, std::string password, unsigned pool_size)
    : env_(env), instance_(std::move(instance)), password_(std::move(password)), pool_size_(std::max(1u, pool_size)) {}

InstanceSource::~InstanceSource() { cancel_all(); }

InstanceSource::Lease::~Lease() {
    if (src_ && conn_) src_->give_back(std::move(conn_));
}

std::unique_ptr<odbc::Connection> InstanceSource::open() {
    auto conn = std::make_unique<odbc::Connection>(env_, "instance " + instance_.name);
    const auto secured = secured_connection(instance_);
    try {
        conn->connect(secured.connection_string, instance_.user, password_, instance_.login_timeout);
    } catch (const odbc::Error& e) {
        const auto hint = odbc::tls_failure_hint(e.what(), secured, tls_settings(instance_));
        if (!hint.empty()) spdlog::warn("instance {}: {}", instance_.name, hint);
        throw;
    }
    conn->execute(fmt::format("SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED; SET LOCK_TIMEOUT {}; "
                              "SET DEADLOCK_PRIORITY LOW; SET NOCOUNT ON;",
                              instance_.lock_timeout.count()),
                  std::chrono::seconds(30), "session setup");
    return conn;
}

InstanceSource::Lease InstanceSource::acquire() {
    std::unique_lock lock(mu_);
    for (;;) {
        // After cancel_all no new query starts: a run waiting for a connection would otherwise take the one a
        // cancelled query gives back and hold the shutdown up for its whole timeout.
        if (stopping_) throw SourceUnavailable(fmt::format("instance {}: stopping", instance_.name));
        if (!idle_.empty()) {
            auto conn = std::move(idle_.back());
            idle_.pop_back();
            busy_.push_back(conn.get());
            return Lease(*this, std::move(conn));
        }
        if (probing_) {
            // A reconnect attempt after a failure is under way: its outcome decides for everyone (one failed
            // login or refused connect counts once, however many collectors were due).
            cv_.wait(lock, [this] { return !probing_; });
            continue;
        }
        if (open_count_ < pool_size_) break;
        // Every connection is busy: wait for one (collectors of one instance share the pool).
        if (!cv_.wait_for(lock, std::chrono::seconds(60), [this] { return stopping_ || !idle_.empty() || open_count_ < pool_size_; }))
            throw SourceUnavailable(fmt::format("instance {}: no free connection within 60 s", instance_.name));
    }
    auto now = std::chrono::steady_clock::now();
    if (now < next_attempt_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now);
        throw SourceUnavailable(fmt::format("instance {}: reconnecting in {:.1f} s after: {}", instance_.name,
                                            static_cast<double>(left.count()) / 1000.0, last_error_));
    }
    ++open_count_;
    const bool probe = failures_locked() > 0 || lost_;
    if (probe) probing_ = true;
    bool need_info = !info_.has_value();
    lock.unlock();
    std::unique_ptr<odbc::Connection> conn;
    std::optional<ServerInfo> info;
    try {
        conn = open();
        if (need_info) info = read_server_info(*conn);
    } catch (const std::exception& e) {
        lock.lock();
        --open_count_;
        probing_ = false;
        const auto* odbc_error = dynamic_cast<const odbc::Error*>(&e);
        const bool refused_login = odbc_error && odbc::is_login_failure(*odbc_error);
        auto wait = back_off_locked(refused_login ? login_backoff_ : backoff_);
        bool first = last_error_ != e.what();
        last_error_ = e.what();
        lock.unlock();
        cv_.notify_all();  // every waiter learns of the backoff now, not after its own wait runs out
        if (first) spdlog::warn("instance {}: cannot connect (retry in {} ms): {}", instance_.name, wait.count(), e.what());
        throw;
    }
    lock.lock();
    const int failures = failures_locked();
    const bool fresh = !ever_connected_ || lost_ || failures > 0;
    lost_ = false;
    probing_ = false;
    if (ever_connected_ && failures > 0) {
        ++reconnects_;
        spdlog::info("instance {}: connected again after {} failed attempt(s)", instance_.name, failures);
    }
    ever_connected_ = true;
    backoff_.reset();
    login_backoff_.reset();
    last_error_.clear();
    if (info && !info_) {
        info_ = info;
        spdlog::info("instance {}: {} {} ({}), login {}", instance_.name, product_name(info->major_version),
                     info->product_version, info->edition, info->login_name);
    }
    busy_.push_back(conn.get());
    auto callback = fresh ? on_connect_ : nullptr;
    lock.unlock();
    if (probe) cv_.notify_all();
    if (callback) callback();
    return Lease(*this, std::move(conn));
}

std::chrono::milliseconds InstanceSource::back_off_locked(Backoff& backoff) {
    const auto wait = backoff.next();
    const auto wall = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double, std::milli>(static_cast<double>(wait.count()) / time_scale_));
    next_attempt_ = std::chrono::steady_clock::now() + wall;
    return wait;
}

void InstanceSource::set_time_scale(double scale) {
    std::lock_guard lock(mu_);
    time_scale_ = scale > 0 ? scale : 1.0;
}

void InstanceSource::on_connect(std::function<void()> callback) {
    std::lock_guard lock(mu_);
    on_connect_ = std::move(callback);
}

void InstanceSource::give_back(std::unique_ptr<odbc::Connection> conn) {
    {
        std::lock_guard lock(mu_);
        busy_.erase(std::remove(busy_.begin(), busy_.end(), conn.get()), busy_.end());
        if (conn->dead() || !conn->connected()) {
            --open_count_;
            conn.reset();
            // A lost connection: the next connect waits a little (the server may be restarting).
            back_off_locked(backoff_);
            last_error_ = "connection lost";
            lost_ = true;
        } else {
            idle_.push_back(std::move(conn));
        }
    }
    cv_.notify_all();
}

std::optional<ServerInfo> InstanceSource::info() const {
    std::lock_guard lock(mu_);
    return info_;
}

void InstanceSource::cancel_all() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        for (auto* c : busy_) c->cancel();
    }
    cv_.notify_all();  // runs waiting for a connection give up
}

bool InstanceSource::stopping() const {
    std::lock_guard lock(mu_);
    return stopping_;
}

std::chrono::milliseconds InstanceSource::backoff_remaining() const {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (now >= next_attempt_) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now);
}

bool InstanceSource::reachable() const {
    std::lock_guard lock(mu_);
    return ever_connected_ && last_error_.empty();
}

std::uint64_t InstanceSource::reconnects() const {
    std::lock_guard lock(mu_);
    return reconnects_;
}

}  // namespace dmvlog::collect
