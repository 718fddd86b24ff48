// Internal: reading the model out of a pugixml tree. Tolerant: missing parts stay empty.
#pragma once

#include <cstdint>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "agent/xe/bpr.h"
#include "agent/xe/deadlock.h"
#include "agent/xe/process.h"

namespace dmvlog::xe::detail {

std::optional<std::int64_t> to_int(std::string_view text);
std::string_view trim(std::string_view text);
// The text of every pcdata/cdata child of node, concatenated.
std::string node_text(pugi::xml_node node);

void read_process(pugi::xml_node process, Process& out);
// node: <blocked-process-report>
void read_blocked_process_report(pugi::xml_node node, BlockedProcessReport& out);
// node: <deadlock> (or <deadlock-list>, whose first <deadlock> is read)
void read_deadlock(pugi::xml_node node, DeadlockReport& out);

}  // namespace dmvlog::xe::detail
