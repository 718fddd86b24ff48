// A value read from SQL Server or written to a store, independent of ODBC and of any store.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace dmvlog {

using Bytes = std::vector<std::uint8_t>;

// A point in time with 100 ns precision (datetime2(7)).
// utc_ticks: 100 ns units since 1970-01-01T00:00:00Z. For datetime and datetime2 (which carry no zone)
// the wall value is taken as UTC, which is what the server's SYSUTCDATETIME() and the DMVs' UTC columns are;
// for datetimeoffset has_offset is true and offset_minutes is the value's own offset.
struct Timestamp {
    std::int64_t utc_ticks = 0;
    std::int16_t offset_minutes = 0;
    bool has_offset = false;
    friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

// decimal/numeric keep their exact digits as text ("12345.6789").
struct Decimal {
    std::string digits;
    friend bool operator==(const Decimal&, const Decimal&) = default;
};

// NULL is std::monostate. Integer types and bit are int64; float and real are double; character types and
// xml are UTF-8 std::string; binary types are Bytes.
using Value = std::variant<std::monostate, std::int64_t, double, std::string, Bytes, Timestamp, Decimal>;

inline bool is_null(const Value& v) { return std::holds_alternative<std::monostate>(v); }

using Row = std::vector<Value>;

}  // namespace dmvlog
