// ODBC diagnostics and the one exception type of the ODBC layer.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dmvlog::odbc {

// One diagnostic record (SQLGetDiagRec): SQLSTATE, the native error (the SQL Server error number, or a
// FreeTDS library error 20xxx), and the message as UTF-8.
struct Diagnostic {
    std::string sqlstate;
    std::int32_t native_error = 0;
    std::string message;
    friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

// "[SQLSTATE/native] message", e.g. "[42S02/208] Invalid object name 'x'."
std::string format_diagnostic(const Diagnostic& d);

// Every record, formatted and joined with "; " ("(no diagnostic records)" when empty).
std::string format_diagnostics(const std::vector<Diagnostic>& records);

// Replaces the value of every PWD= / Password= attribute of an ODBC connection string found in text with
// "***" (case-insensitive key, plain or {braced} value with "}}" escapes). Everything else is kept.
std::string scrub_secrets(std::string_view text);

// Replaces every occurrence of secret in text with "***" (no-op for secrets shorter than 4 characters,
// which would otherwise mangle ordinary words), then applies scrub_secrets.
std::string scrub_secrets(std::string_view text, std::string_view secret);

// An ODBC call failed. Carries every diagnostic record, the ODBC operation ("SQLExecDirect") and a context
// supplied by the caller (instance, collector name). what() is
//   "<context>: <operation> failed: [SQLSTATE/native] message; [..] ..."
// Passwords are scrubbed from the context and the messages when the Error is made.
class Error : public std::runtime_error {
public:
    Error(std::string operation, std::string context, std::vector<Diagnostic> records,
          std::string_view secret = {});

    const std::string& operation() const noexcept { return operation_; }
    const std::string& context() const noexcept { return context_; }
    const std::vector<Diagnostic>& diagnostics() const noexcept { return records_; }

    bool has_sqlstate(std::string_view sqlstate) const noexcept;
    bool has_native(std::int32_t native_error) const noexcept;
    // The first record's SQLSTATE ("" without records).
    std::string sqlstate() const;
    // The first non-zero native error (0 if none).
    std::int32_t native_error() const noexcept;

private:
    struct Parts {
        std::string operation;
        std::string context;
        std::vector<Diagnostic> records;
    };
    explicit Error(Parts parts);
    static Parts scrub(std::string operation, std::string context, std::vector<Diagnostic> records,
                       std::string_view secret);

    std::string operation_;
    std::string context_;
    std::vector<Diagnostic> records_;
};

// An Error not produced by the driver (a value the layer cannot convert, a call on a closed connection):
// one record with the given SQLSTATE (HY000 general error by default) and native error 0.
Error make_error(std::string operation, std::string context, std::string message,
                 std::string sqlstate = "HY000");

}  // namespace dmvlog::odbc
