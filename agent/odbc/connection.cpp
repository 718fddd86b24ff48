#include "agent/odbc/connection.h"

#include "agent/odbc/classify.h"
#include "agent/odbc/fetch.h"
#include "agent/odbc/params.h"

namespace dmvlog::odbc {

namespace {

bool needs_braces(std::string_view v) {
    if (v.empty()) return false;
    if (v.front() == ' ' || v.back() == ' ') return true;
    return v.find_first_of(";{}=") != std::string_view::npos;
}

std::string attribute_value(std::string_view v) {
    if (!needs_braces(v)) return std::string(v);
    std::string out = "{";
    for (char c : v) {
        out.push_back(c);
        if (c == '}') out.push_back('}');
    }
    out.push_back('}');
    return out;
}

SQLPOINTER integer_attribute(std::int64_t v) {
    return reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(v < 0 ? 0 : v));
}

std::vector<ColumnInfo> describe_columns(SQLHSTMT stmt, SQLSMALLINT count, const CallSite& site) {
    std::vector<ColumnInfo> cols;
    cols.reserve(static_cast<std::size_t>(count));
    std::vector<SQLWCHAR> name(256);
    for (SQLSMALLINT i = 1; i <= count; ++i) {
        SQLSMALLINT name_len = 0, type = 0, digits = 0, nullable = SQL_NULLABLE_UNKNOWN;
        SQLULEN size = 0;
        check(SQLDescribeColW(stmt, static_cast<SQLUSMALLINT>(i), name.data(), static_cast<SQLSMALLINT>(name.size()),
                              &name_len, &type, &size, &digits, &nullable),
              site, "SQLDescribeCol");
        if (name_len >= static_cast<SQLSMALLINT>(name.size())) {
            name.resize(static_cast<std::size_t>(name_len) + 1);
            check(SQLDescribeColW(stmt, static_cast<SQLUSMALLINT>(i), name.data(),
                                  static_cast<SQLSMALLINT>(name.size()), &name_len, &type, &size, &digits, &nullable),
                  site, "SQLDescribeCol");
        }
        ColumnInfo c;
        c.name = from_sqlwchar(name.data(), static_cast<std::size_t>(std::max<SQLSMALLINT>(name_len, 0)));
        c.sql_type = type;
        c.column_size = size;
        c.decimal_digits = digits;
        c.nullable = nullable != SQL_NO_NULLS;
        cols.push_back(std::move(c));
    }
    return cols;
}

// A sink that drops everything (execute()).
struct DiscardSink final : ResultSink {
    void begin_result(const std::vector<ColumnInfo>&) override {}
    void row(Row&&) override {}
    void end_result(long long) override {}
};

// Every result of an executed statement, in order: result sets to sink (dropped without one), and the rows
// affected by the statements without a result set, summed and returned. rc: what the execute returned.
long long read_results(SQLHSTMT stmt, SQLRETURN rc, ResultSink* sink, const CallSite& s) {
    long long affected = 0;
    for (;;) {
        if (rc != SQL_NO_DATA) {
            SQLSMALLINT ncols = 0;
            check(SQLNumResultCols(stmt, &ncols), s, "SQLNumResultCols");
            if (ncols > 0) {
                const std::vector<ColumnInfo> cols = describe_columns(stmt, ncols, s);
                if (sink) sink->begin_result(cols);
                RowReader reader(stmt, cols, s);
                long long count = 0;
                while (check(SQLFetch(stmt), s, "SQLFetch") != SQL_NO_DATA) {
                    Row r = reader.read();
                    if (sink) sink->row(std::move(r));
                    ++count;
                }
                if (sink) sink->end_result(count);
            } else {
                SQLLEN count = 0;
                if (SQL_SUCCEEDED(SQLRowCount(stmt, &count)) && count > 0) affected += count;
            }
        }
        rc = check(SQLMoreResults(stmt), s, "SQLMoreResults");
        if (rc == SQL_NO_DATA) return affected;
    }
}

// Publishes the statement being executed for cancel() while it runs; unpublished before the statement is
// freed (declare it after the statement's Handle).
class Published {
public:
    Published(std::mutex& mu, SQLHSTMT& slot, SQLHSTMT stmt) : mu_(mu), slot_(slot) {
        std::lock_guard lock(mu_);
        slot_ = stmt;
    }
    ~Published() {
        std::lock_guard lock(mu_);
        slot_ = SQL_NULL_HANDLE;
    }
    Published(const Published&) = delete;
    Published& operator=(const Published&) = delete;

private:
    std::mutex& mu_;
    SQLHSTMT& slot_;
};

}  // namespace

