#include "agent/collect/declaration.h"

#include "agent/core/text.h"

#include "agent/core/tsql_quote.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <set>
#include <stdexcept>

#include "agent/config/toml_reader.h"
#include "agent/core/embedded.h"

namespace dmvlog::collect {

using config::ConfigError;
using config::detail::Reader;

// ---------------------------------------------------------------------------------------------------------
// Columns

StorageClass ColumnDecl::storage() const {
    switch (type) {
        case ColumnType::tinyint:
        case ColumnType::smallint:
        case ColumnType::int_:
        case ColumnType::bigint:
        case ColumnType::bit: return StorageClass::integer;
        case ColumnType::float_:
        case ColumnType::real: return StorageClass::real;
        case ColumnType::decimal: return StorageClass::decimal;
        case ColumnType::nvarchar:
        case ColumnType::varchar:
        case ColumnType::nchar:
        case ColumnType::char_:
        case ColumnType::xml:
        case ColumnType::uniqueidentifier:
        case ColumnType::time: return StorageClass::text;
        case ColumnType::varbinary:
        case ColumnType::binary: return StorageClass::blob;
        case ColumnType::datetime:
        case ColumnType::datetime2:
        case ColumnType::datetimeoffset:
        case ColumnType::date: return StorageClass::timestamp;
    }
    return StorageClass::text;
}

namespace {

enum class LengthRule { none, required_n, required_n_or_max, precision_scale, fraction };

struct TypeInfo {
    const char* name;
    ColumnType type;
    LengthRule rule;
    int max_length;     // largest n (or p, or fractional digits)
    int fixed_length;   // length when the type is an alias that implies it (sysname)
};

constexpr TypeInfo kTypes[] = {
    {"tinyint", ColumnType::tinyint, LengthRule::none, 0, 0},
    {"smallint", ColumnType::smallint, LengthRule::none, 0, 0},
    {"int", ColumnType::int_, LengthRule::none, 0, 0},
    {"bigint", ColumnType::bigint, LengthRule::none, 0, 0},
    {"bit", ColumnType::bit, LengthRule::none, 0, 0},
    {"decimal", ColumnType::decimal, LengthRule::precision_scale, 38, 0},
    {"numeric", ColumnType::decimal, LengthRule::precision_scale, 38, 0},
    {"float", ColumnType::float_, LengthRule::none, 0, 0},
    {"real", ColumnType::real, LengthRule::none, 0, 0},
    {"nvarchar", ColumnType::nvarchar, LengthRule::required_n_or_max, 4000, 0},
    {"varchar", ColumnType::varchar, LengthRule::required_n_or_max, 8000, 0},
    {"nchar", ColumnType::nchar, LengthRule::required_n, 4000, 0},
    {"char", ColumnType::char_, LengthRule::required_n, 8000, 0},
    {"sysname", ColumnType::nvarchar, LengthRule::none, 0, 128},
    {"varbinary", ColumnType::varbinary, LengthRule::required_n_or_max, 8000, 0},
    {"binary", ColumnType::binary, LengthRule::required_n, 8000, 0},
    {"datetime", ColumnType::datetime, LengthRule::none, 0, 0},
    {"smalldatetime", ColumnType::datetime, LengthRule::none, 0, 0},
    {"datetime2", ColumnType::datetime2, LengthRule::fraction, 7, 0},
    {"datetimeoffset", ColumnType::datetimeoffset, LengthRule::fraction, 7, 0},
    {"date", ColumnType::date, LengthRule::none, 0, 0},
    {"time", ColumnType::time, LengthRule::fraction, 7, 0},
    {"xml", ColumnType::xml, LengthRule::none, 0, 0},
    {"uniqueidentifier", ColumnType::uniqueidentifier, LengthRule::none, 0, 0},
};

bool is_space(char c) { return c == ' ' || c == '\t'; }

int parse_small_int(std::string_view s, const std::string& spec) {
    if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw std::invalid_argument("column \"" + spec + "\": \"" + std::string(s) + "\" is not a length");
    }
    return std::stoi(std::string(s));
}

bool is_integer_type(ColumnType t) {
    return t == ColumnType::tinyint || t == ColumnType::smallint || t == ColumnType::int_ || t == ColumnType::bigint;
}

bool is_character_type(ColumnType t) {
    return t == ColumnType::nvarchar || t == ColumnType::varchar || t == ColumnType::nchar || t == ColumnType::char_ ||
           t == ColumnType::xml;
}

const std::vector<std::string> kReservedColumns = {"instance", "collected_at", "utc_offset_minutes"};

}  // namespace

