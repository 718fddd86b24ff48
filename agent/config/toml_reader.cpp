#include "agent/config/toml_reader.h"

#include "agent/core/text.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace dmvlog::config::detail {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t substitute = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

}  // namespace

std::string nearest(std::string_view word, const std::vector<std::string>& candidates) {
    const std::string w = lower(word);
    std::string best;
    std::size_t best_distance = 0;
    for (const auto& c : candidates) {
        const std::size_t d = edit_distance(w, lower(c));
        const std::size_t limit = c.size() >= 5 ? 2 : 1;
        if (d <= limit && (best.empty() || d < best_distance)) {
            best = c;
            best_distance = d;
        }
    }
    // A longer key that merely starts with the word or the other way round ("time" for "time_zone") is also
    // a likely slip.
    if (best.empty()) {
        for (const auto& c : candidates) {
            const std::string lc = lower(c);
            if (w.size() >= 4 && (lc.starts_with(w) || w.starts_with(lc))) return c;
        }
    }
    return best;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += separator;
        out += item;
    }
    return out;
}

std::string type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::table: return "table";
        case toml::node_type::array: return "array";
        case toml::node_type::string: return "string";
        case toml::node_type::integer: return "integer";
        case toml::node_type::floating_point: return "float";
        case toml::node_type::boolean: return "boolean";
        case toml::node_type::date: return "date";
        case toml::node_type::time: return "time";
        case toml::node_type::date_time: return "date-time";
        case toml::node_type::none: break;
    }
    return "nothing";
}

bool is_identifier(std::string_view s) {
    if (s.empty()) return false;
    if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z'))) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

toml::table parse_toml(std::string_view text, const std::string& file, bool with_column) {
    try {
        return toml::parse(text, std::string_view(file));
    } catch (const toml::parse_error& e) {
        const auto& begin = e.source().begin;
        throw ConfigError(file, static_cast<int>(begin.line), with_column ? static_cast<int>(begin.column) : 0, "",
                          "TOML syntax error: " + std::string(e.description()));
    }
}

std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& table) {
    std::vector<std::pair<const toml::key*, const toml::node*>> out;
    for (const auto& [k, v] : table) out.emplace_back(&k, &v);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        const auto& pa = a.first->source().begin;
        const auto& pb = b.first->source().begin;
        return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
    });
    return out;
}

ConfigError Reader::error(const toml::source_region& where, const std::string& key, const std::string& problem) const {
    return ConfigError(file_, static_cast<int>(where.begin.line), with_column_ ? static_cast<int>(where.begin.column) : 0,
                       key, problem);
}

void Reader::fail(const toml::source_region& where, const std::string& key, const std::string& problem) const {
    throw error(where, key, problem);
}

std::string Reader::dotted(const std::string& prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

void Reader::check_keys(const toml::table& table, const std::string& prefix, const std::vector<std::string>& allowed) const {
    for (const auto& [k, v] : in_file_order(table)) {
        const std::string name(k->str());
        if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
        std::string problem = "unknown key";
        if (auto near = nearest(name, allowed); !near.empty()) problem += "; did you mean '" + near + "'?";
        problem += " (allowed keys: " + join(allowed) + ")";
        fail(k->source(), dotted(prefix, name), problem);
    }
}

void Reader::wrong_type(const toml::node& node, const std::string& key, std::string_view expected) const {
    fail(node.source(), key, "expected " + std::string(expected) + ", got " + type_name(node.type()));
}

const toml::table& Reader::table(const toml::node& node, const std::string& key) const {
    if (const auto* t = node.as_table()) return *t;
    wrong_type(node, key, "table");
}

const toml::array& Reader::array(const toml::node& node, const std::string& key) const {
    if (const auto* a = node.as_array()) return *a;
    wrong_type(node, key, "array");
}

std::string Reader::string(const toml::node& node, const std::string& key) const {
    if (const auto* s = node.as_string()) return s->get();
    wrong_type(node, key, "string");
}

std::string Reader::nonempty_string(const toml::node& node, const std::string& key) const {
    std::string s = string(node, key);
    if (s.empty()) fail(node.source(), key, "must not be empty");
    return s;
}

long long Reader::integer(const toml::node& node, const std::string& key) const {
    if (const auto* i = node.as_integer()) return i->get();
    wrong_type(node, key, "integer");
}

bool Reader::boolean(const toml::node& node, const std::string& key) const {
    if (const auto* b = node.as_boolean()) return b->get();
    wrong_type(node, key, "boolean (true or false)");
}

std::vector<std::string> Reader::strings(const toml::node& node, const std::string& key) const {
    const auto* a = node.as_array();
    if (a == nullptr) wrong_type(node, key, "array of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const toml::node& item = *a->get(i);
        const std::string item_key = key + "[" + std::to_string(i) + "]";
        out.push_back(nonempty_string(item, item_key));
    }
    return out;
}

std::chrono::milliseconds Reader::duration(const toml::node& node, const std::string& key) const {
    const auto* s = node.as_string();
    if (s == nullptr) wrong_type(node, key, "a duration string such as \"5s\" (units: ms, s, m, h, d)");
    try {
        return parse_duration(s->get());
    } catch (const std::invalid_argument& e) {
        fail(node.source(), key, e.what());
    }
}

std::chrono::milliseconds Reader::positive_duration(const toml::node& node, const std::string& key) const {
    const auto d = duration(node, key);
    if (d.count() <= 0) fail(node.source(), key, "must be > 0 (got \"" + node.as_string()->get() + "\")");
    return d;
}

std::chrono::seconds Reader::positive_seconds(const toml::node& node, const std::string& key) const {
    const auto d = positive_duration(node, key);
    if (d.count() % 1000 != 0) {
        fail(node.source(), key, "must be a whole number of seconds (got \"" + node.as_string()->get() + "\")");
    }
    return std::chrono::duration_cast<std::chrono::seconds>(d);
}

std::chrono::milliseconds Reader::bounded_duration(const toml::node& node, const std::string& key,
                                                   std::chrono::milliseconds max) const {
    const auto d = duration(node, key);
    if (d.count() < 0) fail(node.source(), key, "must not be negative (got \"" + node.as_string()->get() + "\")");
    if (d > max) {
        fail(node.source(), key, "must be at most " + format_duration(max) + " (got \"" + node.as_string()->get() + "\")");
    }
    return d;
}

}  // namespace dmvlog::config::detail
