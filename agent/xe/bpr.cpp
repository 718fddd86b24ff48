#include <cstring>

#include "agent/xe/extract.h"

namespace dmvlog::xe::detail {

namespace {

void clear_envelope_fields(BlockedProcessReport& out) {
    out.duration_us.reset();
    out.database_id.reset();
    out.database_name.reset();
    out.object_id.reset();
    out.index_id.reset();
    out.lock_mode.reset();
    out.transaction_id.reset();
}

}  // namespace

void read_blocked_process_report(pugi::xml_node node, BlockedProcessReport& out) {
    clear_envelope_fields(out);
    out.monitor_loop.reset();
    if (auto a = node.attribute("monitorLoop")) out.monitor_loop = to_int(a.value());
    out.has_blocking = false;
    ProcessReader blocked(out.blocked), blocking(out.blocking);
    for (auto c = node.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        if (std::strcmp(c.name(), "blocked-process") == 0) {
            if (auto p = c.child("process")) blocked.read(p);
        } else if (std::strcmp(c.name(), "blocking-process") == 0) {
            if (auto p = c.child("process")) {
                blocking.read(p);
                out.has_blocking = true;
            }
        }
    }
    blocked.finish();
    blocking.finish();
}

void clear(BlockedProcessReport& out) {
    clear_envelope_fields(out);
    out.monitor_loop.reset();
    out.has_blocking = false;
    ProcessReader(out.blocked).finish();
    ProcessReader(out.blocking).finish();
}

}  // namespace dmvlog::xe::detail
