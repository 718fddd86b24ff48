#include "agent/odbc/params.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "agent/core/time_format.h"
#include "agent/odbc/error.h"

namespace dmvlog::odbc {

namespace {

// Text sent for a value of a text column: strings as they are, times and decimals in the store's form,
// numbers in full.
std::string as_text(const Value& v) {
    if (const auto* s = std::get_if<std::string>(&v)) return *s;
    if (const auto* t = std::get_if<Timestamp>(&v)) return format_timestamp(*t);
    if (const auto* d = std::get_if<Decimal>(&v)) return d->digits;
    if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    if (const auto* r = std::get_if<double>(&v)) {
        char b[40];
        std::snprintf(b, sizeof b, "%.17g", *r);
        return b;
    }
    return {};
}

SQLPOINTER integer_attribute(std::uint64_t v) {
    return reinterpret_cast<SQLPOINTER>(static_cast<std::uintptr_t>(v));
}

// Longest text a plain nvarchar parameter takes (UTF-16 units); longer text goes as nvarchar(max).
constexpr std::size_t kMaxNvarchar = 4000;
constexpr std::size_t kMaxVarbinary = 8000;

}  // namespace

std::size_t ParamBinder::chunk(const std::vector<Row>& rows, std::size_t first, std::size_t max_bytes, std::size_t max_rows) {
    if (first >= rows.size()) return 0;
    const std::size_t ncols = rows[first].size();
    std::vector<std::size_t> widths(ncols, 8);
    std::size_t n = 0;
    for (std::size_t r = first; r < rows.size() && n < max_rows; ++r) {
        std::vector<std::size_t> w = widths;
        for (std::size_t c = 0; c < ncols && c < rows[r].size(); ++c) {
            const Value& v = rows[r][c];
            std::size_t bytes = 8;
            if (const auto* s = std::get_if<std::string>(&v)) bytes = (s->size() + 1) * 2;   // UTF-16 at most 2 bytes per UTF-8 byte
            else if (const auto* b = std::get_if<Bytes>(&v)) bytes = b->size() + 1;
            else if (std::holds_alternative<Timestamp>(v) || std::holds_alternative<Decimal>(v)) bytes = 80;
            w[c] = std::max(w[c], bytes);
        }
        std::size_t per_row = 0;
        for (auto x : w) per_row += x + sizeof(SQLLEN);
        if (n > 0 && per_row * (n + 1) > max_bytes) break;
        widths = std::move(w);
        ++n;
    }
    return n;
}

void ParamBinder::bind(SQLHSTMT stmt, const std::vector<Row>& rows, std::size_t first, std::size_t count, const CallSite& s) {
    const std::size_t ncols = count ? rows[first].size() : 0;
    columns_.assign(ncols, Column{});
    // Each column's kind and width over the rows of the array.
    for (std::size_t c = 0; c < ncols; ++c) {
        Column& col = columns_[c];
        bool mixed = false;
        for (std::size_t r = first; r < first + count; ++r) {
            const Value& v = rows[r].at(c);
            Kind k = Kind::null;
            if (std::holds_alternative<std::int64_t>(v)) k = Kind::integer;
            else if (std::holds_alternative<double>(v)) k = Kind::real;
            else if (std::holds_alternative<Bytes>(v)) k = Kind::binary;
            else if (!std::holds_alternative<std::monostate>(v)) k = Kind::text;
            if (k == Kind::null) continue;
            if (col.kind == Kind::null) col.kind = k;
            else if (col.kind != k) mixed = true;
        }
        if (mixed) col.kind = Kind::text;
        col.ind.assign(count, SQL_NULL_DATA);
        std::vector<std::vector<SQLWCHAR>> texts;
        if (col.kind == Kind::text || col.kind == Kind::null) {
            texts.resize(count);
            std::size_t units = 1;
            for (std::size_t i = 0; i < count; ++i) {
                const Value& v = rows[first + i][c];
                if (std::holds_alternative<std::monostate>(v)) continue;
                texts[i] = to_sqlwchar(as_text(v));
                units = std::max(units, texts[i].size());   // with the terminator
            }
            col.width = units * sizeof(SQLWCHAR);
            col.buf.assign(col.width * count, 0);
            for (std::size_t i = 0; i < count; ++i) {
                if (texts[i].empty()) continue;
                std::memcpy(col.buf.data() + i * col.width, texts[i].data(), texts[i].size() * sizeof(SQLWCHAR));
                col.ind[i] = static_cast<SQLLEN>((texts[i].size() - 1) * sizeof(SQLWCHAR));
            }
        } else if (col.kind == Kind::binary) {
            std::size_t width = 1;
            for (std::size_t i = 0; i < count; ++i)
                if (const auto* b = std::get_if<Bytes>(&rows[first + i][c])) width = std::max(width, b->size());
            col.width = width;
            col.buf.assign(width * count, 0);
            for (std::size_t i = 0; i < count; ++i) {
                if (const auto* b = std::get_if<Bytes>(&rows[first + i][c])) {
                    if (!b->empty()) std::memcpy(col.buf.data() + i * width, b->data(), b->size());
                    col.ind[i] = static_cast<SQLLEN>(b->size());
                }
            }
        } else if (col.kind == Kind::integer) {
            col.ints.assign(count, 0);
            for (std::size_t i = 0; i < count; ++i)
                if (const auto* v = std::get_if<std::int64_t>(&rows[first + i][c])) col.ints[i] = *v, col.ind[i] = 0;
        } else {
            col.reals.assign(count, 0);
            for (std::size_t i = 0; i < count; ++i)
                if (const auto* v = std::get_if<double>(&rows[first + i][c])) col.reals[i] = *v, col.ind[i] = 0;
        }
    }

    status_.assign(count, 0);
    processed_ = 0;
    check(SQLFreeStmt(stmt, SQL_RESET_PARAMS), s, "SQLFreeStmt(SQL_RESET_PARAMS)");
    check(SQLSetStmtAttr(stmt, SQL_ATTR_PARAM_BIND_TYPE, integer_attribute(SQL_PARAM_BIND_BY_COLUMN), 0), s,
          "SQLSetStmtAttr(SQL_ATTR_PARAM_BIND_TYPE)");
    check(SQLSetStmtAttr(stmt, SQL_ATTR_PARAMSET_SIZE, integer_attribute(count), 0), s, "SQLSetStmtAttr(SQL_ATTR_PARAMSET_SIZE)");
    check(SQLSetStmtAttr(stmt, SQL_ATTR_PARAM_STATUS_PTR, status_.data(), 0), s, "SQLSetStmtAttr(SQL_ATTR_PARAM_STATUS_PTR)");
    check(SQLSetStmtAttr(stmt, SQL_ATTR_PARAMS_PROCESSED_PTR, &processed_, 0), s,
          "SQLSetStmtAttr(SQL_ATTR_PARAMS_PROCESSED_PTR)");
    for (std::size_t c = 0; c < ncols; ++c) {
        Column& col = columns_[c];
        const auto n = static_cast<SQLUSMALLINT>(c + 1);
        SQLRETURN rc = SQL_SUCCESS;
        switch (col.kind) {
            case Kind::integer:
                rc = SQLBindParameter(stmt, n, SQL_PARAM_INPUT, SQL_C_SBIGINT, SQL_BIGINT, 0, 0, col.ints.data(), 0, col.ind.data());
                break;
            case Kind::real:
                rc = SQLBindParameter(stmt, n, SQL_PARAM_INPUT, SQL_C_DOUBLE, SQL_DOUBLE, 15, 0, col.reals.data(), 0, col.ind.data());
                break;
            case Kind::binary: {
                const SQLSMALLINT type = col.width > kMaxVarbinary ? SQL_LONGVARBINARY : SQL_VARBINARY;
                rc = SQLBindParameter(stmt, n, SQL_PARAM_INPUT, SQL_C_BINARY, type, col.width, 0, col.buf.data(),
                                      static_cast<SQLLEN>(col.width), col.ind.data());
                break;
            }
            case Kind::text:
            case Kind::null: {
                const std::size_t units = std::max<std::size_t>(col.width / sizeof(SQLWCHAR) - 1, 1);
                const SQLSMALLINT type = units > kMaxNvarchar ? SQL_WLONGVARCHAR : SQL_WVARCHAR;
                rc = SQLBindParameter(stmt, n, SQL_PARAM_INPUT, SQL_C_WCHAR, type, units, 0, col.buf.data(),
                                      static_cast<SQLLEN>(col.width), col.ind.data());
                break;
            }
        }
        check(rc, s, "SQLBindParameter");
    }
}

}  // namespace dmvlog::odbc
