#include "agent/store/pg_result.h"

#include <fmt/format.h>

#include "agent/core/time_format.h"
#include "agent/store/sqlite_store.h"   // StoreError

namespace dmvlog::store {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::optional<std::string> pg_param(const Value& v) {
    return std::visit(
        [](const auto& x) -> std::optional<std::string> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) return std::nullopt;
            else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) return fmt::format("{}", x);
            else if constexpr (std::is_same_v<T, std::string>) return x;
            else if constexpr (std::is_same_v<T, Timestamp>) return format_timestamp(x);
            else if constexpr (std::is_same_v<T, Decimal>) return x.digits;
            else {
                static const char* digits = "0123456789abcdef";
                std::string out = "\\x";
                for (auto b : x) {
                    out += digits[b >> 4];
                    out += digits[b & 15];
                }
                return out;
            }
        },
        v);
}

Result pg_exec(pg_conn* conn, const std::string& where, std::string_view what, const std::string& sql,
               const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    Result r(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    if (!r.ok()) throw StoreError(fmt::format("store {}: {}: {}", where, what, trim(PQresultErrorMessage(r.get()))));
    return r;
}

}  // namespace dmvlog::store