ColumnDecl parse_column(std::string_view spec_view) {
    const std::string spec(spec_view);
    auto bad = [&](const std::string& problem) { return std::invalid_argument("column \"" + spec + "\": " + problem); };
    std::size_t i = 0;
    auto skip_spaces = [&] { while (i < spec.size() && is_space(spec[i])) ++i; };

    ColumnDecl col;
    skip_spaces();
    const std::size_t name_begin = i;
    while (i < spec.size() && !is_space(spec[i])) ++i;
    col.name = spec.substr(name_begin, i - name_begin);
    if (col.name.empty()) throw bad("expected \"name type [flags]\"");
    if (!config::detail::is_identifier(col.name)) throw bad("column name '" + col.name + "' must match [a-z_][a-z0-9_]*");
    if (std::find(kReservedColumns.begin(), kReservedColumns.end(), col.name) != kReservedColumns.end()) {
        throw bad("'" + col.name + "' is a column every store row already has; rename it in the query");
    }

    skip_spaces();
    const std::size_t type_begin = i;
    while (i < spec.size() && (std::isalnum(static_cast<unsigned char>(spec[i])) != 0 || spec[i] == '_')) ++i;
    const std::string base = lower(spec.substr(type_begin, i - type_begin));
    if (base.empty()) throw bad("the type is missing; expected \"name type [flags]\"");
    const TypeInfo* info = nullptr;
    for (const auto& t : kTypes) {
        if (base == t.name) info = &t;
    }
    if (info == nullptr) {
        std::vector<std::string> names;
        for (const auto& t : kTypes) names.emplace_back(t.name);
        std::string problem = "unknown type '" + base + "'";
        if (auto near = config::detail::nearest(base, names); !near.empty()) problem += "; did you mean '" + near + "'?";
        throw bad(problem + " (types: " + config::detail::join(names) + ")");
    }
    col.type = info->type;
    col.length = info->fixed_length;

    std::size_t j = i;
    while (j < spec.size() && is_space(spec[j])) ++j;
    std::optional<std::string> args;
    if (j < spec.size() && spec[j] == '(') {
        const std::size_t close = spec.find(')', j);
        if (close == std::string::npos) throw bad("missing ')'");
        args = spec.substr(j + 1, close - j - 1);
        args->erase(std::remove_if(args->begin(), args->end(), is_space), args->end());
        i = close + 1;
    }
    col.type_text = spec.substr(type_begin, i - type_begin);

    const std::string type_name = info->name;
    switch (info->rule) {
        case LengthRule::none:
            if (args) throw bad("type " + type_name + " takes no length");
            break;
        case LengthRule::required_n:
        case LengthRule::required_n_or_max:
            if (!args) throw bad("type " + type_name + " needs a length, e.g. " + type_name + "(128)");
            if (lower(*args) == "max") {
                if (info->rule != LengthRule::required_n_or_max) throw bad("type " + type_name + " cannot be (max)");
                col.length = -1;
            } else {
                col.length = parse_small_int(*args, spec);
                if (col.length < 1 || col.length > info->max_length) {
                    throw bad("length of " + type_name + " must be 1 to " + std::to_string(info->max_length) +
                              (info->rule == LengthRule::required_n_or_max ? " or max" : ""));
                }
            }
            break;
        case LengthRule::precision_scale:
            col.length = 18;
            if (args) {
                const auto comma = args->find(',');
                col.length = parse_small_int(args->substr(0, comma), spec);
                if (comma != std::string::npos) col.scale = parse_small_int(args->substr(comma + 1), spec);
                if (col.length < 1 || col.length > 38) throw bad("precision of " + type_name + " must be 1 to 38");
                if (col.scale > col.length) throw bad("scale of " + type_name + " must not exceed its precision");
            }
            break;
        case LengthRule::fraction:
            col.length = 7;
            if (args) {
                col.length = parse_small_int(*args, spec);
                if (col.length > 7) throw bad("fractional seconds precision of " + type_name + " must be 0 to 7");
            }
            break;
    }

    std::set<std::string> seen;
    while (true) {
        skip_spaces();
        if (i >= spec.size()) break;
        const std::size_t flag_begin = i;
        while (i < spec.size() && !is_space(spec[i])) ++i;
        const std::string flag = spec.substr(flag_begin, i - flag_begin);
        if (!seen.insert(flag).second) throw bad("flag '" + flag + "' is repeated");
        if (flag == "key") {
            col.key = true;
        } else if (flag == "text") {
            if (!is_character_type(col.type)) throw bad("flag 'text' needs a character type, not " + type_name);
            col.text = true;
        } else if (flag == "counter") {
            if (!is_integer_type(col.type) && col.type != ColumnType::decimal && col.type != ColumnType::float_ &&
                col.type != ColumnType::real) {
                throw bad("flag 'counter' needs a numeric type, not " + type_name);
            }
            col.counter = true;
        } else if (flag == "utc") {
            if (col.type != ColumnType::datetime && col.type != ColumnType::datetime2 && col.type != ColumnType::date) {
                throw bad("flag 'utc' needs a datetime, datetime2 or date type, not " + type_name);
            }
            col.utc = true;
        } else {
            std::string problem = "unknown flag '" + flag + "'";
            if (auto near = config::detail::nearest(flag, {"key", "text", "counter", "utc"}); !near.empty()) {
                problem += "; did you mean '" + near + "'?";
            }
            throw bad(problem + " (flags: key, text, counter, utc)");
        }
    }
    return col;
}

