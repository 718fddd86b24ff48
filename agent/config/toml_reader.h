// Reading TOML with messages that name the file, line, column and dotted key (shared by the configuration
// and the collector declarations). Every problem is thrown as config::ConfigError.
#pragma once

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "agent/config/config.h"

namespace dmvlog::config::detail {

// The nearest candidate to word (edit distance, case-insensitive), or "" when none is close enough to be a
// likely typo.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

// "a, b, c"
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

// "string", "integer", "table", ...
std::string type_name(toml::node_type type);

// True for [a-z_][a-z0-9_]*.
bool is_identifier(std::string_view s);

// Parses a TOML document, turning a syntax error into a ConfigError with toml++'s line and column.
toml::table parse_toml(std::string_view text, const std::string& file, bool with_column);

// Entries of a table in the order they appear in the file (toml++ keeps tables sorted by key).
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& table);

class Reader {
public:
    Reader(std::string file, bool with_column) : file_(std::move(file)), with_column_(with_column) {}

    const std::string& file() const { return file_; }

    [[noreturn]] void fail(const toml::source_region& where, const std::string& key, const std::string& problem) const;
    ConfigError error(const toml::source_region& where, const std::string& key, const std::string& problem) const;

    // Throws for the first key (in file order) that is not allowed, suggesting the nearest allowed one.
    void check_keys(const toml::table& table, const std::string& prefix, const std::vector<std::string>& allowed) const;

    static std::string dotted(const std::string& prefix, std::string_view key);

    const toml::table& table(const toml::node& node, const std::string& key) const;
    const toml::array& array(const toml::node& node, const std::string& key) const;
    std::string string(const toml::node& node, const std::string& key) const;
    std::string nonempty_string(const toml::node& node, const std::string& key) const;
    long long integer(const toml::node& node, const std::string& key) const;
    bool boolean(const toml::node& node, const std::string& key) const;
    std::vector<std::string> strings(const toml::node& node, const std::string& key) const;
    // A duration string ("500ms", "5s", "1m", "2h", "7d"); any sign is accepted here, callers check ranges.
    std::chrono::milliseconds duration(const toml::node& node, const std::string& key) const;
    // A duration that must be > 0.
    std::chrono::milliseconds positive_duration(const toml::node& node, const std::string& key) const;
    // A duration that must be > 0 and a whole number of seconds.
    std::chrono::seconds positive_seconds(const toml::node& node, const std::string& key) const;
    // A duration that must be >= 0 and at most max.
    std::chrono::milliseconds bounded_duration(const toml::node& node, const std::string& key,
                                               std::chrono::milliseconds max) const;

private:
    [[noreturn]] void wrong_type(const toml::node& node, const std::string& key, std::string_view expected) const;

    std::string file_;
    bool with_column_;
};

}  // namespace dmvlog::config::detail
