// One connection to SQL Server through the ODBC driver manager.
//
// Not thread-safe, except cancel(), which another thread may call at any time (shutdown). Every failure
// is an odbc::Error carrying all diagnostic records; classify() says what to do about it. After an Error
// for which dead() becomes true, call reconnect() (or connect()) before anything else.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/odbc/call.h"
#include "agent/odbc/environment.h"
#include "agent/odbc/error.h"
#include "agent/odbc/result.h"

namespace dmvlog::odbc {

// Builds "<base>;UID=<user>;PWD=<password>", bracing values that need it ({a;b} with "}" doubled). An
// empty user adds neither UID nor PWD (integrated or DSN-provided login).
std::string with_credentials(std::string_view base, std::string_view user, std::string_view password);

class Connection {
public:
    // context names this connection in every Error and log line (e.g. "instance prod1"); it must not hold a
    // password.
    Connection(Environment& env, std::string context);
    ~Connection();  // disconnects; never throws
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    Connection(Connection&&) = delete;
    Connection& operator=(Connection&&) = delete;

    // Connects (SQLDriverConnect, no prompt). login_timeout bounds the whole login (SQL_ATTR_LOGIN_TIMEOUT)
    // and is also the connection timeout for later non-query requests (SQL_ATTR_CONNECTION_TIMEOUT; FreeTDS
    // uses it as the TCP connect timeout). A connection already open is closed first. The password is
    // only ever put in the string handed to the driver; it is scrubbed from every Error.
    void connect(std::string_view connection_string, std::string_view user, std::string_view password,
                 std::chrono::seconds login_timeout);
    // connect() again with the arguments of the last connect() (throws if there was none).
    void reconnect();
    // Closes the connection (no-op when closed); never throws.
    void disconnect() noexcept;

    // Connected and not known to be dead.
    bool connected() const;
    // A communication failure was seen (08S01 ...) or the driver reports the connection dead
    // (SQL_ATTR_CONNECTION_DEAD): the caller must reconnect. False when never connected. An Error thrown
    // on a connection that is dead always carries an 08S01 record, so classify() says transient.
    bool dead() const;

    // Runs a batch whose results are not wanted (SET options, DDL); any result sets are read and dropped.
    void execute(std::string_view sql, std::chrono::seconds timeout = std::chrono::seconds{0},
                 std::string_view context = {});

    // Runs one batch with a query timeout (0 = none; SQL_ATTR_QUERY_TIMEOUT, whole seconds) and feeds
    // every result set to sink (SQLMoreResults until no more). context (e.g. the collector name) is added to
    // the connection's context in any Error. A timeout throws a transient Error (HYT00) and leaves the
    // connection usable.
    void run(std::string_view sql, std::chrono::seconds timeout, ResultSink& sink, std::string_view context = {});
    // The same with `?` parameter markers bound to values (agent/odbc/params.h: bigint, float, nvarchar,
    // varbinary or NULL). The driver sends them as a parameterised RPC, so no value is pasted into SQL text.
    void run(std::string_view sql, const std::vector<Value>& params, std::chrono::seconds timeout, ResultSink& sink,
             std::string_view context = {});

    // Runs one statement with `?` markers once per row of rows (all rows with the same number of values),
    // sent as ODBC parameter arrays of up to ParamBinder::chunk rows. Result sets (an OUTPUT clause) go to
    // sink when given, else are dropped. Returns the rows the statement affected, summed. A failing row
    // throws an Error naming it.
    long long execute_rows(std::string_view sql, const std::vector<Row>& rows, std::chrono::seconds timeout,
                           ResultSink* sink = nullptr, std::string_view context = {});

    // Transactions: with autocommit off, statements run in one transaction until end_transaction().
    void set_autocommit(bool on, std::string_view context = {});
    void end_transaction(bool commit, std::string_view context = {});

    // run() into memory.
    std::vector<ResultSet> query(std::string_view sql, std::chrono::seconds timeout = std::chrono::seconds{0},
                                 std::string_view context = {});

    // Cancels the statement running in run()/execute()/query() on another thread (SQLCancel); that call
    // then throws a transient Error (HY008). Returns false when nothing was running (the cancel is not
    // remembered: a shutdown flag must be checked by the caller before its next run). Thread-safe, noexcept.
    bool cancel() noexcept;

    // INFO records (SQL_SUCCESS_WITH_INFO) of the last connect/execute/run/query: "changed database
    // context", PRINT output... At most 1,000 are kept.
    const std::vector<Diagnostic>& messages() const noexcept { return messages_; }

    // The server's version string (SQLGetInfo SQL_DBMS_VER), e.g. "16.00.4135".
    std::string server_version();

    const std::string& context() const noexcept { return context_; }
    // Logs every ODBC call (operation, return code) when set; for debugging.
    void set_trace(TraceFn trace) { trace_ = std::move(trace); }

private:
    CallSite site(std::string_view context_text);
    std::string full_context(std::string_view call_context) const;
    void require_open(std::string_view call_context, const char* operation) const;
    // Marks the connection dead after e when it says so or the driver reports it; returns e, or e with an
    // added [08S01] record when only the driver knew (FreeTDS reports a socket the server closed while the
    // connection was idle as "[HY000/0] Unknown error" and only SQL_ATTR_CONNECTION_DEAD tells).
    Error note_failure(const Error& e);
    bool driver_reports_dead() const noexcept;
    void run_statement(std::string_view sql, const std::vector<Value>& params, std::chrono::seconds timeout, ResultSink& sink,
                       const std::string& context_text);

    Environment& env_;
    std::string context_;
    Handle dbc_;
    bool connected_ = false;
    bool dead_ = false;

    // the arguments of the last connect(), for reconnect()
    std::string connection_string_;
    std::string user_;
    std::string password_;
    std::chrono::seconds login_timeout_{0};
    bool have_arguments_ = false;

    std::vector<Diagnostic> messages_;
    TraceFn trace_;

    std::mutex running_mutex_;               // guards running_
    SQLHSTMT running_ = SQL_NULL_HANDLE;     // the statement being executed, for cancel()
};

}  // namespace dmvlog::odbc
