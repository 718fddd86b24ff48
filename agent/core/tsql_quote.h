// Quoting configuration values into T-SQL. dmvlog never pastes a configured value into SQL as it is: names
// (databases, event sessions) go in as identifiers the way QUOTENAME() quotes them, text (file paths, names
// compared with a column) as N'...' literals with quotes doubled, and anything a value could use to break out
// (NUL, control characters, over-long names) is refused with std::invalid_argument naming what was wrong.
// Values that can be bound as parameters (XE path, bookmark) are bound instead (collect/declaration.h).
#pragma once

#include <string>
#include <string_view>

namespace dmvlog::tsql {

// [name] with "]" doubled, like QUOTENAME(name). what names the value in the error ("database name").
// Refuses "" , more than 128 characters (UTF-8 code points) and control characters (below U+0020, and DEL).
std::string quote_identifier(std::string_view name, std::string_view what = "name");

// N'text' with "'" doubled. Refuses NUL and other control characters except tab; max_chars (code points)
// bounds the length (0 = no bound).
std::string quote_literal(std::string_view text, std::string_view what = "text", std::size_t max_chars = 0);

// Whether quote_identifier would accept name ("" when it would, else the reason).
std::string identifier_problem(std::string_view name);

}  // namespace dmvlog::tsql