// ---------------------------------------------------------------------------------------------------------
// Declarations

namespace {

const std::vector<std::string> kTopKeys = {"sql",     "scope",          "min_version", "columns",     "derived",
                                           "runtime_params", "variants", "kind", "bound_params", "xe_session",
                                           "fallback", "collector"};
const std::vector<std::string> kCollectorKeys = {"name",   "description", "table",   "interval",  "timeout",
                                                 "retention", "params",   "enabled", "budget",    "on_connect"};
const std::vector<std::string> kVariantKeys = {"max_version", "sql"};
const std::vector<std::string> kDerivedKeys = {"slice"};

bool valid_table_name(std::string_view s) {
    return !s.empty() && s.size() <= 63 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

// True when sql mentions @name as a whole variable name (case-insensitive, as T-SQL variables usually are).
bool mentions_variable(std::string_view sql, std::string_view name) {
    const std::string haystack = lower(sql);
    const std::string needle = "@" + lower(name);
    for (std::size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) {
        const std::size_t after = pos + needle.size();
        const bool boundary_after = after >= haystack.size() ||
                                    !(std::isalnum(static_cast<unsigned char>(haystack[after])) != 0 ||
                                      haystack[after] == '_' || haystack[after] == '@' || haystack[after] == '#' ||
                                      haystack[after] == '$');
        const bool boundary_before = pos == 0 || haystack[pos - 1] != '@';
        if (boundary_after && boundary_before) return true;
    }
    return false;
}

struct Shared {
    std::string sql_file;
    std::string sql;
    std::string scope = "server";
    int min_version = 13;
    std::vector<ColumnDecl> columns;
    std::vector<DerivedSlice> derived;
    std::vector<std::string> runtime_params;
    std::vector<SqlVariant> variants;
    std::string kind = "rows";
    std::vector<BoundParam> bound_params;
    std::string xe_session;
    bool fallback = false;
};

bool is_xe_kind(const std::string& kind) { return kind == "xe_file" || kind == "xe_ring_buffer"; }

// XE collectors all write the tables of schema/sqlite/003_blocking.sql, so they may share a table name.
bool table_clash(const CollectorDecl& a, const CollectorDecl& b) {
    return a.table == b.table && !(a.is_xe() && b.is_xe());
}

class DeclParser {
public:
    explicit DeclParser(const std::string& file) : r_(file, false) {}

    std::vector<CollectorDecl> run(std::string_view text) {
        const toml::table root = config::detail::parse_toml(text, r_.file(), false);
        r_.check_keys(root, "", kTopKeys);
        Shared shared = top(root);
        const toml::node* list_node = root.get("collector");
        if (list_node == nullptr) r_.fail(root.source(), "collector", "missing: declare at least one [[collector]]");
        const auto* list = list_node->as_array();
        if (list == nullptr || !list->is_array_of_tables() || list->empty()) {
            r_.fail(list_node->source(), "collector",
                    "expected an array of tables ([[collector]] sections), got " + config::detail::type_name(list_node->type()));
        }
        std::vector<CollectorDecl> out;
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto& t = *list->get(i)->as_table();
            CollectorDecl d = collector(t, "collector[" + std::to_string(i) + "]", shared);
            for (const auto& other : out) {
                if (other.name == d.name) {
                    r_.fail(t.get("name")->source(), "collector[" + std::to_string(i) + "].name",
                            "duplicate collector name '" + d.name + "' (also at line " + std::to_string(other.line) + ")");
                }
                if (table_clash(other, d)) {
                    r_.fail(t.source(), "collector[" + std::to_string(i) + "].table",
                            "table '" + d.table + "' is already used by collector '" + other.name + "'");
                }
                std::vector<std::string> a, b;
                for (const auto& p : other.params) a.push_back(p.first);
                for (const auto& p : d.params) b.push_back(p.first);
                std::sort(a.begin(), a.end());
                std::sort(b.begin(), b.end());
                if (a != b) {
                    r_.fail(t.source(), "collector[" + std::to_string(i) + "].params",
                            "collectors of one query file must declare the same params: '" + d.name + "' has {" +
                                config::detail::join(b) + "} but '" + other.name + "' has {" + config::detail::join(a) + "}");
                }
            }
            out.push_back(std::move(d));
        }
        return out;
    }

private:
    Shared top(const toml::table& root) {
        Shared s;
        const toml::node* sql = root.get("sql");
        if (sql == nullptr) r_.fail(root.source(), "sql", "missing: name the query file under sql/collectors/");
        const std::string sql_name = r_.nonempty_string(*sql, "sql");
        if (sql_name.find("..") != std::string::npos || sql_name.front() == '/') {
            r_.fail(sql->source(), "sql", "must be a file name under sql/collectors/ (got \"" + sql_name + "\")");
        }
        s.sql_file = "sql/collectors/" + sql_name;
        const auto text = embedded::find(s.sql_file);
        if (!text) r_.fail(sql->source(), "sql", "query file " + s.sql_file + " does not exist");
        s.sql = std::string(*text);

        if (const auto* v = root.get("scope")) {
            s.scope = r_.string(*v, "scope");
            if (s.scope != "server" && s.scope != "database") {
                r_.fail(v->source(), "scope", "must be \"server\" or \"database\" (got \"" + s.scope + "\")");
            }
        }
        if (const auto* v = root.get("min_version")) {
            const long long mv = r_.integer(*v, "min_version");
            if (mv < 13 || mv > 99) {
                r_.fail(v->source(), "min_version",
                        "must be a SQL Server major version from 13 (2016) on (got " + std::to_string(mv) + ")");
            }
            s.min_version = static_cast<int>(mv);
        }

        const toml::node* columns = root.get("columns");
        if (columns == nullptr) r_.fail(root.source(), "columns", "missing: list the columns the query returns");
        const auto& list = r_.array(*columns, "columns");
        if (list.empty()) r_.fail(columns->source(), "columns", "must list at least one column");
        for (std::size_t i = 0; i < list.size(); ++i) {
            const toml::node& item = *list.get(i);
            const std::string key = "columns[" + std::to_string(i) + "]";
            const std::string spec = r_.string(item, key);
            ColumnDecl col;
            try {
                col = parse_column(spec);
            } catch (const std::invalid_argument& e) {
                r_.fail(item.source(), key, e.what());
            }
            for (const auto& other : s.columns) {
                if (other.name == col.name) r_.fail(item.source(), key, "column '" + col.name + "' is declared twice");
            }
            s.columns.push_back(std::move(col));
        }

        if (s.scope == "database") {
            for (const auto& c : s.columns) {
                if (c.name == "database_id" || c.name == "database_name") {
                    r_.fail(columns->source(), "columns",
                            "'" + c.name + "' is added by the agent to every row of a per-database collector; "
                            "do not return or declare it");
                }
            }
        }
        if (const auto* v = root.get("kind")) {
            s.kind = r_.string(*v, "kind");
            if (s.kind != "rows" && !is_xe_kind(s.kind)) {
                r_.fail(v->source(), "kind",
                        "must be \"rows\", \"xe_file\" or \"xe_ring_buffer\" (got \"" + s.kind + "\")");
            }
        }
        if (const auto* v = root.get("xe_session")) {
            s.xe_session = r_.nonempty_string(*v, "xe_session");
            const bool ok = s.xe_session.size() <= 100 &&
                            std::all_of(s.xe_session.begin(), s.xe_session.end(), [](char c) {
                                return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
                            });
            if (!ok) r_.fail(v->source(), "xe_session", "an event session name is [A-Za-z0-9_]+ (at most 100)");
            if (!is_xe_kind(s.kind)) r_.fail(v->source(), "xe_session", "only for kind \"xe_file\" or \"xe_ring_buffer\"");
        }
        if (const auto* v = root.get("fallback")) {
            s.fallback = r_.boolean(*v, "fallback");
            if (!is_xe_kind(s.kind)) r_.fail(v->source(), "fallback", "only for kind \"xe_file\" or \"xe_ring_buffer\"");
        }
        if (const auto* v = root.get("bound_params")) {
            for (const auto& spec : r_.strings(*v, "bound_params")) {
                auto space = spec.find(' ');
                BoundParam bp{spec.substr(0, space), space == std::string::npos ? "" : spec.substr(space + 1)};
                const bool type_ok = bp.type_text == "bigint" || bp.type_text == "int" ||
                                     (bp.type_text.starts_with("nvarchar(") && bp.type_text.ends_with(")"));
                if (!config::detail::is_identifier(bp.name) || !type_ok) {
                    r_.fail(v->source(), "bound_params",
                            "entries are \"name type\" with type bigint, int or nvarchar(n) (got \"" + spec + "\")");
                }
                if (!mentions_variable(s.sql, bp.name)) {
                    r_.fail(v->source(), "bound_params", "bound param '" + bp.name + "' is not used (as @" + bp.name + ") in " + s.sql_file);
                }
                s.bound_params.push_back(std::move(bp));
            }
        }
        if (const auto* v = root.get("runtime_params")) {
            for (const auto& name : r_.strings(*v, "runtime_params")) {
                const auto& known = known_runtime_params();
                if (std::find(known.begin(), known.end(), name) == known.end()) {
                    r_.fail(v->source(), "runtime_params",
                            "unknown runtime param '" + name + "' (known: " + config::detail::join(known) + ")");
                }
                if (!mentions_variable(s.sql, name)) {
                    r_.fail(v->source(), "runtime_params", "runtime param '" + name + "' is not used (as @" + name + ") in " + s.sql_file);
                }
                s.runtime_params.push_back(name);
            }
        }
        if (const auto* v = root.get("variants")) {
            const auto* arr = v->as_array();
            if (arr == nullptr) r_.fail(v->source(), "variants", "expected an array of { max_version, sql } tables");
            for (std::size_t i = 0; i < arr->size(); ++i) {
                const std::string key = "variants[" + std::to_string(i) + "]";
                const auto& t = r_.table(*arr->get(i), key);
                r_.check_keys(t, key, kVariantKeys);
                const toml::node* mv = t.get("max_version");
                const toml::node* file = t.get("sql");
                if (mv == nullptr || file == nullptr) r_.fail(t.source(), key, "needs max_version and sql");
                SqlVariant var;
                var.max_version = static_cast<int>(r_.integer(*mv, key + ".max_version"));
                const std::string name = r_.nonempty_string(*file, key + ".sql");
                if (name.find("..") != std::string::npos || name.front() == '/') {
                    r_.fail(file->source(), key + ".sql", "must be a file name under sql/collectors/ (got \"" + name + "\")");
                }
                var.sql_file = "sql/collectors/" + name;
                const auto variant_text = embedded::find(var.sql_file);
                if (!variant_text) r_.fail(file->source(), key + ".sql", "query file " + var.sql_file + " does not exist");
                var.sql = std::string(*variant_text);
                s.variants.push_back(std::move(var));
            }
        }

        if (const auto* v = root.get("derived")) {
            const auto& derived = r_.table(*v, "derived");
            for (const auto& [k, node] : config::detail::in_file_order(derived)) {
                s.derived.push_back(derived_slice(std::string(k->str()), *k, *node, s));
            }
        }
        return s;
    }

    const ColumnDecl* find_column(const Shared& s, const std::string& name) const {
        for (const auto& c : s.columns) {
            if (c.name == name) return &c;
        }
        return nullptr;
    }

    DerivedSlice derived_slice(const std::string& name, const toml::key& k, const toml::node& node, const Shared& s) {
        const std::string prefix = "derived." + name;
        if (!config::detail::is_identifier(name)) r_.fail(k.source(), prefix, "derived column names are [a-z_][a-z0-9_]*");
        if (find_column(s, name) != nullptr) r_.fail(k.source(), prefix, "'" + name + "' is already a declared column");
        for (const auto& d : s.derived) {
            if (d.name == name) r_.fail(k.source(), prefix, "'" + name + "' is declared twice");
        }
        const auto& t = r_.table(node, prefix);
        r_.check_keys(t, prefix, kDerivedKeys);
        const toml::node* slice = t.get("slice");
        if (slice == nullptr) r_.fail(t.source(), prefix + ".slice", "missing: slice = [text_column, start_column, end_column]");
        const auto parts = r_.strings(*slice, prefix + ".slice");
        if (parts.size() != 3) {
            r_.fail(slice->source(), prefix + ".slice",
                    "expected three column names [text_column, start_column, end_column], got " + std::to_string(parts.size()));
        }
        const char* roles[] = {"text column", "start offset column", "end offset column"};
        for (std::size_t i = 0; i < 3; ++i) {
            const ColumnDecl* c = find_column(s, parts[i]);
            if (c == nullptr) {
                r_.fail(slice->source(), prefix + ".slice",
                        std::string(roles[i]) + " '" + parts[i] + "' is not a declared column");
            }
            const bool ok = i == 0 ? (c->type == ColumnType::nvarchar || c->type == ColumnType::varchar ||
                                      c->type == ColumnType::nchar || c->type == ColumnType::char_)
                                   : is_integer_type(c->type);
            if (!ok) {
                r_.fail(slice->source(), prefix + ".slice",
                        std::string(roles[i]) + " '" + parts[i] + "' has type " + c->type_text + "; expected " +
                            (i == 0 ? "a character type" : "an integer type"));
            }
        }
        return DerivedSlice{name, parts[0], parts[1], parts[2]};
    }

    CollectorDecl collector(const toml::table& t, const std::string& prefix, const Shared& s) {
        r_.check_keys(t, prefix, kCollectorKeys);
        CollectorDecl d;
        d.declaration_file = r_.file();
        d.sql_file = s.sql_file;
        d.sql = s.sql;
        d.scope = s.scope;
        d.min_version = s.min_version;
        d.columns = s.columns;
        d.derived = s.derived;
        d.runtime_params = s.runtime_params;
        d.kind = s.kind;
        d.xe_session = s.xe_session;
        d.fallback = s.fallback;
        d.bound_params = s.bound_params;
        d.variants = s.variants;
        d.line = static_cast<int>(t.source().begin.line);

        const toml::node* name = t.get("name");
        if (name == nullptr) r_.fail(t.source(), prefix + ".name", "missing: every [[collector]] needs a name");
        d.name = r_.string(*name, prefix + ".name");
        if (!config::detail::is_identifier(d.name)) {
            r_.fail(name->source(), prefix + ".name", "invalid collector name '" + d.name + "' ([a-z_][a-z0-9_]*)");
        }
        d.table = d.name;
        if (const auto* v = t.get("description")) d.description = r_.string(*v, prefix + ".description");
        if (const auto* v = t.get("table")) {
            d.table = r_.string(*v, prefix + ".table");
            if (!valid_table_name(d.table)) {
                r_.fail(v->source(), prefix + ".table", "invalid table name '" + d.table + "' ([a-z0-9_]+, at most 63)");
            }
        }
        if (d.table == "sql_text") r_.fail(t.source(), prefix + ".table", "'sql_text' is the store's own table");
        const toml::node* interval = t.get("interval");
        if (interval == nullptr) r_.fail(t.source(), prefix + ".interval", "missing: how often the collector runs, e.g. \"1m\"");
        d.interval = r_.positive_duration(*interval, prefix + ".interval");
        if (const auto* v = t.get("timeout")) {
            d.timeout = r_.positive_duration(*v, prefix + ".timeout");
        } else {
            d.timeout = std::min(d.timeout, d.interval);  // the default, 30s, but never longer than the interval
        }
        if (d.timeout > d.interval) {
            r_.fail(t.get("timeout")->source(), prefix + ".timeout",
                    "timeout (" + config::format_duration(d.timeout) + ") is longer than interval (" +
                        config::format_duration(d.interval) + ")");
        }
        if (const auto* v = t.get("retention")) d.retention = r_.positive_seconds(*v, prefix + ".retention");
        if (const auto* v = t.get("enabled")) d.enabled = r_.boolean(*v, prefix + ".enabled");
        if (const auto* v = t.get("on_connect")) d.on_connect = r_.boolean(*v, prefix + ".on_connect");
        if (const auto* v = t.get("budget")) d.budget = r_.positive_duration(*v, prefix + ".budget");
        if (const auto* v = t.get("params")) {
            const auto& params = r_.table(*v, prefix + ".params");
            for (const auto& [k, node] : config::detail::in_file_order(params)) {
                const std::string pname(k->str());
                const std::string key = prefix + ".params." + pname;
                if (!config::detail::is_identifier(pname)) r_.fail(k->source(), key, "param names are [a-z_][a-z0-9_]*");
                const long long value = r_.integer(*node, key);
                if (value < 0) r_.fail(node->source(), key, "must not be negative");
                if (!mentions_variable(s.sql, pname)) {
                    r_.fail(k->source(), key, "param '" + pname + "' is not used (as @" + pname + ") in " + s.sql_file);
                }
                d.params.emplace_back(pname, value);
            }
        }
        return d;
    }

    Reader r_;
};

}  // namespace

