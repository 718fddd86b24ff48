// The analysis SQL (sql/analysis/*.sql, written for SQLite and PostgreSQL alike) in SQL Server's dialect, for
// reading a SQL Server store. The differences are few and mechanical:
//   :name parameters          -> ? markers, in order (a name used twice is bound twice)
//   a || ':' || b              -> CONCAT(a, ':', b)
//   ... ORDER BY x LIMIT n     -> ... ORDER BY x OFFSET 0 ROWS FETCH NEXT n ROWS ONLY
//   EXISTS (... LIMIT 1)       -> EXISTS (...)
// Every translated statement is parsed by the T-SQL grammar check in CI (`dmvlog schema print --store
// sqlserver: --statements` prints them), since no SQL Server runs there.
#pragma once

#include <string>
#include <vector>

namespace dmvlog::query {

// The statement in T-SQL; names receives the parameter name of each ? in order (":name").
std::string to_tsql(const std::string& sql, std::vector<std::string>& names);

// Every statement of sql/analysis/*.sql in T-SQL, each preceded by a "-- FILE: NAME" line and ended by ";",
// with ? markers replaced by @p1, @p2, ... so that the text parses as T-SQL on its own.
std::string analysis_in_tsql();

}  // namespace dmvlog::query
