#include "agent/query/report.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace dmvlog::query {

int Table::col(const std::string& n) const {
    for (std::size_t i = 0; i < columns.size(); ++i)
        if (columns[i].name == n) return static_cast<int>(i);
    return -1;
}

std::size_t display_width(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

std::string fit(std::string_view s, std::size_t width) {
    if (display_width(s) <= width) return std::string(s);
    if (width == 0) return "";
    std::string out;
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if ((c & 0xC0) != 0x80) {
            if (n == width - 1) break;
            ++n;
        }
        out += s[i];
    }
    return out + "\xE2\x80\xA6";  // …
}

int terminal_width() {
    if (const char* c = std::getenv("COLUMNS")) {
        int v = std::atoi(c);
        if (v > 20) return v;
    }
    winsize ws{};
    if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
    return 160;
}

namespace {

std::string one_line(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool space = false;
    for (char c : s) {
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            if (!space && !out.empty()) out += ' ';
            space = true;
        } else {
            out += c;
            space = false;
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::string group_digits(std::int64_t v) {
    std::string digits = std::to_string(v < 0 ? -v : v);
    std::string out;
    int k = 0;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        if (k > 0 && k % 3 == 0) out += ',';
        out += *it;
        ++k;
    }
    if (v < 0) out += '-';
    std::reverse(out.begin(), out.end());
    return out;
}

std::string table_cell(const Cell& c, const Column& col, const Zone& z) {
    return std::visit(
        [&](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                return "";
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                return group_digits(v);
            } else if constexpr (std::is_same_v<T, double>) {
                if (!std::isfinite(v)) return "";
                if (col.kind == Kind::percent) return fmt::format("{:.{}f}%", v, col.decimals);
                if (std::fabs(v) >= 1e15) return fmt::format("{:.3g}", v);
                std::string s = fmt::format("{:.{}f}", v, col.decimals);
                auto dot = s.find('.');
                std::string ip = s.substr(0, dot);
                bool neg = !ip.empty() && ip[0] == '-';
                std::string g = group_digits(std::llabs(std::stoll(neg ? ip.substr(1) : ip)));
                return (neg ? "-" : "") + g + (dot == std::string::npos ? "" : s.substr(dot));
            } else if constexpr (std::is_same_v<T, std::string>) {
                return one_line(v);
            } else {
                return z.display(v.utc_ticks);
            }
        },
        c);
}

std::string raw_cell(const Cell& c, const Zone& z) {
    return std::visit(
        [&](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) return "";
            else if constexpr (std::is_same_v<T, std::int64_t>) return std::to_string(v);
            else if constexpr (std::is_same_v<T, double>) return std::isfinite(v) ? fmt::format("{}", v) : "";
            else if constexpr (std::is_same_v<T, std::string>) return v;
            else return z.iso(v.utc_ticks);
        },
        c);
}

nlohmann::json json_cell(const Cell& c, const Zone& z) {
    return std::visit(
        [&](const auto& v) -> nlohmann::json {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) return nullptr;
            else if constexpr (std::is_same_v<T, std::int64_t>) return v;
            else if constexpr (std::is_same_v<T, double>) return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
            else if constexpr (std::is_same_v<T, std::string>) return v;
            else return z.iso(v.utc_ticks);
        },
        c);
}

