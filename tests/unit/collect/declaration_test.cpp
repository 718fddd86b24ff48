// Collector declarations: the built-in ones, parsing errors, overrides and the batch sent to SQL Server.
#include "agent/collect/declaration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "agent/core/embedded.h"

namespace dmvlog::collect {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const CollectorDecl& find_decl(const std::vector<CollectorDecl>& decls, const std::string& name) {
    auto it = std::find_if(decls.begin(), decls.end(), [&](const CollectorDecl& d) { return d.name == name; });
    if (it == decls.end()) throw std::runtime_error("no collector " + name);
    return *it;
}

const ColumnDecl& find_column(const CollectorDecl& d, const std::string& name) {
    auto it = std::find_if(d.columns.begin(), d.columns.end(), [&](const ColumnDecl& c) { return c.name == name; });
    if (it == d.columns.end()) throw std::runtime_error("no column " + name);
    return *it;
}

// ---- the built-in declarations

TEST(BuiltinDeclarations, RequestsCollectors) {
    const auto decls = load_builtin();
    const CollectorDecl& fast = find_decl(decls, "requests_5s");
    const CollectorDecl& slow = find_decl(decls, "requests_1m");

    EXPECT_EQ(fast.table, "requests_5s");
    EXPECT_EQ(fast.interval, 5s);
    EXPECT_EQ(fast.timeout, 4s);
    EXPECT_EQ(fast.retention, std::chrono::hours(7 * 24));
    EXPECT_EQ(fast.params, (std::vector<std::pair<std::string, long long>>{
                               {"min_elapsed_ms", 1000}, {"max_elapsed_ms", 30000}, {"top_rows", 500}}));
    EXPECT_TRUE(fast.enabled);
    EXPECT_EQ(fast.line, 55);

    EXPECT_EQ(slow.table, "requests_1m");
    EXPECT_EQ(slow.interval, 1min);
    EXPECT_EQ(slow.timeout, 30s);
    EXPECT_EQ(slow.retention, std::chrono::hours(30 * 24));
    EXPECT_EQ(slow.params, (std::vector<std::pair<std::string, long long>>{
                               {"min_elapsed_ms", 1000}, {"max_elapsed_ms", 36000000}, {"top_rows", 5000}}));

    for (const CollectorDecl* d : {&fast, &slow}) {
        EXPECT_EQ(d->declaration_file, "collectors/requests.toml");
        EXPECT_EQ(d->sql_file, "sql/collectors/requests.sql");
        EXPECT_EQ(std::optional<std::string_view>(d->sql), embedded::find("sql/collectors/requests.sql"));
        EXPECT_FALSE(d->sql.empty());
        EXPECT_EQ(d->scope, "server");
        EXPECT_EQ(d->min_version, 13);
        EXPECT_FALSE(d->description.empty());
        ASSERT_EQ(d->columns.size(), 39u);
        EXPECT_EQ(d->columns.front().name, "session_id");
        EXPECT_EQ(d->columns.back().name, "batch_text");
        ASSERT_EQ(d->derived.size(), 1u);
        EXPECT_EQ(d->derived[0].name, "statement_text");
        EXPECT_EQ(d->derived[0].text_column, "batch_text");
        EXPECT_EQ(d->derived[0].start_column, "statement_start_offset");
        EXPECT_EQ(d->derived[0].end_column, "statement_end_offset");
    }

    const ColumnDecl& session = find_column(fast, "session_id");
    EXPECT_EQ(session.type, ColumnType::smallint);
    EXPECT_TRUE(session.key);
    EXPECT_FALSE(session.text);
    EXPECT_TRUE(find_column(fast, "request_id").key);
    EXPECT_FALSE(find_column(fast, "start_time").key);
    const ColumnDecl& batch = find_column(fast, "batch_text");
    EXPECT_EQ(batch.type, ColumnType::nvarchar);
    EXPECT_EQ(batch.type_text, "nvarchar(max)");
    EXPECT_EQ(batch.length, -1);
    EXPECT_TRUE(batch.text);
    const ColumnDecl& hash = find_column(fast, "query_hash");
    EXPECT_EQ(hash.type, ColumnType::binary);
    EXPECT_EQ(hash.length, 8);
    EXPECT_EQ(hash.storage(), StorageClass::blob);
    EXPECT_EQ(find_column(fast, "start_time").storage(), StorageClass::timestamp);
    EXPECT_EQ(find_column(fast, "status").length, 30);
}

TEST(BuiltinDeclarations, NamesAndTablesAreUnique) {
    const auto decls = load_builtin();
    const auto names = collector_names(decls);
    EXPECT_GE(names.size(), 2u);
    for (std::size_t i = 0; i < decls.size(); ++i) {
        EXPECT_EQ(names[i], decls[i].name);
        for (std::size_t j = i + 1; j < decls.size(); ++j) {
            EXPECT_NE(decls[i].name, decls[j].name);
            // the XE collectors all write the tables of 003_blocking.sql
            if (!(decls[i].is_xe() && decls[j].is_xe())) {
                EXPECT_NE(decls[i].table, decls[j].table);
            }
        }
    }
}

TEST(BuiltinDeclarations, XeCollectorsAndTheirFallbacks) {
    const auto decls = load_builtin();
    auto find = [&](const std::string& name) -> const CollectorDecl& {
        for (const auto& d : decls)
            if (d.name == name) return d;
        throw std::runtime_error("no collector " + name);
    };
    const auto& own = find("blocking_events");
    EXPECT_EQ(own.kind, "xe_file");
    EXPECT_FALSE(own.fallback);
    const auto& ring = find("blocking_events_ring_buffer");
    EXPECT_EQ(ring.kind, "xe_ring_buffer");
    EXPECT_TRUE(ring.fallback);
    EXPECT_EQ(ring.table, "xe_events");
    ASSERT_EQ(ring.bound_params.size(), 1u);
    EXPECT_EQ(ring.bound_params[0].name, "session_name");
    const auto& health = find("deadlocks_system_health");
    EXPECT_EQ(health.kind, "xe_file");
    EXPECT_TRUE(health.fallback);
    EXPECT_EQ(health.xe_session, "system_health");
    EXPECT_EQ(health.retention, own.retention);
}


// ---- columns

TEST(ParseColumn, TypesLengthsAndFlags) {
    ColumnDecl c = parse_column("wait_time int");
    EXPECT_EQ(c.name, "wait_time");
    EXPECT_EQ(c.type_text, "int");
    EXPECT_EQ(c.type, ColumnType::int_);
    EXPECT_EQ(c.length, 0);
    EXPECT_FALSE(c.key || c.text || c.counter);

    c = parse_column("  reads   bigint  counter key ");
    EXPECT_EQ(c.name, "reads");
    EXPECT_EQ(c.type, ColumnType::bigint);
    EXPECT_TRUE(c.counter);
    EXPECT_TRUE(c.key);
    EXPECT_FALSE(c.text);

    c = parse_column("amount decimal(18, 4)");
    EXPECT_EQ(c.type, ColumnType::decimal);
    EXPECT_EQ(c.type_text, "decimal(18, 4)");
    EXPECT_EQ(c.length, 18);
    EXPECT_EQ(c.scale, 4);

    c = parse_column("n numeric");
    EXPECT_EQ(c.type, ColumnType::decimal);
    EXPECT_EQ(c.length, 18);
    EXPECT_EQ(c.scale, 0);

    c = parse_column("t datetime2(3)");
    EXPECT_EQ(c.type, ColumnType::datetime2);
    EXPECT_EQ(c.length, 3);
    EXPECT_EQ(parse_column("t datetimeoffset").length, 7);

    c = parse_column("name sysname");
    EXPECT_EQ(c.type, ColumnType::nvarchar);
    EXPECT_EQ(c.length, 128);
    EXPECT_EQ(c.type_text, "sysname");

    c = parse_column("doc NVARCHAR(MAX) text");
    EXPECT_EQ(c.type, ColumnType::nvarchar);
    EXPECT_EQ(c.length, -1);
    EXPECT_TRUE(c.text);

    EXPECT_EQ(parse_column("b varbinary(max)").length, -1);
    EXPECT_EQ(parse_column("c char(10)").length, 10);
}

TEST(ParseColumn, StorageClasses) {
    const std::vector<std::pair<std::string, StorageClass>> cases = {
        {"tinyint", StorageClass::integer},       {"smallint", StorageClass::integer},
        {"int", StorageClass::integer},           {"bigint", StorageClass::integer},
        {"bit", StorageClass::integer},           {"float", StorageClass::real},
        {"real", StorageClass::real},             {"decimal(10,2)", StorageClass::decimal},
        {"numeric(5)", StorageClass::decimal},    {"nvarchar(10)", StorageClass::text},
        {"varchar(max)", StorageClass::text},     {"nchar(2)", StorageClass::text},
        {"char(2)", StorageClass::text},          {"xml", StorageClass::text},
        {"uniqueidentifier", StorageClass::text}, {"time", StorageClass::text},
        {"varbinary(64)", StorageClass::blob},    {"binary(8)", StorageClass::blob},
        {"datetime", StorageClass::timestamp},    {"smalldatetime", StorageClass::timestamp},
        {"datetime2", StorageClass::timestamp},   {"datetimeoffset", StorageClass::timestamp},
        {"date", StorageClass::timestamp},
    };
    for (const auto& [type, storage] : cases) {
        EXPECT_EQ(parse_column("c " + type).storage(), storage) << type;
    }
}

std::string column_error(const std::string& spec) {
    try {
        parse_column(spec);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "<no error>";
}

TEST(ParseColumn, Errors) {
    EXPECT_THAT(column_error("x nvarchr(10)"), HasSubstr("column \"x nvarchr(10)\": unknown type 'nvarchr'; did you mean 'nvarchar'?"));
    EXPECT_EQ(column_error("x"), "column \"x\": the type is missing; expected \"name type [flags]\"");
    EXPECT_EQ(column_error(""), "column \"\": expected \"name type [flags]\"");
    EXPECT_EQ(column_error("x nvarchar"), "column \"x nvarchar\": type nvarchar needs a length, e.g. nvarchar(128)");
    EXPECT_EQ(column_error("x nvarchar(5000)"), "column \"x nvarchar(5000)\": length of nvarchar must be 1 to 4000 or max");
    EXPECT_EQ(column_error("x binary(max)"), "column \"x binary(max)\": type binary cannot be (max)");
    EXPECT_EQ(column_error("x int(4)"), "column \"x int(4)\": type int takes no length");
    EXPECT_EQ(column_error("x datetime2(8)"), "column \"x datetime2(8)\": fractional seconds precision of datetime2 must be 0 to 7");
    EXPECT_EQ(column_error("x decimal(10,11)"), "column \"x decimal(10,11)\": scale of decimal must not exceed its precision");
    EXPECT_EQ(column_error("x nvarchar(10"), "column \"x nvarchar(10\": missing ')'");
    EXPECT_EQ(column_error("x int keys"), "column \"x int keys\": unknown flag 'keys'; did you mean 'key'? (flags: key, text, counter, utc)");
    EXPECT_EQ(column_error("x int text"), "column \"x int text\": flag 'text' needs a character type, not int");
    EXPECT_EQ(column_error("x nvarchar(4) counter"), "column \"x nvarchar(4) counter\": flag 'counter' needs a numeric type, not nvarchar");
    EXPECT_EQ(column_error("x int key key"), "column \"x int key key\": flag 'key' is repeated");
    EXPECT_EQ(column_error("Session int"), "column \"Session int\": column name 'Session' must match [a-z_][a-z0-9_]*");
    EXPECT_EQ(column_error("collected_at datetime2"),
              "column \"collected_at datetime2\": 'collected_at' is a column every store row already has; rename it in "
              "the query");
}

// ---- declaration files

// A declaration over the embedded requests.sql, with its params; extra is appended to the [[collector]] table.
std::string decl_text(const std::string& top_extra = "", const std::string& collector_extra = "") {
    return "sql = \"requests.sql\"\n"
           "columns = [\"session_id smallint key\", \"batch_text nvarchar(max) text\", \"s int\", \"e int\"]\n" +
           top_extra +
           "[[collector]]\n"
           "name = \"r\"\n"
           "interval = \"10s\"\n"
           "params = { top_rows = 5, min_elapsed_ms = 0, max_elapsed_ms = 9 }\n" +
           collector_extra;
}

std::string decl_error(const std::string& text) {
    try {
        parse_declaration(text, "collectors/t.toml");
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "<no error>";
}

TEST(ParseDeclaration, DefaultsAndParamOrder) {
    const auto decls = parse_declaration(decl_text(), "collectors/t.toml");
    ASSERT_EQ(decls.size(), 1u);
    const CollectorDecl& d = decls[0];
    EXPECT_EQ(d.name, "r");
    EXPECT_EQ(d.table, "r");  // table defaults to the name
    EXPECT_EQ(d.description, "");
    EXPECT_EQ(d.interval, 10s);
    EXPECT_EQ(d.timeout, 10s);  // the default (30s) is clamped to the interval
    EXPECT_EQ(d.retention, std::chrono::hours(30 * 24));
    EXPECT_TRUE(d.enabled);
    EXPECT_EQ(d.scope, "server");
    EXPECT_EQ(d.min_version, 13);
    EXPECT_TRUE(d.derived.empty());
    EXPECT_EQ(d.line, 3);
    // Declaration order, not toml++'s sorted order.
    EXPECT_EQ(d.params, (std::vector<std::pair<std::string, long long>>{
                            {"top_rows", 5}, {"min_elapsed_ms", 0}, {"max_elapsed_ms", 9}}));
}

TEST(ParseDeclaration, AllCollectorKeys) {
    const auto decls = parse_declaration(
        decl_text("scope = \"database\"\nmin_version = 15\n[derived.stmt]\nslice = [\"batch_text\", \"s\", \"e\"]\n",
                  "description = \"d\"\ntable = \"r_tbl\"\ntimeout = \"2s\"\nretention = \"12h\"\nenabled = false\n"),
        "collectors/t.toml");
    ASSERT_EQ(decls.size(), 1u);
    const CollectorDecl& d = decls[0];
    EXPECT_EQ(d.description, "d");
    EXPECT_EQ(d.table, "r_tbl");
    EXPECT_EQ(d.timeout, 2s);
    EXPECT_EQ(d.retention, 12h);
    EXPECT_FALSE(d.enabled);
    EXPECT_EQ(d.scope, "database");
    EXPECT_EQ(d.min_version, 15);
    ASSERT_EQ(d.derived.size(), 1u);
    EXPECT_EQ(d.derived[0].name, "stmt");
    EXPECT_EQ(d.derived[0].text_column, "batch_text");
    EXPECT_EQ(d.derived[0].start_column, "s");
    EXPECT_EQ(d.derived[0].end_column, "e");
}

TEST(ParseDeclaration, UnknownKeys) {
    EXPECT_EQ(decl_error(decl_text("colums = []\n")),
              "collectors/t.toml:3: colums: unknown key; did you mean 'columns'? (allowed keys: sql, scope, "
              "min_version, columns, derived, runtime_params, variants, kind, bound_params, xe_session, fallback, "
              "collector)");
    EXPECT_EQ(decl_error(decl_text("", "intervall = \"5s\"\n")),
              "collectors/t.toml:7: collector[0].intervall: unknown key; did you mean 'interval'? (allowed keys: name, "
              "description, table, interval, timeout, retention, params, enabled, budget, on_connect)");
    EXPECT_EQ(decl_error(decl_text("[derived.x]\nslice = [\"batch_text\", \"s\", \"e\"]\nslices = 1\n")),
              "collectors/t.toml:5: derived.x.slices: unknown key; did you mean 'slice'? (allowed keys: slice)");
}

TEST(ParseDeclaration, XeKeys) {
    const std::string xe_top = "sql = \"blocking_events_ring_buffer.sql\"\nkind = \"xe_ring_buffer\"\n"
                               "bound_params = [\"session_name nvarchar(128)\"]\ncolumns = [\"target_data nvarchar(max)\"]\n";
    auto with = [&](const std::string& extra) {
        return xe_top + extra + "[[collector]]\nname = \"a\"\ntable = \"xe_events\"\ninterval = \"10s\"\n"
                                "[[collector]]\nname = \"b\"\ntable = \"xe_events\"\ninterval = \"10s\"\n";
    };
    auto decls = parse_declaration(with("fallback = true\nxe_session = \"bpr_ring\"\n"), "collectors/t.toml");
    ASSERT_EQ(decls.size(), 2u);  // XE collectors may share their table
    EXPECT_TRUE(decls[0].fallback);
    EXPECT_EQ(decls[0].xe_session, "bpr_ring");
    EXPECT_TRUE(decls[0].is_xe());
    EXPECT_NE(decl_error(with("xe_session = \"no-dash\"\n")).find("xe_session: an event session name is"), std::string::npos);
    EXPECT_NE(decl_error(decl_text("fallback = true\n")).find("fallback: only for kind"), std::string::npos);
    EXPECT_NE(decl_error(decl_text("kind = \"xe_ring\"\n")).find("must be \"rows\", \"xe_file\" or \"xe_ring_buffer\""),
              std::string::npos);
}

TEST(ParseDeclaration, SqlFile) {
    EXPECT_EQ(decl_error("sql = \"nope.sql\"\ncolumns = [\"a int\"]\n[[collector]]\nname = \"x\"\ninterval = \"1s\"\n"),
              "collectors/t.toml:1: sql: query file sql/collectors/nope.sql does not exist");
    EXPECT_EQ(decl_error("sql = \"../agent/check.sql\"\ncolumns = [\"a int\"]\n"),
              "collectors/t.toml:1: sql: must be a file name under sql/collectors/ (got \"../agent/check.sql\")");
    EXPECT_EQ(decl_error("columns = [\"a int\"]\n"), "collectors/t.toml:1: sql: missing: name the query file under sql/collectors/");
}

TEST(ParseDeclaration, ColumnProblemsNameTheLine) {
    EXPECT_EQ(decl_error("sql = \"requests.sql\"\ncolumns = [\n  \"a int\",\n  \"b nvarchr(5)\",\n]\n"),
              "collectors/t.toml:4: columns[1]: column \"b nvarchr(5)\": unknown type 'nvarchr'; did you mean "
              "'nvarchar'? (types: tinyint, smallint, int, bigint, bit, decimal, numeric, float, real, nvarchar, "
              "varchar, nchar, char, sysname, varbinary, binary, datetime, smalldatetime, datetime2, datetimeoffset, "
              "date, time, xml, uniqueidentifier)");
    EXPECT_EQ(decl_error("sql = \"requests.sql\"\ncolumns = [\"a int\", \"a bigint\"]\n"),
              "collectors/t.toml:2: columns[1]: column 'a' is declared twice");
    EXPECT_EQ(decl_error("sql = \"requests.sql\"\ncolumns = []\n"), "collectors/t.toml:2: columns: must list at least one column");
}

TEST(ParseDeclaration, DerivedColumnsReferToDeclaredColumns) {
    EXPECT_EQ(decl_error(decl_text("[derived.stmt]\nslice = [\"sql_text\", \"s\", \"e\"]\n")),
              "collectors/t.toml:4: derived.stmt.slice: text column 'sql_text' is not a declared column");
    EXPECT_EQ(decl_error(decl_text("[derived.stmt]\nslice = [\"batch_text\", \"s\", \"nope\"]\n")),
              "collectors/t.toml:4: derived.stmt.slice: end offset column 'nope' is not a declared column");
    EXPECT_EQ(decl_error(decl_text("[derived.stmt]\nslice = [\"s\", \"s\", \"e\"]\n")),
              "collectors/t.toml:4: derived.stmt.slice: text column 's' has type int; expected a character type");
    EXPECT_EQ(decl_error(decl_text("[derived.stmt]\nslice = [\"batch_text\", \"batch_text\", \"e\"]\n")),
              "collectors/t.toml:4: derived.stmt.slice: start offset column 'batch_text' has type nvarchar(max); "
              "expected an integer type");
    EXPECT_EQ(decl_error(decl_text("[derived.stmt]\nslice = [\"batch_text\", \"s\"]\n")),
              "collectors/t.toml:4: derived.stmt.slice: expected three column names [text_column, start_column, "
              "end_column], got 2");
    EXPECT_EQ(decl_error(decl_text("[derived.s]\nslice = [\"batch_text\", \"s\", \"e\"]\n")),
              "collectors/t.toml:3: derived.s: 's' is already a declared column");
}

TEST(ParseDeclaration, CollectorValues) {
    EXPECT_EQ(decl_error(decl_text("", "table = \"Requests\"\n")),
              "collectors/t.toml:7: collector[0].table: invalid table name 'Requests' ([a-z0-9_]+, at most 63)");
    EXPECT_EQ(decl_error(decl_text("", "table = \"sql_text\"\n")),
              "collectors/t.toml:3: collector[0].table: 'sql_text' is the store's own table");
    EXPECT_EQ(decl_error(decl_text("", "timeout = \"11s\"\n")),
              "collectors/t.toml:7: collector[0].timeout: timeout (11s) is longer than interval (10s)");
    EXPECT_EQ(decl_error(decl_text("", "retention = \"0d\"\n")),
              "collectors/t.toml:7: collector[0].retention: must be > 0 (got \"0d\")");
    EXPECT_EQ(decl_error(decl_text("scope = \"instance\"\n")),
              "collectors/t.toml:3: scope: must be \"server\" or \"database\" (got \"instance\")");
    EXPECT_EQ(decl_error(decl_text("min_version = 12\n")),
              "collectors/t.toml:3: min_version: must be a SQL Server major version from 13 (2016) on (got 12)");
    EXPECT_EQ(decl_error("sql = \"requests.sql\"\ncolumns = [\"a int\"]\n[[collector]]\ninterval = \"1s\"\n"),
              "collectors/t.toml:3: collector[0].name: missing: every [[collector]] needs a name");
    EXPECT_EQ(decl_error("sql = \"requests.sql\"\ncolumns = [\"a int\"]\n[[collector]]\nname = \"Bad-Name\"\n"),
              "collectors/t.toml:4: collector[0].name: invalid collector name 'Bad-Name' ([a-z_][a-z0-9_]*)");
    EXPECT_EQ(decl_error("sql = \"requests.sql\"\ncolumns = [\"a int\"]\n[[collector]]\nname = \"x\"\n"),
              "collectors/t.toml:3: collector[0].interval: missing: how often the collector runs, e.g. \"1m\"");
    EXPECT_EQ(decl_error("sql = \"requests.sql\"\ncolumns = [\"a int\"]\n"),
              "collectors/t.toml:1: collector: missing: declare at least one [[collector]]");
}

TEST(ParseDeclaration, Params) {
    EXPECT_EQ(decl_error("sql = \"requests.sql\"\ncolumns = [\"a int\"]\n[[collector]]\nname = \"x\"\ninterval = "
                         "\"1s\"\nparams = { Top_Rows = 1 }\n"),
              "collectors/t.toml:6: collector[0].params.Top_Rows: param names are [a-z_][a-z0-9_]*");
    EXPECT_EQ(decl_error("sql = \"requests.sql\"\ncolumns = [\"a int\"]\n[[collector]]\nname = \"x\"\ninterval = "
                         "\"1s\"\nparams = { top_rows = \"5\" }\n"),
              "collectors/t.toml:6: collector[0].params.top_rows: expected integer, got string");
    EXPECT_EQ(decl_error("sql = \"requests.sql\"\ncolumns = [\"a int\"]\n[[collector]]\nname = \"x\"\ninterval = "
                         "\"1s\"\nparams = { top_row = 5 }\n"),
              "collectors/t.toml:6: collector[0].params.top_row: param 'top_row' is not used (as @top_row) in "
              "sql/collectors/requests.sql");
    EXPECT_EQ(decl_error("sql = \"requests.sql\"\ncolumns = [\"a int\"]\n[[collector]]\nname = \"x\"\ninterval = "
                         "\"1s\"\nparams = { top_rows = -5 }\n"),
              "collectors/t.toml:6: collector[0].params.top_rows: must not be negative");
}

TEST(ParseDeclaration, CollectorsOfOneFile) {
    const std::string two = decl_text() + "[[collector]]\nname = \"r\"\ntable = \"r2\"\ninterval = \"1s\"\n";
    EXPECT_EQ(decl_error(two), "collectors/t.toml:8: collector[1].name: duplicate collector name 'r' (also at line 3)");
    const std::string same_table = decl_text() + "[[collector]]\nname = \"r2\"\ntable = \"r\"\ninterval = \"1s\"\n";
    EXPECT_THAT(decl_error(same_table), HasSubstr("collector[1].table: table 'r' is already used by collector 'r'"));
    const std::string other_params =
        decl_text() + "[[collector]]\nname = \"r2\"\ninterval = \"1s\"\nparams = { top_rows = 1 }\n";
    EXPECT_EQ(decl_error(other_params),
              "collectors/t.toml:7: collector[1].params: collectors of one query file must declare the same params: "
              "'r2' has {top_rows} but 'r' has {max_elapsed_ms, min_elapsed_ms, top_rows}");
}

TEST(ParseDeclaration, TomlSyntaxErrorNamesTheLine) {
    EXPECT_THAT(decl_error("sql = \"requests.sql\"\ncolumns = [\"a int\"\n"),
                ::testing::StartsWith("collectors/t.toml:2: TOML syntax error: "));
}

TEST(LoadDeclarations, DuplicateNamesAcrossFiles) {
    const std::string a = decl_text();
    const std::string b = "\n" + decl_text("", "table = \"other\"\n");
    try {
        load_declarations({{"collectors/a.toml", a}, {"collectors/b.toml", b}});
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "collectors/b.toml:4: name: duplicate collector name 'r' (also declared in "
                               "collectors/a.toml:3)");
    }
    std::string c = decl_text("", "table = \"r\"\n");
    c.replace(c.find("name = \"r\""), 10, "name = \"c\"");
    try {
        load_declarations({{"collectors/a.toml", a}, {"collectors/c.toml", c}});
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "collectors/c.toml:3: table: table 'r' is already used by collector 'r' "
                               "(collectors/a.toml:3)");
    }
    EXPECT_EQ(load_declarations({{"collectors/a.toml", a}}).size(), 1u);
}

// ---- overrides

config::Config config_with(const std::string& text) { return config::parse(text, "dmvlog.toml"); }

TEST(ApplyOverrides, ChangesOnlyWhatIsGiven) {
    auto decls = load_builtin();
    const auto before = find_decl(decls, "requests_1m");
    apply_overrides(decls, config_with("[collectors.requests_5s]\nenabled = false\ninterval = \"10s\"\ntimeout = "
                                       "\"3s\"\nretention = \"1d\"\nparams = { top_rows = 50 }\n"));
    const CollectorDecl& d = find_decl(decls, "requests_5s");
    EXPECT_FALSE(d.enabled);
    EXPECT_EQ(d.interval, 10s);
    EXPECT_EQ(d.timeout, 3s);
    EXPECT_EQ(d.retention, 24h);
    EXPECT_EQ(d.params, (std::vector<std::pair<std::string, long long>>{
                            {"min_elapsed_ms", 1000}, {"max_elapsed_ms", 30000}, {"top_rows", 50}}));
    const CollectorDecl& other = find_decl(decls, "requests_1m");
    EXPECT_TRUE(other.enabled);
    EXPECT_EQ(other.interval, before.interval);
    EXPECT_EQ(other.params, before.params);
}

TEST(ApplyOverrides, UnknownParamNamesTheTable) {
    auto decls = load_builtin();
    const auto cfg = config_with("[[instance]]\nname = \"a\"\nconnection = \"DSN=a\"\n\n[collectors.requests_5s]\n"
                                 "params = { top_row = 5 }\n");
    try {
        apply_overrides(decls, cfg);
        FAIL() << "no error";
    } catch (const config::ConfigError& e) {
        EXPECT_STREQ(e.what(), "dmvlog.toml:5: collectors.requests_5s.params.top_row: unknown param; did you mean "
                               "'top_rows'? (params of requests_5s: min_elapsed_ms, max_elapsed_ms, top_rows)");
        EXPECT_EQ(e.line(), 5);
    }
    // The collector's overrides are checked before any is applied: its declaration is unchanged.
    EXPECT_EQ(find_decl(decls, "requests_5s").params.back().second, 500);
}

TEST(ApplyOverrides, UnknownCollector) {
    auto decls = load_builtin();
    try {
        apply_overrides(decls, config_with("\n[collectors.requests_5m]\nenabled = false\n"));
        FAIL() << "no error";
    } catch (const config::ConfigError& e) {
        EXPECT_THAT(e.what(), ::testing::StartsWith("dmvlog.toml:2: collectors.requests_5m: unknown collector; did you "
                                                    "mean 'requests_5s'? (collectors: "));
    }
}

TEST(ApplyOverrides, WarnsWhenTimeoutEndsUpLongerThanInterval) {
    auto decls = load_builtin();
    std::vector<std::string> warnings;
    apply_overrides(decls, config_with("[collectors.requests_5s]\ninterval = \"2s\"\n"), &warnings);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0], "dmvlog.toml:1: collectors.requests_5s: timeout (4s) is longer than interval (2s); a run may "
                           "still be going when the next one is due");
    warnings.clear();
    apply_overrides(decls, config_with("[collectors.requests_5s]\ninterval = \"5s\"\n"), &warnings);
    EXPECT_TRUE(warnings.empty());
    // Both set in the override.
    const auto cfg = config_with("\n[collectors.requests_5s]\ninterval = \"1s\"\ntimeout = \"2s\"\n");
    EXPECT_TRUE(cfg.warnings.empty());  // parse does not warn: only apply_overrides sees the final values
    apply_overrides(decls, cfg, &warnings);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0], "dmvlog.toml:2: collectors.requests_5s: timeout (2s) is longer than interval (1s); a run may "
                           "still be going when the next one is due");
    EXPECT_EQ(find_decl(decls, "requests_5s").timeout, std::chrono::seconds(2));
}

