// What kind of failure an odbc::Error is, and so what the caller does about it.
//
//   transient     the server or the network is unavailable, busy or slow right now (connection lost,
//                 timeout, deadlock victim, lock timeout, cancelled): retry with backoff, reconnect if dead().
//   permission    the login lacks a permission (VIEW SERVER STATE, an object, a database) or is refused:
//                 disable the collector and say so once; it will not get better by retrying soon.
//   incompatible  the server does not have what the query uses (a DMV, a column, a function of a newer
//                 version): disable the collector for this server version and say so once.
//   fatal         anything else (a syntax error in our SQL, a driver fault, an unknown error): report
//                 loudly; the run fails.
//
// Login failure (18456 and its relatives 18452, 18486, 18487, 18488) is classified as `permission`: the
// server refused these credentials, and retrying at once will not change that. Callers that must tell a
// refused login from a missing permission (the service does not disable collectors for it but retries the
// login with a long backoff, at least 30 s and up to 10 min, because an administrator may fix it and every
// attempt is one more failed login on the server: collect/source.h; `dmvlog check` stops and says so) use
// is_login_failure().
#pragma once

#include <string_view>
#include <vector>

#include "agent/odbc/error.h"

namespace dmvlog::odbc {

enum class ErrorClass { transient, permission, incompatible, fatal };

// The class of a whole error. Every record is looked at; when records disagree the most specific wins in
// the order permission, incompatible, transient, fatal (a refused login comes as [28000/18456] followed by
// a generic [08001/0] "unable to connect"; it is permission, not transient).
ErrorClass classify(const Error& e);
ErrorClass classify(const std::vector<Diagnostic>& records);

// The class of one record by its native error number first, then its SQLSTATE; fatal when neither is known.
ErrorClass classify(const Diagnostic& d);

// "transient", "permission", "incompatible", "fatal".
std::string_view to_string(ErrorClass c);

// A sentence for logs: what the class means and what the agent does about it.
std::string_view describe(ErrorClass c);

// The server refused the login (18456, 18452, 18486, 18487, 18488, or SQLSTATE 28000).
bool is_login_failure(const Error& e);

// The error means the connection is gone (SQLSTATE 08S01, 08003, 08007, or FreeTDS's read/write/EOF
// errors): the caller must reconnect before running anything else.
bool is_connection_lost(const Error& e);
bool is_connection_lost(const std::vector<Diagnostic>& records);

}  // namespace dmvlog::odbc
