#include <cstring>

#include "agent/xe/extract.h"

namespace dmvlog::xe::detail {

void read_blocked_process_report(pugi::xml_node node, BlockedProcessReport& out) {
    if (auto a = node.attribute("monitorLoop")) out.monitor_loop = to_int(a.value());
    for (auto c : node.children()) {
        if (c.type() != pugi::node_element) continue;
        if (std::strcmp(c.name(), "blocked-process") == 0) {
            if (auto p = c.child("process")) read_process(p, out.blocked);
        } else if (std::strcmp(c.name(), "blocking-process") == 0) {
            if (auto p = c.child("process")) {
                read_process(p, out.blocking);
                out.has_blocking = true;
            }
        }
    }
}

}  // namespace dmvlog::xe::detail
