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
    return info;
}

InstanceSource::InstanceSource(odbc::Environment& env, config::Instance instance, std::string password, unsigned pool_size)
    : env_(env), instance_(std::move(instance)), password_(std::move(password)), pool_size_(std::max(1u, pool_size)) {}

InstanceSource::~InstanceSource() { cancel_all(); }

InstanceSource::Lease::~Lease() {
    if (src_ && conn_) src_->give_back(std::move(conn_));
}

std::unique_ptr<odbc::Connection> InstanceSource::open() {
    auto conn = std::make_unique<odbc::Connection>(env_, "instance " + instance_.name);
    std::string cs = instance_.connection;
    if (cs.find("APP=") == std::string::npos && cs.find("App=") == std::string::npos) {
        if (!cs.empty() && cs.back() != ';') cs += ';';
        cs += "APP=dmvlog";
    }
    conn->connect(cs, instance_.user, password_, instance_.login_timeout);
    conn->execute(fmt::format("SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED; SET LOCK_TIMEOUT {}; "
                              "SET DEADLOCK_PRIORITY LOW; SET NOCOUNT ON;",
                              instance_.lock_timeout.count()),
                  std::chrono::seconds(30), "session setup");
    return conn;
}

InstanceSource::Lease InstanceSource::acquire() {
    std::unique_lock lock(mu_);
    for (;;) {
        if (!idle_.empty()) {
            auto conn = std::move(idle_.back());
            idle_.pop_back();
            busy_.push_back(conn.get());
            return Lease(*this, std::move(conn));
        }
        if (open_count_ < pool_size_) break;
        // Every connection is busy: wait for one (collectors of one instance share the pool).
        if (!cv_.wait_for(lock, std::chrono::seconds(60), [this] { return !idle_.empty() || open_count_ < pool_size_; }))
            throw SourceUnavailable(fmt::format("instance {}: no free connection within 60 s", instance_.name));
    }
    auto now = std::chrono::steady_clock::now();
    if (now < next_attempt_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now);
        throw SourceUnavailable(fmt::format("instance {}: reconnecting in {:.1f} s after: {}", instance_.name,
                                            static_cast<double>(left.count()) / 1000.0, last_error_));
    }
    ++open_count_;
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
        auto wait = backoff_.next();
        next_attempt_ = std::chrono::steady_clock::now() + wait;
        bool first = last_error_ != e.what();
        last_error_ = e.what();
        lock.unlock();
        cv_.notify_one();
        if (first) spdlog::warn("instance {}: cannot connect (retry in {} ms): {}", instance_.name, wait.count(), e.what());
        throw;
    }
    lock.lock();
    const bool fresh = !ever_connected_ || lost_ || backoff_.failures() > 0;
    lost_ = false;
    if (ever_connected_ && backoff_.failures() > 0) {
        ++reconnects_;
        spdlog::info("instance {}: connected again after {} failed attempt(s)", instance_.name, backoff_.failures());
    }
    ever_connected_ = true;
    backoff_.reset();
    last_error_.clear();
    if (info && !info_) {
        info_ = info;
        spdlog::info("instance {}: {} {} ({}), login {}", instance_.name, product_name(info->major_version),
                     info->product_version, info->edition, info->login_name);
    }
    busy_.push_back(conn.get());
    auto callback = fresh ? on_connect_ : nullptr;
    lock.unlock();
    if (callback) callback();
    return Lease(*this, std::move(conn));
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
            auto wait = backoff_.next();
            next_attempt_ = std::chrono::steady_clock::now() + wait;
            last_error_ = "connection lost";
            lost_ = true;
        } else {
            idle_.push_back(std::move(conn));
        }
    }
    cv_.notify_one();
}

std::optional<ServerInfo> InstanceSource::info() const {
    std::lock_guard lock(mu_);
    return info_;
}

void InstanceSource::cancel_all() {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto* c : busy_) c->cancel();
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
