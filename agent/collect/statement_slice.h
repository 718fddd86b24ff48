// The statement a request is running, cut from its batch text by the offsets SQL Server reports
// (sys.dm_exec_requests.statement_start_offset / statement_end_offset and the like).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dmvlog::collect {

// batch_utf8 is the batch text as UTF-8; the offsets are BYTES into its UTF-16 form, as SQL Server reports
// them. The slice follows Microsoft's documented formula
//     SUBSTRING(text, start/2 + 1, ((end == -1 ? DATALENGTH(text) : end) - start)/2 + 1)
// i.e. the UTF-16 code units [start/2, end/2 + 1), clamped to the text. Details:
// - a NULL start is 0, a NULL end is -1; any negative end means "to the end of the text", a negative start is 0;
// - odd offsets are rounded down to a whole code unit;
// - a slice never splits a surrogate pair: a start inside a pair moves back to its first unit, an end inside
//   a pair moves past its second unit;
// - inconsistent offsets (start past the end of the text, or start > end) give the WHOLE batch, because an
//   empty statement would hide what the request is running;
// - an empty batch gives "".
std::string slice_statement(std::string_view batch_utf8, std::optional<long long> start_offset,
                            std::optional<long long> end_offset);

}  // namespace dmvlog::collect