std::string with_credentials(std::string_view base, std::string_view user, std::string_view password) {
    std::string out(base);
    if (user.empty()) return out;
    if (!out.empty() && out.back() != ';') out.push_back(';');
    out += "UID=";
    out += attribute_value(user);
    out += ";PWD=";
    out += attribute_value(password);
    out += ';';
    return out;
}

Connection::Connection(Environment& env, std::string context) : env_(env), context_(std::move(context)) {}

Connection::~Connection() { disconnect(); }

CallSite Connection::site(std::string_view context_text) {
    return CallSite{SQL_HANDLE_DBC, dbc_.get(), context_text, password_, &messages_, &trace_};
}

std::string Connection::full_context(std::string_view call_context) const {
    if (call_context.empty()) return context_;
    if (context_.empty()) return std::string(call_context);
    return context_ + ": " + std::string(call_context);
}

void Connection::connect(std::string_view connection_string, std::string_view user, std::string_view password,
                         std::chrono::seconds login_timeout) {
    disconnect();
    messages_.clear();
    connection_string_ = std::string(connection_string);
    user_ = std::string(user);
    password_ = std::string(password);
    login_timeout_ = login_timeout;
    have_arguments_ = true;

    try {
        dbc_ = Handle(SQL_HANDLE_DBC, env_.handle(), context_);
        const CallSite s = site(context_);
        check(SQLSetConnectAttr(dbc_.get(), SQL_ATTR_LOGIN_TIMEOUT, integer_attribute(login_timeout.count()), 0), s,
              "SQLSetConnectAttr(SQL_ATTR_LOGIN_TIMEOUT)");
        check(SQLSetConnectAttr(dbc_.get(), SQL_ATTR_CONNECTION_TIMEOUT, integer_attribute(login_timeout.count()),
                                0),
              s, "SQLSetConnectAttr(SQL_ATTR_CONNECTION_TIMEOUT)");
        std::vector<SQLWCHAR> in = to_sqlwchar(with_credentials(connection_string, user, password));
        std::vector<SQLWCHAR> out(1024);
        SQLSMALLINT out_len = 0;
        const SQLRETURN rc = SQLDriverConnectW(dbc_.get(), nullptr, in.data(), SQL_NTS, out.data(),
                                               static_cast<SQLSMALLINT>(out.size()), &out_len, SQL_DRIVER_NOPROMPT);
        std::fill(in.begin(), in.end(), SQLWCHAR{0});
        std::fill(out.begin(), out.end(), SQLWCHAR{0});  // the completed string holds the password too
        check(rc, s, "SQLDriverConnect");
        connected_ = true;
        dead_ = false;
    } catch (const Error&) {
        dbc_.reset();  // a failed connect leaves a handle that cannot be reused
        connected_ = false;
        throw;
    }
}

void Connection::reconnect() {
    if (!have_arguments_)
        throw make_error("reconnect", context_, "reconnect() before any connect()", "08003");
    // copies: connect() overwrites the members it is given
    const std::string cs = connection_string_, user = user_, password = password_;
    connect(cs, user, password, login_timeout_);
}

void Connection::disconnect() noexcept {
    if (dbc_) {
        if (connected_) SQLDisconnect(dbc_.get());  // on a dead connection this fails quickly; ignored
        dbc_.reset();
    }
    connected_ = false;
    dead_ = false;
}

