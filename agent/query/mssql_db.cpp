#include "agent/query/mssql_db.h"

#include <fmt/format.h>

#include <stdexcept>

#include "agent/core/time_format.h"
#include "agent/odbc/result.h"
#include "agent/odbc/tls_settings.h"
#include "agent/query/tsql_dialect.h"
#include "agent/store/mssql_sql.h"

namespace dmvlog::query {

namespace {

class MssqlCursor : public Cursor {
public:
    MssqlCursor(MssqlDb* db, const std::string& sql)
        : db_(db), sql_(std::string(store::mssql_sql::kTag) + to_tsql(sql, names_)), params_(names_.size()) {}

    void bind_text(const char* name, const std::string& v) override { set(name, Value(v)); }
    void bind_int(const char* name, std::int64_t v) override { set(name, Value(v)); }
    void bind_null(const char* name) override { set(name, Value()); }

    bool step() override {
        if (!ran_) {
            odbc::CollectingSink sink;
            try {
                db_->connection().run(sql_, params_, db_->options().query_timeout, sink, "query");
            } catch (const std::exception& e) {
                throw std::runtime_error(fmt::format("store sqlserver: {}", e.what()));
            }
            if (!sink.sets().empty()) rows_ = std::move(sink.sets().front().rows);
            ran_ = true;
            next_ = 0;
        }
        if (next_ >= rows_.size()) return false;
        current_ = &rows_[next_++];
        text_.assign(current_->size(), std::string());
        for (std::size_t i = 0; i < current_->size(); ++i) {
            const Value& v = (*current_)[i];
            if (const auto* b = std::get_if<Bytes>(&v)) text_[i].assign(b->begin(), b->end());
            else text_[i] = store::mssql_sql::text_of(v);
        }
        return true;
    }
    void reset() override {
        ran_ = false;
        rows_.clear();
        current_ = nullptr;
    }
    int columns() const override { return current_ ? static_cast<int>(current_->size()) : 0; }
    ColType type(int i) const override {
        const Value& v = value(i);
        if (std::holds_alternative<std::monostate>(v)) return ColType::null;
        if (std::holds_alternative<std::int64_t>(v)) return ColType::integer;
        if (std::holds_alternative<double>(v) || std::holds_alternative<Decimal>(v)) return ColType::real;
        if (std::holds_alternative<Bytes>(v)) return ColType::blob;
        return ColType::text;
    }
    std::int64_t i64(int i) const override {
        const Value& v = value(i);
        if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
        if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
        return std::strtoll(text_.at(static_cast<std::size_t>(i)).c_str(), nullptr, 10);
    }
    double dbl(int i) const override {
        const Value& v = value(i);
        if (const auto* d = std::get_if<double>(&v)) return *d;
        if (const auto* n = std::get_if<std::int64_t>(&v)) return static_cast<double>(*n);
        return std::strtod(text_.at(static_cast<std::size_t>(i)).c_str(), nullptr);
    }
    std::string_view view(int i) const override { return text_.at(static_cast<std::size_t>(i)); }
    std::string_view blob(int i) const override { return text_.at(static_cast<std::size_t>(i)); }

private:
    const Value& value(int i) const {
        static const Value null;
        if (!current_ || i < 0 || static_cast<std::size_t>(i) >= current_->size()) return null;
        return (*current_)[static_cast<std::size_t>(i)];
    }
    void set(const char* name, Value v) {
        for (std::size_t k = 0; k < names_.size(); ++k)
            if (names_[k] == name) params_[k] = v;
    }

    MssqlDb* db_;
    std::vector<std::string> names_;
    std::string sql_;
    std::vector<Value> params_;
    bool ran_ = false;
    std::vector<Row> rows_;
    std::size_t next_ = 0;
    const Row* current_ = nullptr;
    std::vector<std::string> text_;
};

}  // namespace

MssqlDb::MssqlDb(const store::MssqlOptions& options)
    : options_(options), conn_(env_, "store " + store::mssql_where(options.connection)) {
    store::connect_store(conn_, options, store::mssql_where(options.connection), "dmvlog-query");
}

MssqlDb::~MssqlDb() = default;

std::unique_ptr<Cursor> MssqlDb::prepare(const std::string& sql) { return std::make_unique<MssqlCursor>(this, sql); }

bool MssqlDb::has_table(const std::string& table) {
    odbc::CollectingSink sink;
    conn_.run(store::mssql_sql::table_exists(table), {}, options_.query_timeout, sink, "look for a table");
    return !sink.sets().empty() && !sink.sets()[0].rows.empty() &&
           std::get_if<std::int64_t>(&sink.sets()[0].rows[0][0]) && std::get<std::int64_t>(sink.sets()[0].rows[0][0]) == 1;
}

}  // namespace dmvlog::query
