#include "agent/query/tsql_dialect.h"

#include <cctype>
#include <regex>

#include "agent/core/embedded.h"
#include "agent/query/sql.h"

namespace dmvlog::query {

namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// :name -> ?, outside string literals and comments.
std::string placeholders(const std::string& sql, std::vector<std::string>& names) {
    std::string out;
    out.reserve(sql.size());
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (c == '\'') {
            auto end = i + 1;
            while (end < sql.size() && !(sql[end] == '\'' && (end + 1 >= sql.size() || sql[end + 1] != '\''))) end += sql[end] == '\'' ? 2 : 1;
            out.append(sql, i, end - i + 1);
            i = end;
            continue;
        }
        if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            auto end = sql.find('\n', i);
            if (end == std::string::npos) end = sql.size();
            i = end - 1;   // comments are dropped: a trailing one would swallow what is appended after it
            continue;
        }
        if (c == ':' && i + 1 < sql.size() && (std::isalpha(static_cast<unsigned char>(sql[i + 1])) || sql[i + 1] == '_')) {
            auto end = i + 1;
            while (end < sql.size() && ident_char(sql[end])) ++end;
            names.push_back(sql.substr(i, end - i));
            out += '?';
            i = end - 1;
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

std::string to_tsql(const std::string& sql, std::vector<std::string>& names) {
    std::string s = placeholders(sql, names);
    // a || b || c -> CONCAT(a, b, c); operands are names, numbers or literals.
    static const std::regex concat(R"(((?:[A-Za-z_][\w.]*|'[^']*'|\d+)(?:\s*\|\|\s*(?:[A-Za-z_][\w.]*|'[^']*'|\d+))+))");
    std::string out;
    auto begin = std::sregex_iterator(s.begin(), s.end(), concat);
    std::size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
        const auto& m = *it;
        out.append(s, last, static_cast<std::size_t>(m.position(0)) - last);
        static const std::regex bar(R"(\s*\|\|\s*)");
        out += "CONCAT(" + std::regex_replace(m.str(0), bar, ", ") + ")";
        last = static_cast<std::size_t>(m.position(0) + m.length(0));
    }
    out.append(s, last, std::string::npos);
    s = std::move(out);
    // LIMIT 1 inside EXISTS (...): not needed.
    static const std::regex limit_in_parens(R"(\s+LIMIT\s+1\s*\))", std::regex::icase);
    s = std::regex_replace(s, limit_in_parens, ")");
    // A final LIMIT n after ORDER BY.
    static const std::regex limit_end(R"(\s+LIMIT\s+(\?|\d+)\s*$)", std::regex::icase);
    s = std::regex_replace(s, limit_end, "\nOFFSET 0 ROWS FETCH NEXT $1 ROWS ONLY");
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
}

std::string analysis_in_tsql() {
    std::string out = "-- The analysis SQL (sql/analysis/*.sql) as a SQL Server store is asked it.\n";
    for (const auto* f : embedded::under("sql/analysis/")) {
        for (const auto& [name, text] : split_sections(f->content)) {
            std::vector<std::string> names;
            std::string t = to_tsql(text, names);
            std::string numbered;
            int n = 0;
            for (char c : t) {
                if (c == '?') numbered += "@p" + std::to_string(++n);
                else numbered += c;
            }
            out += "-- " + f->path + ": " + name + "\n" + numbered + ";\n";
        }
    }
    return out;
}

}  // namespace dmvlog::query