// ---- the batch

const std::string kClock =
    "SELECT SYSUTCDATETIME() AS collected_at, DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS utc_offset_minutes, "
    "(SELECT sqlserver_start_time FROM sys.dm_os_sys_info) AS sqlserver_start_time;\n";

TEST(AssembleBatch, RequestsExactText) {
    const auto decls = load_builtin();
    const CollectorDecl& d = find_decl(decls, "requests_5s");
    const std::string sql(*embedded::find("sql/collectors/requests.sql"));
    EXPECT_EQ(assemble_batch(d), "/* dmvlog:requests_5s */\n"
                                 "DECLARE @min_elapsed_ms int = 1000, @max_elapsed_ms int = 30000, @top_rows int = 500;\n" +
                                     kClock + sql);
}

TEST(AssembleBatch, OverriddenParamsAndBigint) {
    auto decls = load_builtin();
    apply_overrides(decls, config_with("[collectors.requests_1m]\nparams = { max_elapsed_ms = 2147483648, top_rows = "
                                       "2147483647 }\n"));
    const std::string batch = assemble_batch(find_decl(decls, "requests_1m"));
    EXPECT_THAT(batch, ::testing::StartsWith("/* dmvlog:requests_1m */\nDECLARE @min_elapsed_ms int = 1000, "
                                             "@max_elapsed_ms bigint = 2147483648, @top_rows int = 2147483647;\n" +
                                             kClock));
}