std::vector<CollectorDecl> parse_declaration(std::string_view toml_text, const std::string& file) {
    return DeclParser(file).run(toml_text);
}

std::vector<CollectorDecl> load_builtin() {
    std::vector<std::pair<std::string, std::string>> files;
    for (const embedded::File* f : embedded::under("collectors/")) {
        if (f->path.ends_with(".toml")) files.emplace_back(f->path, f->content);
    }
    return load_declarations(files);
}

std::vector<CollectorDecl> load_declarations(const std::vector<std::pair<std::string, std::string>>& files) {
    std::vector<CollectorDecl> all;
    for (const auto& [path, content] : files) {
        for (auto& d : parse_declaration(content, path)) {
            for (const auto& other : all) {
                if (other.name == d.name) {
                    throw ConfigError(d.declaration_file, d.line, 0, "name",
                                      "duplicate collector name '" + d.name + "' (also declared in " +
                                          other.declaration_file + ":" + std::to_string(other.line) + ")");
                }
                if (table_clash(other, d)) {
                    throw ConfigError(d.declaration_file, d.line, 0, "table",
                                      "table '" + d.table + "' is already used by collector '" + other.name + "' (" +
                                          other.declaration_file + ":" + std::to_string(other.line) + ")");
                }
            }
            all.push_back(std::move(d));
        }
    }
    return all;
}