std::string csv_quote(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string window_text(const Report& r, const Zone& z) {
    if (r.window.is_point) return "at " + z.display(r.window.from, true);
    return z.display(r.window.from) + " .. " + z.display(r.window.to) + " (half-open)";
}

std::string render_table(const Table& t, const Zone& z, int width) {
    std::string out;
    if (!t.title.empty()) out += t.title + "\n";
    if (t.rows.empty()) return out + "  " + t.empty_text + "\n";
    std::vector<std::size_t> shown;
    for (std::size_t i = 0; i < t.columns.size(); ++i)
        if (!t.columns[i].wide) shown.push_back(i);
    if (shown.size() != t.columns.size()) {
        Table narrow;
        narrow.name = t.name;
        narrow.empty_text = t.empty_text;
        for (auto i : shown) narrow.columns.push_back(t.columns[i]);
        for (const auto& row : t.rows) {
            std::vector<Cell> r;
            for (auto i : shown) r.push_back(i < row.size() ? row[i] : Cell{});
            narrow.rows.push_back(std::move(r));
        }
        return out + render_table(narrow, z, width);
    }
    const std::size_t n = t.columns.size();
    std::vector<std::vector<std::string>> cells;
    cells.reserve(t.rows.size());
    std::vector<std::size_t> w(n, 0);
    for (std::size_t i = 0; i < n; ++i) w[i] = display_width(t.columns[i].name);
    for (const auto& row : t.rows) {
        std::vector<std::string> line(n);
        for (std::size_t i = 0; i < n && i < row.size(); ++i) {
            line[i] = table_cell(row[i], t.columns[i], z);
            w[i] = std::max(w[i], display_width(line[i]));
        }
        cells.push_back(std::move(line));
    }
    // Shrink the widest text columns until the line fits (text columns keep at least 8 characters).
    if (width > 0) {
        auto total = [&] {
            std::size_t s = 0;
            for (auto x : w) s += x + 2;
            return s;
        };
        while (total() > static_cast<std::size_t>(width)) {
            std::size_t best = n;
            for (std::size_t i = 0; i < n; ++i) {
                if (t.columns[i].kind != Kind::text) continue;
                const std::size_t floor = std::max<std::size_t>(8, std::min<std::size_t>(display_width(t.columns[i].name), 12));
                if (w[i] <= floor) continue;
                if (best == n || w[i] > w[best]) best = i;
            }
            if (best == n) break;
            --w[best];
        }
    }
    auto numeric = [&](std::size_t i) {
        auto k = t.columns[i].kind;
        return k == Kind::integer || k == Kind::real || k == Kind::percent || k == Kind::duration_ms;
    };
    auto emit = [&](const std::vector<std::string>& line) {
        std::string l = " ";
        for (std::size_t i = 0; i < n; ++i) {
            std::string v = fit(line[i], w[i]);
            std::string pad(w[i] - display_width(v), ' ');
            l += numeric(i) ? pad + v : v + (i + 1 == n ? "" : pad);
            if (i + 1 < n) l += "  ";
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        out += l + "\n";
    };
    std::vector<std::string> head;
    for (const auto& c : t.columns) head.push_back(c.name);
    emit(head);
    std::vector<std::string> rule;
    for (std::size_t i = 0; i < n; ++i) rule.push_back(std::string(w[i], '-'));
    emit(rule);
    for (const auto& line : cells) emit(line);
    return out;
}

}  // namespace

std::string render(const Report& r, Format f, const Zone& z, int width) {
    std::string out;
    std::string instances;
    for (const auto& i : r.instances) instances += (instances.empty() ? "" : ", ") + i;
    if (f == Format::json) {
        nlohmann::ordered_json j;
        j["question"] = r.question;
        j["instances"] = r.instances;
        j["time_zone"] = z.name();
        if (r.window.is_point) {
            j["window"] = {{"at", z.iso(r.window.from)}};
        } else {
            j["window"] = {{"from", z.iso(r.window.from)}, {"to", z.iso(r.window.to)}};
        }
        j["notes"] = r.notes;
        auto tables = nlohmann::ordered_json::array();
        for (const auto& t : r.tables) {
            nlohmann::ordered_json jt;
            jt["name"] = t.name;
            jt["title"] = t.title;
            auto cols = nlohmann::ordered_json::array();
            for (const auto& c : t.columns) cols.push_back(c.name);
            jt["columns"] = cols;
            auto rows = nlohmann::ordered_json::array();
            for (const auto& row : t.rows) {
                nlohmann::ordered_json o = nlohmann::ordered_json::object();
                for (std::size_t i = 0; i < t.columns.size() && i < row.size(); ++i)
                    o[t.columns[i].name] = json_cell(row[i], z);
                rows.push_back(std::move(o));
            }
            jt["rows"] = std::move(rows);
            tables.push_back(std::move(jt));
        }
        j["tables"] = std::move(tables);
        return j.dump(2) + "\n";
    }
    if (f == Format::csv) {
        bool first = true;
        for (const auto& t : r.tables) {
            if (r.tables.size() > 1) out += (first ? "" : "\n") + std::string("# ") + t.name + "\n";
            first = false;
            for (std::size_t i = 0; i < t.columns.size(); ++i) out += (i ? "," : "") + csv_quote(t.columns[i].name);
            out += "\n";
            for (const auto& row : t.rows) {
                for (std::size_t i = 0; i < t.columns.size(); ++i)
                    out += (i ? "," : "") + csv_quote(i < row.size() ? raw_cell(row[i], z) : "");
                out += "\n";
            }
        }
        return out;
    }
    out += fmt::format("{}  instance {}  {}  times in {}\n", r.question, instances.empty() ? "(none)" : instances,
                       window_text(r, z), z.name());
    for (const auto& n : r.notes) out += fit("note: " + n, static_cast<std::size_t>(width > 0 ? std::max(width, 40) * 4 : 100000)) + "\n";
    for (const auto& t : r.tables) {
        out += "\n";
        out += render_table(t, z, width);
    }
    return out;
}

}  // namespace dmvlog::query
