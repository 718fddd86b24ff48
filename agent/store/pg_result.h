// A libpq result that clears itself, and running a statement with text parameters, for the PostgreSQL store.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/value.h"

namespace dmvlog::store {

class Result {
public:
    explicit Result(PGresult* r) : r_(r) {}
    ~Result() { PQclear(r_); }
    Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    Result& operator=(Result&&) = delete;
    PGresult* get() const { return r_; }
    bool ok() const {
        auto s = PQresultStatus(r_);
        return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    }
    int rows() const { return PQntuples(r_); }
    std::string text(int row, int col) const { return PQgetvalue(r_, row, col); }
    bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
    std::optional<std::string> opt(int row, int col) const {
        if (null(row, col)) return std::nullopt;
        return text(row, col);
    }
    std::int64_t i64(int row, int col) const { return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10); }
    std::int64_t affected() const { return std::strtoll(PQcmdTuples(r_), nullptr, 10); }

private:
    PGresult* r_;
};

// The server's message without its trailing newline.
std::string trim(std::string s);

// A value as a text parameter (nullopt for NULL).
std::optional<std::string> pg_param(const Value& v);

// Runs sql with text parameters ($1, ...); throws StoreError "store WHERE: WHAT: message" when it fails.
Result pg_exec(pg_conn* conn, const std::string& where, std::string_view what, const std::string& sql,
               const std::vector<std::optional<std::string>>& params = {});

}  // namespace dmvlog::store