TEST(AssembleBatch, NoParamsNoDeclareLine) {
    CollectorDecl d;
    d.name = "plain";
    d.sql = "SELECT 1 AS one;\n";
    EXPECT_EQ(assemble_batch(d), "/* dmvlog:plain */\n" + kClock + "SELECT 1 AS one;\n");
    d.params = {{"n", -3000000000LL}, {"m", -2147483648LL}};
    EXPECT_EQ(assemble_batch(d),
              "/* dmvlog:plain */\nDECLARE @n bigint = -3000000000, @m int = -2147483648;\n" + kClock + "SELECT 1 AS one;\n");
}

}  // namespace
}  // namespace dmvlog::collect

namespace dmvlog::collect {
namespace {

TEST(AssembleBatch, RuntimeParamsDatabaseAndVersionVariants) {
    CollectorDecl d;
    d.name = "index_usage";
    d.interval = std::chrono::minutes(1);
    d.sql = "SELECT 1 AS a WHERE @since_ms > 0;";
    d.params = {{"top_rows", 100}};
    d.runtime_params = {"since_ms"};
    d.variants = {SqlVariant{13, "sql/collectors/x_2016.sql", "SELECT 2 AS a WHERE @since_ms > 0;"}};
    BatchContext ctx;
    ctx.server_major_version = 16;
    ctx.database = "Sales]Q";
    ctx.runtime = {{"since_ms", 61000}};
    EXPECT_EQ(assemble_batch(d, ctx),
              "/* dmvlog:index_usage */\n"
              "DECLARE @top_rows int = 100, @since_ms int = 61000;\n"
              "USE [Sales]]Q];\n"
              "SELECT SYSUTCDATETIME() AS collected_at, DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS utc_offset_minutes, "
              "(SELECT sqlserver_start_time FROM sys.dm_os_sys_info) AS sqlserver_start_time;\n"
              "SELECT 1 AS a WHERE @since_ms > 0;");
    ctx.server_major_version = 13;
    ctx.runtime.clear();
    auto older = assemble_batch(d, ctx);
    EXPECT_NE(older.find("SELECT 2 AS a"), std::string::npos) << older;
    EXPECT_NE(older.find("@since_ms int = 120000"), std::string::npos) << "first run: two intervals";
    EXPECT_EQ(&sql_for_version(d, 0), &d.sql);
    EXPECT_EQ(&sql_for_version(d, 14), &d.sql);
}

TEST(QuoteName, BracketsAndRejects) {
    EXPECT_EQ(quote_name("受注管理"), "[受注管理]");
    EXPECT_EQ(quote_name("a]b"), "[a]]b]");
    EXPECT_THROW(quote_name(""), std::invalid_argument);
    EXPECT_THROW(quote_name(std::string("a\nb")), std::invalid_argument);
    EXPECT_THROW(quote_name(std::string(129, 'x')), std::invalid_argument);
}

TEST(ParseDeclaration, RuntimeParamsMustBeKnownAndUsed) {
    auto base = [](const std::string& top) {
        return "sql = \"requests.sql\"\n" + top +
               "columns = [\"session_id smallint\"]\n[[collector]]\nname = \"x\"\ninterval = \"1m\"\n";
    };
    try {
        parse_declaration(base("runtime_params = [\"since_ms\"]\n"), "collectors/t.toml");
        FAIL() << "requests.sql does not use @since_ms";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("is not used (as @since_ms)"), std::string::npos) << e.what();
    }
    try {
        parse_declaration(base("runtime_params = [\"until_ms\"]\n"), "collectors/t.toml");
        FAIL() << "unknown runtime param";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("unknown runtime param 'until_ms'"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace dmvlog::collect
