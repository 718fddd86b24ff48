#include <cstring>

#include "agent/xe/extract.h"

namespace dmvlog::xe::detail {

namespace {

void read_request(pugi::xml_node n, std::vector<LockRequest>& out) {
    LockRequest r;
    r.id = n.attribute("id").value();
    if (auto a = n.attribute("mode")) r.mode = a.value();
    if (auto a = n.attribute("requestType")) r.request_type = a.value();
    out.push_back(std::move(r));
}

void read_resource(pugi::xml_node n, LockResource& r) {
    r.type = n.name();
    for (auto a : n.attributes()) {
        const char* k = a.name();
        const char* v = a.value();
        r.attributes.emplace_back(k, v);
        if (std::strcmp(k, "id") == 0) r.id = v;
        else if (std::strcmp(k, "dbid") == 0) r.database_id = to_int(v);
        else if (std::strcmp(k, "objectname") == 0) r.object_name = v;
        else if (std::strcmp(k, "objname") == 0) {
            if (!r.object_name) r.object_name = v;
        } else if (std::strcmp(k, "indexname") == 0) r.index_name = v;
        else if (std::strcmp(k, "mode") == 0) r.mode = v;
        else if (std::strcmp(k, "hobtid") == 0) r.hobt_id = to_int(v);
        else if (std::strcmp(k, "associatedObjectId") == 0) r.associated_object_id = to_int(v);
        else if (std::strcmp(k, "objid") == 0) r.object_id = to_int(v);
        else if (std::strcmp(k, "fileid") == 0) r.file_id = to_int(v);
        else if (std::strcmp(k, "pageid") == 0) r.page_id = to_int(v);
        else if (std::strcmp(k, "WaitType") == 0) r.wait_type = v;
        else if (std::strcmp(k, "nodeId") == 0) r.node_id = to_int(v);
    }
    // objectname wins over objname whatever their order
    if (auto a = n.attribute("objectname")) r.object_name = a.value();
    for (auto c : n.children()) {
        if (c.type() != pugi::node_element) continue;
        const char* k = c.name();
        if (std::strcmp(k, "owner-list") == 0) {
            for (auto o : c.children("owner")) read_request(o, r.owners);
        } else if (std::strcmp(k, "waiter-list") == 0) {
            for (auto w : c.children("waiter")) read_request(w, r.waiters);
        } else if (std::strcmp(k, "owner") == 0) {
            read_request(c, r.owners);
        } else if (std::strcmp(k, "waiter") == 0) {
            read_request(c, r.waiters);
        }
    }
}

}  // namespace

void read_deadlock(pugi::xml_node node, DeadlockReport& out) {
    if (std::strcmp(node.name(), "deadlock-list") == 0) {
        if (auto d = node.child("deadlock")) node = d;
    }
    if (auto v = node.attribute("victim")) {
        // the old format: <deadlock victim="process..">
        if (*v.value()) out.victims.emplace_back(v.value());
    }
    for (auto c : node.children()) {
        if (c.type() != pugi::node_element) continue;
        const char* k = c.name();
        if (std::strcmp(k, "victim-list") == 0) {
            for (auto v : c.children("victimProcess")) {
                std::string id = v.attribute("id").value();
                if (!out.is_victim(id)) out.victims.push_back(std::move(id));
            }
        } else if (std::strcmp(k, "process-list") == 0) {
            for (auto p : c.children("process")) {
                out.processes.emplace_back();
                read_process(p, out.processes.back());
            }
        } else if (std::strcmp(k, "resource-list") == 0) {
            for (auto r : c.children()) {
                if (r.type() != pugi::node_element) continue;
                out.resources.emplace_back();
                read_resource(r, out.resources.back());
            }
        }
    }
}

}  // namespace dmvlog::xe::detail