bool Connection::driver_reports_dead() const noexcept {
    if (!dbc_) return false;
    SQLUINTEGER value = SQL_CD_FALSE;
    const SQLRETURN rc = SQLGetConnectAttr(dbc_.get(), SQL_ATTR_CONNECTION_DEAD, &value, 0, nullptr);
    return SQL_SUCCEEDED(rc) && value == SQL_CD_TRUE;
}

bool Connection::dead() const {
    if (!dbc_ || !connected_) return false;
    return dead_ || driver_reports_dead();
}

bool Connection::connected() const { return connected_ && dbc_ && !dead(); }

void Connection::require_open(std::string_view call_context, const char* operation) const {
    if (!connected_ || !dbc_)
        throw make_error(operation, full_context(call_context), "the connection is not open", "08003");
}

Error Connection::note_failure(const Error& e) {
    if (is_connection_lost(e)) {
        dead_ = true;
        return e;
    }
    if (connected_ && driver_reports_dead()) {
        dead_ = true;
        std::vector<Diagnostic> records = e.diagnostics();
        records.push_back(Diagnostic{"08S01", 0, "the driver reports the connection dead (SQL_ATTR_CONNECTION_DEAD)"});
        return Error(e.operation(), e.context(), std::move(records));
    }
    return e;
}

void Connection::execute(std::string_view sql, std::chrono::seconds timeout, std::string_view context) {
    DiscardSink sink;
    run(sql, timeout, sink, context);
}

std::vector<ResultSet> Connection::query(std::string_view sql, std::chrono::seconds timeout,
                                         std::string_view context) {
    CollectingSink sink;
    run(sql, timeout, sink, context);
    return std::move(sink.sets());
}

void Connection::run(std::string_view sql, std::chrono::seconds timeout, ResultSink& sink,
                     std::string_view context) {
    run(sql, {}, timeout, sink, context);
}

void Connection::run(std::string_view sql, const std::vector<Value>& params, std::chrono::seconds timeout,
                     ResultSink& sink, std::string_view context) {
    messages_.clear();
    const std::string ctx = full_context(context);
    require_open(context, "SQLExecDirect");
    try {
        run_statement(sql, params, timeout, sink, ctx);
    } catch (const Error& e) {
        throw note_failure(e);
    }
}

void Connection::run_statement(std::string_view sql, const std::vector<Value>& params, std::chrono::seconds timeout,
                               ResultSink& sink, const std::string& ctx) {
    Handle stmt(SQL_HANDLE_STMT, dbc_.get(), ctx);
    const CallSite s{SQL_HANDLE_STMT, stmt.get(), ctx, password_, &messages_, &trace_};
    if (timeout.count() > 0)
        check(SQLSetStmtAttr(stmt.get(), SQL_ATTR_QUERY_TIMEOUT, integer_attribute(timeout.count()), 0), s,
              "SQLSetStmtAttr(SQL_ATTR_QUERY_TIMEOUT)");

    // Publish the statement for cancel() for the duration of the run; unpublished before it is freed
    // (the guard is destroyed before stmt).
    Published running(running_mutex_, running_, stmt.get());

    // Bound parameters: their buffers live until the statement has run.
    ParamBinder binder;
    std::vector<Row> one;
    if (!params.empty()) {
        one.push_back(params);
        binder.bind(stmt.get(), one, 0, 1, s);
    }
    std::vector<SQLWCHAR> text = to_sqlwchar(sql);
    read_results(stmt.get(), check(SQLExecDirectW(stmt.get(), text.data(), SQL_NTS), s, "SQLExecDirect"), &sink, s);
}