std::vector<std::string> collector_names(const std::vector<CollectorDecl>& decls) {
    std::vector<std::string> names;
    names.reserve(decls.size());
    for (const auto& d : decls) names.push_back(d.name);
    return names;
}

void apply_overrides(std::vector<CollectorDecl>& decls, const config::Config& cfg, std::vector<std::string>* warnings) {
    const std::vector<std::string> known = collector_names(decls);
    for (const auto& [name, o] : cfg.collectors) {
        const std::string prefix = "collectors." + name;
        auto it = std::find_if(decls.begin(), decls.end(), [&](const CollectorDecl& d) { return d.name == name; });
        if (it == decls.end()) {
            std::string problem = "unknown collector";
            if (auto near = config::detail::nearest(name, known); !near.empty()) problem += "; did you mean '" + near + "'?";
            throw ConfigError(cfg.source, o.line, 0, prefix, problem + " (collectors: " + config::detail::join(known) + ")");
        }
        CollectorDecl& d = *it;
        std::vector<std::string> declared;
        for (const auto& p : d.params) declared.push_back(p.first);
        for (const auto& [pname, value] : o.params) {
            auto p = std::find_if(d.params.begin(), d.params.end(), [&](const auto& kv) { return kv.first == pname; });
            if (p == d.params.end()) {
                std::string problem = "unknown param";
                if (declared.empty()) {
                    problem += "; collector '" + name + "' declares no params";
                } else {
                    if (auto near = config::detail::nearest(pname, declared); !near.empty()) {
                        problem += "; did you mean '" + near + "'?";
                    }
                    problem += " (params of " + name + ": " + config::detail::join(declared) + ")";
                }
                throw ConfigError(cfg.source, o.line, 0, prefix + ".params." + pname, problem);
            }
        }
        if (o.enabled) d.enabled = *o.enabled;
        if (o.interval) d.interval = *o.interval;
        if (o.timeout) d.timeout = *o.timeout;
        if (o.retention) d.retention = *o.retention;
        for (auto& [pname, value] : d.params) {
            if (auto p = o.params.find(pname); p != o.params.end()) value = p->second;
        }
        if (warnings != nullptr && d.timeout > d.interval) {
            config::ConfigError w(cfg.source, o.line, 0, prefix,
                                  "timeout (" + config::format_duration(d.timeout) + ") is longer than interval (" +
                                      config::format_duration(d.interval) + "); a run may still be going when the next one is due");
            warnings->push_back(w.what());
        }
    }
}

