// Every statement the SQL Server store (mssql_store.h) sends, built in one place so that the T-SQL grammar
// check sees exactly what runs (`dmvlog schema print --store sqlserver: --statements`). Each starts with the
// tag comment /* dmvlog:store */ (it names dmvlog in a trace, and the simulator routes by it); `?` marks a
// parameter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/store/store.h"

namespace dmvlog::store::mssql_sql {

inline constexpr std::string_view kTag = "/* dmvlog:store */ ";

// A value read from SQL Server as the store's text (times 'YYYY-MM-DD HH:MM:SS.fffffff', numbers in full) and
// as an integer; what the stores' shared row code expects whatever type the driver returned.
std::string text_of(const Value& v);
std::int64_t int_of(const Value& v);

// dbo.[name] with "]" doubled.
std::string table_name(const std::string& name);
const char* column_type(collect::StorageClass s);

// Collector table DDL: create when missing, add columns declared since, clustered index on (instance, collected_at).
std::string create_table(const TableSpec& t);
std::string add_column(const TableSpec& t, const ColumnSpec& c);
// INSERT of `rows` rows at once (VALUES (...), (...)): each execution of it carries rows * (columns + 3)
// parameters, at most 2,100 as SQL Server allows.
std::string insert_rows(const TableSpec& t, std::size_t rows = 1);
// How many rows one INSERT of this table carries: as many as fit in 2,000 parameters, at most 100.
std::size_t rows_per_insert(const TableSpec& t);
std::string delete_snapshot_rows(const std::string& table);
// 1 when dbo.[table] is a table or view, else 0 (the name goes in as a literal: OBJECT_ID of a parameter
// makes no difference on SQL Server, and names come from the code, never from configuration).
std::string table_exists(const std::string& table);

// Core and XE statements, by name (the names are used in error messages).
struct Statement {
    std::string name;
    std::string sql;
};
const std::vector<Statement>& core();
const std::string& get(std::string_view name);

// Every statement for these collector tables: the core ones, then each table's, for the grammar check.
std::string all(const std::vector<TableSpec>& tables);

}  // namespace dmvlog::store::mssql_sql
