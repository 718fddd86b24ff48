#include "agent/query/pg_db.h"

#include "agent/store/pg_connect.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <deque>
#include <fmt/format.h>
#include <optional>
#include <stdexcept>
#include <vector>

namespace dmvlog::query {

std::string pg_placeholders(const std::string& sql, std::vector<std::string>& names) {
    std::string out;
    out.reserve(sql.size());
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (c == '\'') {   // a string literal, '' inside it included
            auto end = i + 1;
            while (end < sql.size() && !(sql[end] == '\'' && (end + 1 >= sql.size() || sql[end + 1] != '\''))) end += sql[end] == '\'' ? 2 : 1;
            out.append(sql, i, end - i + 1);
            i = end;
            continue;
        }
        if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {   // a comment, to the end of the line
            auto end = sql.find('\n', i);
            if (end == std::string::npos) end = sql.size();
            out.append(sql, i, end - i);
            i = end - 1;
            continue;
        }
        if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
            out += "::";
            ++i;
            continue;
        }
        if (c == ':' && i + 1 < sql.size() && (std::isalpha(static_cast<unsigned char>(sql[i + 1])) || sql[i + 1] == '_')) {
            auto end = i + 1;
            while (end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) ++end;
            const std::string name = sql.substr(i, end - i);
            std::size_t k = 0;
            while (k < names.size() && names[k] != name) ++k;
            if (k == names.size()) names.push_back(name);
            out += "$" + std::to_string(k + 1);
            i = end - 1;
            continue;
        }
        out += c;
    }
    return out;
}

namespace {

constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700, kFloat8 = 701,
              kNumeric = 1700;

std::string decode_bytea(const char* v) {
    std::string out;
    if (v[0] == '\\' && v[1] == 'x') {
        auto hex = [](char h) { return h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10; };
        for (const char* p = v + 2; p[0] && p[1]; p += 2) out += static_cast<char>(hex(p[0]) * 16 + hex(p[1]));
    }
    return out;
}

}  // namespace

class PgCursor : public Cursor {
public:
    PgCursor(PgDb* db, const std::string& sql) : db_(db), sql_(pg_placeholders(sql, names_)), values_(names_.size()) {}
    ~PgCursor() override { finish(); }

    void bind_text(const char* name, const std::string& v) override { set(name, v); }
    void bind_int(const char* name, std::int64_t v) override { set(name, std::to_string(v)); }
    void bind_null(const char* name) override { set(name, std::nullopt); }

