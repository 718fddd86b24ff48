#include "agent/query/sql.h"

#include <sqlite3.h>

#include <fmt/format.h>
#include <mutex>
#include <set>
#include <stdexcept>

#include "agent/core/embedded.h"
#include "agent/query/time_window.h"

namespace dmvlog::query {

std::map<std::string, std::string> split_sections(std::string_view text) {
    std::map<std::string, std::string> out;
    std::string current;
    std::string body;
    auto flush = [&] {
        while (body.size() >= 2 && body[body.size() - 1] == '\n' && body[body.size() - 2] == '\n') body.pop_back();
        if (!current.empty()) out[current] = body;
        body.clear();
    };
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        constexpr std::string_view marker = "-- name:";
        if (line.substr(0, marker.size()) == marker) {
            flush();
            auto name = std::string(line.substr(marker.size()));
            while (!name.empty() && (name.front() == ' ')) name.erase(name.begin());
            while (!name.empty() && (name.back() == ' ' || name.back() == '\r')) name.pop_back();
            current = name;
        } else if (!current.empty()) {
            body += line;
            body += '\n';
        }
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    flush();
    return out;
}

const std::string& analysis_sql(const std::string& file, const std::string& name) {
    static std::mutex mu;
    static std::map<std::string, std::map<std::string, std::string>> cache;
    std::lock_guard lock(mu);
    auto it = cache.find(file);
    if (it == cache.end()) {
        auto content = embedded::find("sql/analysis/" + file + ".sql");
        if (!content) throw std::runtime_error("sql/analysis/" + file + ".sql is not embedded");
        it = cache.emplace(file, split_sections(*content)).first;
    }
    auto s = it->second.find(name);
    if (s == it->second.end())
        throw std::runtime_error(fmt::format("sql/analysis/{}.sql has no statement '-- name: {}'", file, name));
    return s->second;
}

const std::string& analysis_sql(Db* db, const std::string& file, const std::string& name, const std::string& table) {
    if (db->dialect() == "sqlite" && db->has_table(table + "_data")) return analysis_sql(file, name + ".sqlite");
    return analysis_sql(file, name);
}

std::map<std::string, std::string> analysis_file(const std::string& file) {
    auto content = embedded::find("sql/analysis/" + file + ".sql");
    if (!content) throw std::runtime_error("sql/analysis/" + file + ".sql is not embedded");
    return split_sections(*content);
}

namespace {

class SqliteCursor : public Cursor {
public:
    SqliteCursor(sqlite3* db, const std::string& sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &s_, nullptr) != SQLITE_OK)
            throw std::runtime_error(fmt::format("store query failed to prepare: {}", sqlite3_errmsg(db)));
    }
    ~SqliteCursor() override { sqlite3_finalize(s_); }
    void bind_text(const char* name, const std::string& v) override {
        int i = sqlite3_bind_parameter_index(s_, name);
        if (i > 0) sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void bind_int(const char* name, std::int64_t v) override {
        int i = sqlite3_bind_parameter_index(s_, name);
        if (i > 0) sqlite3_bind_int64(s_, i, v);
    }
    void bind_null(const char* name) override {
        int i = sqlite3_bind_parameter_index(s_, name);
        if (i > 0) sqlite3_bind_null(s_, i);
    }
    bool step() override {
        int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw std::runtime_error(fmt::format("store query failed: {}", sqlite3_errmsg(db_)));
    }
    void reset() override { sqlite3_reset(s_); }
    int columns() const override { return sqlite3_column_count(s_); }
    ColType type(int i) const override {
        switch (sqlite3_column_type(s_, i)) {
            case SQLITE_INTEGER: return ColType::integer;
            case SQLITE_FLOAT: return ColType::real;
            case SQLITE_NULL: return ColType::null;
            case SQLITE_BLOB: return ColType::blob;
            default: return ColType::text;
        }
    }
    std::int64_t i64(int i) const override { return sqlite3_column_int64(s_, i); }
    double dbl(int i) const override { return sqlite3_column_double(s_, i); }
    std::string_view view(int i) const override {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
        if (!p) return {};
        return {p, static_cast<std::size_t>(sqlite3_column_bytes(s_, i))};
    }
    std::string_view blob(int i) const override {
        auto p = static_cast<const char*>(sqlite3_column_blob(s_, i));
        if (!p) return {};
        return {p, static_cast<std::size_t>(sqlite3_column_bytes(s_, i))};
    }

private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
};

}  // namespace

std::unique_ptr<Cursor> SqliteDb::prepare(const std::string& sql) { return std::make_unique<SqliteCursor>(db_, sql); }

bool SqliteDb::has_table(const std::string& table) {
    Stmt s(this, "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = :name");
    s.bind(":name", table);
    return s.step();
}

std::string_view Names::lookup(std::int64_t id) {
    auto it = cache_.find(id);
    if (it != cache_.end()) return it->second;
    if (!find_) find_ = std::make_unique<Stmt>(db_, "SELECT value FROM dictionary WHERE id = :id");
    find_->reset();
    find_->bind(":id", id);
    std::string value;
    if (find_->step()) value = find_->type(0) == ColType::blob ? std::string(find_->blob(0)) : find_->text(0);
    return cache_.emplace(id, std::move(value)).first->second;
}

std::string_view Names::text(Stmt& s, int i) {
    return s.type(i) == ColType::integer ? lookup(s.i64(i)) : s.view(i);
}

std::string_view Names::bytes(Stmt& s, int i) {
    return s.type(i) == ColType::integer ? lookup(s.i64(i)) : s.blob(i);
}

std::optional<std::int64_t> time_value(Stmt& s, int i) {
    switch (s.type(i)) {
        case ColType::null: return std::nullopt;
        case ColType::integer: return s.i64(i);
        default: return store_ticks(s.view(i));
    }
}

void tune_for_reading(sqlite3* db) {
    sqlite3_exec(db, "PRAGMA mmap_size = 4294967296", nullptr, nullptr, nullptr);
    sqlite3_exec(db, "PRAGMA cache_size = -65536", nullptr, nullptr, nullptr);
}

std::map<std::int64_t, std::string> texts(Db* db, const std::vector<std::int64_t>& hashes) {
    std::map<std::int64_t, std::string> out;
    std::set<std::int64_t> unique(hashes.begin(), hashes.end());
    Stmt s(db, "SELECT text FROM sql_text WHERE hash = :hash");
    for (auto h : unique) {
        s.reset();
        s.bind(":hash", h);
        if (s.step()) out[h] = s.text(0);
    }
    return out;
}

std::string hex(std::string_view bytes) {
    if (bytes.empty()) return "";
    static const char* digits = "0123456789ABCDEF";
    std::string out = "0x";
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

}  // namespace dmvlog::query