long long Connection::execute_rows(std::string_view sql, const std::vector<Row>& rows, std::chrono::seconds timeout,
                                   ResultSink* sink, std::string_view context) {
    const std::string ctx = full_context(context);
    require_open(context, "SQLExecDirect");
    long long affected = 0;
    try {
        Handle stmt(SQL_HANDLE_STMT, dbc_.get(), ctx);
        const CallSite s{SQL_HANDLE_STMT, stmt.get(), ctx, password_, &messages_, &trace_};
        if (timeout.count() > 0)
            check(SQLSetStmtAttr(stmt.get(), SQL_ATTR_QUERY_TIMEOUT, integer_attribute(timeout.count()), 0), s,
                  "SQLSetStmtAttr(SQL_ATTR_QUERY_TIMEOUT)");
        Published running(running_mutex_, running_, stmt.get());
        // Prepared once: FreeTDS sends sp_prepare, then each array as one message of sp_execute calls (one
        // plan on the server; SQLExecDirect would send every row as a statement of literals instead).
        std::vector<SQLWCHAR> text = to_sqlwchar(sql);
        check(SQLPrepareW(stmt.get(), text.data(), SQL_NTS), s, "SQLPrepare");
        ParamBinder binder;
        for (std::size_t first = 0; first < rows.size();) {
            const std::size_t n = ParamBinder::chunk(rows, first);
            binder.bind(stmt.get(), rows, first, n, s);
            affected += read_results(stmt.get(), check(SQLExecute(stmt.get()), s, "SQLExecute"), sink, s);
            for (std::size_t i = 0; i < n && i < binder.status().size(); ++i) {
                if (binder.status()[i] == SQL_PARAM_ERROR)
                    throw make_error("SQLExecDirect", ctx,
                                     "row " + std::to_string(first + i + 1) + " of " + std::to_string(rows.size()) + " failed",
                                     "HY000");
            }
            SQLFreeStmt(stmt.get(), SQL_CLOSE);
            first += n;
        }
    } catch (const Error& e) {
        throw note_failure(e);
    }
    return affected;
}

void Connection::set_autocommit(bool on, std::string_view context) {
    const std::string ctx = full_context(context);
    require_open(context, "SQLSetConnectAttr(SQL_ATTR_AUTOCOMMIT)");
    const CallSite s{SQL_HANDLE_DBC, dbc_.get(), ctx, password_, &messages_, &trace_};
    try {
        check(SQLSetConnectAttr(dbc_.get(), SQL_ATTR_AUTOCOMMIT,
                                reinterpret_cast<SQLPOINTER>(static_cast<std::uintptr_t>(on ? SQL_AUTOCOMMIT_ON : SQL_AUTOCOMMIT_OFF)), 0),
              s, "SQLSetConnectAttr(SQL_ATTR_AUTOCOMMIT)");
    } catch (const Error& e) {
        throw note_failure(e);
    }
}

void Connection::end_transaction(bool commit, std::string_view context) {
    const std::string ctx = full_context(context);
    require_open(context, "SQLEndTran");
    const CallSite s{SQL_HANDLE_DBC, dbc_.get(), ctx, password_, &messages_, &trace_};
    try {
        check(SQLEndTran(SQL_HANDLE_DBC, dbc_.get(), commit ? SQL_COMMIT : SQL_ROLLBACK), s, commit ? "SQLEndTran(commit)" : "SQLEndTran(rollback)");
    } catch (const Error& e) {
        throw note_failure(e);
    }
}

bool Connection::cancel() noexcept {
    std::lock_guard lock(running_mutex_);
    if (running_ == SQL_NULL_HANDLE) return false;
    SQLCancel(running_);  // the running call returns HY008; nothing to do with this return code here
    return true;
}

std::string Connection::server_version() {
    const std::string ctx = full_context({});
    require_open({}, "SQLGetInfo");
    std::vector<SQLWCHAR> buf(128);
    SQLSMALLINT len = 0;
    try {
        check(SQLGetInfoW(dbc_.get(), SQL_DBMS_VER, buf.data(), static_cast<SQLSMALLINT>(buf.size() * sizeof(SQLWCHAR)),
                          &len),
              site(ctx), "SQLGetInfo(SQL_DBMS_VER)");
    } catch (const Error& e) {
        throw note_failure(e);
    }
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(std::max<SQLSMALLINT>(len, 0)) / sizeof(SQLWCHAR),
                                                buf.size() - 1);
    return from_sqlwchar(buf.data(), n);
}

}  // namespace dmvlog::odbc