    bool step() override {
        if (!started_) start();
        clear_row();
        if (!buffered_.empty()) {
            row_ = buffered_.front();
            buffered_.pop_front();
            return true;
        }
        if (!on_wire_) return false;
        PGresult* r = PQgetResult(db_->conn_);
        if (!r) {
            done();
            return false;
        }
        auto st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE) {
            row_ = r;
            return true;
        }
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {   // the end of the rows
            PQclear(r);
            drain();
            return false;
        }
        std::string msg = PQresultErrorMessage(r);
        PQclear(r);
        drain();
        while (!msg.empty() && msg.back() == '\n') msg.pop_back();
        throw std::runtime_error("store query failed: " + msg);
    }
    void reset() override { finish(); }

    int columns() const override { return row_ ? PQnfields(row_) : 0; }
    ColType type(int i) const override {
        if (!row_ || PQgetisnull(row_, 0, i)) return ColType::null;
        switch (PQftype(row_, i)) {
            case kInt2: case kInt4: case kInt8: case kOid: case kBool: return ColType::integer;
            case kFloat4: case kFloat8: return ColType::real;
            case kNumeric: {   // sum() of integers is numeric in PostgreSQL, an integer in SQLite
                const char* v = PQgetvalue(row_, 0, i);
                for (const char* p = v; *p; ++p)
                    if (*p == '.' || *p == 'e' || *p == 'E' || *p == 'N') return ColType::real;
                return ColType::integer;
            }
            case kBytea: return ColType::blob;
            default: return ColType::text;
        }
    }
    std::int64_t i64(int i) const override {
        if (!row_ || PQgetisnull(row_, 0, i)) return 0;
        const char* v = PQgetvalue(row_, 0, i);
        if (PQftype(row_, i) == kBool) return v[0] == 't' ? 1 : 0;
        const auto t = type(i);
        if (t == ColType::real) return static_cast<std::int64_t>(std::strtod(v, nullptr));
        return std::strtoll(v, nullptr, 10);
    }
    double dbl(int i) const override {
        if (!row_ || PQgetisnull(row_, 0, i)) return 0;
        return std::strtod(PQgetvalue(row_, 0, i), nullptr);
    }
    std::string_view view(int i) const override {
        if (!row_ || PQgetisnull(row_, 0, i)) return {};
        return {PQgetvalue(row_, 0, i), static_cast<std::size_t>(PQgetlength(row_, 0, i))};
    }
    std::string_view blob(int i) const override {
        if (!row_ || PQgetisnull(row_, 0, i)) return {};
        if (PQftype(row_, i) != kBytea) return view(i);
        if (blobs_.size() <= static_cast<std::size_t>(i)) blobs_.resize(static_cast<std::size_t>(i) + 1);
        blobs_[static_cast<std::size_t>(i)] = decode_bytea(PQgetvalue(row_, 0, i));
        return blobs_[static_cast<std::size_t>(i)];
    }

    // Another statement wants the connection: keep the rest of the rows here.
    void buffer_rest() {
        while (PGresult* r = PQgetResult(db_->conn_)) {
            if (PQresultStatus(r) == PGRES_SINGLE_TUPLE) buffered_.push_back(r);
            else PQclear(r);
        }
        done();
    }

private:
    void set(const char* name, std::optional<std::string> v) {
        for (std::size_t k = 0; k < names_.size(); ++k)
            if (names_[k] == name) values_[k] = std::move(v);
    }
    void start() {
        if (db_->streaming_ && db_->streaming_ != this) db_->streaming_->buffer_rest();
        std::vector<const char*> params;
        for (const auto& v : values_) params.push_back(v ? v->c_str() : nullptr);
        if (!PQsendQueryParams(db_->conn_, sql_.c_str(), static_cast<int>(params.size()), nullptr, params.data(), nullptr,
                               nullptr, 0))
            throw std::runtime_error(fmt::format("store query failed: {}", PQerrorMessage(db_->conn_)));
        PQsetSingleRowMode(db_->conn_);
        started_ = true;
        on_wire_ = true;
        db_->streaming_ = this;
    }
    void clear_row() {
        if (row_) PQclear(row_);
        row_ = nullptr;
    }
    void done() {
        on_wire_ = false;
        if (db_->streaming_ == this) db_->streaming_ = nullptr;
    }
    void drain() {
        while (PGresult* r = PQgetResult(db_->conn_)) PQclear(r);
        done();
    }
    void finish() {
        clear_row();
        for (auto* r : buffered_) PQclear(r);
        buffered_.clear();
        if (on_wire_) drain();
        started_ = false;
    }

    PgDb* db_;
    std::vector<std::string> names_;
    std::string sql_;
    std::vector<std::optional<std::string>> values_;
    bool started_ = false, on_wire_ = false;
    PGresult* row_ = nullptr;
    std::deque<PGresult*> buffered_;
    mutable std::vector<std::string> blobs_;
};

PgDb::PgDb(const std::string& conninfo, const std::string& password) {
    conn_ = store::pg_connect(conninfo, password);
    PGresult* r = PQexec(conn_, "SET application_name = 'dmvlog'; SET default_transaction_read_only = on");
    PQclear(r);
}

PgDb::~PgDb() {
    if (conn_) PQfinish(conn_);
}

std::unique_ptr<Cursor> PgDb::prepare(const std::string& sql) { return std::make_unique<PgCursor>(this, sql); }

bool PgDb::has_table(const std::string& table) {
    Stmt s(this, "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE c.relname = :name AND n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'p', 'm')");
    s.bind(":name", table);
    return s.step();
}

}  // namespace dmvlog::query