std::string quote_name(std::string_view name) { return tsql::quote_identifier(name, "database name"); }

const std::string& sql_for_version(const CollectorDecl& decl, int major_version) {
    if (major_version > 0) {
        for (const auto& v : decl.variants)
            if (major_version <= v.max_version) return v.sql;
    }
    return decl.sql;
}

std::string assemble_batch(const CollectorDecl& decl, const BatchContext& ctx) {
    std::string out = "/* dmvlog:" + decl.name + " */\n";
    std::vector<std::pair<std::string, long long>> values = decl.params;
    for (const auto& name : decl.runtime_params) {
        long long value = 2 * static_cast<long long>(decl.interval.count());  // first run: two intervals
        for (const auto& [n, v] : ctx.runtime)
            if (n == name) value = v;
        values.emplace_back(name, value);
    }
    if (!values.empty()) {
        out += "DECLARE ";
        for (std::size_t i = 0; i < values.size(); ++i) {
            const auto& [name, value] = values[i];
            if (i > 0) out += ", ";
            const bool fits_int = value >= INT_MIN && value <= INT_MAX;
            out += "@" + name + (fits_int ? " int = " : " bigint = ") + std::to_string(value);
        }
        out += ";\n";
    }
    if (!decl.bound_params.empty()) {
        out += "DECLARE ";
        for (std::size_t i = 0; i < decl.bound_params.size(); ++i) {
            if (i > 0) out += ", ";
            out += "@" + decl.bound_params[i].name + " " + decl.bound_params[i].type_text + " = ?";
        }
        out += ";\n";
    }
    if (!ctx.database.empty()) out += "USE " + quote_name(ctx.database) + ";\n";
    out += "SELECT SYSUTCDATETIME() AS collected_at, DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS utc_offset_minutes, "
           "(SELECT sqlserver_start_time FROM sys.dm_os_sys_info) AS sqlserver_start_time;\n";
    out += sql_for_version(decl, ctx.server_major_version);
    return out;
}

std::string assemble_batch(const CollectorDecl& decl) { return assemble_batch(decl, BatchContext{}); }

}  // namespace dmvlog::collect
