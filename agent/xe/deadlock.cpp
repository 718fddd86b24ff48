#include <cstring>

#include "agent/xe/extract.h"

namespace dmvlog::xe::detail {

namespace {

// The next element of list, reused when it is there; n counts the elements written.
template <typename T>
T& slot(std::vector<T>& list, std::size_t& n) {
    if (n == list.size()) list.emplace_back();
    return list[n++];
}

template <typename T>
void drop_from(std::vector<T>& list, std::size_t n) {
    if (n < list.size()) list.erase(list.begin() + static_cast<std::ptrdiff_t>(n), list.end());
}

void read_request(pugi::xml_node n, std::vector<LockRequest>& out, std::size_t& count) {
    LockRequest& r = slot(out, count);
    copy_to(r.id, n.attribute("id").value());
    if (auto a = n.attribute("mode")) set_text(r.mode, a.value());
    else r.mode.reset();
    if (auto a = n.attribute("requestType")) set_text(r.request_type, a.value());
    else r.request_type.reset();
}

enum : unsigned { kId = 1, kObjectName = 2, kIndexName = 4, kMode = 8, kWaitType = 16 };

void read_resource(pugi::xml_node n, LockResource& r) {
    copy_to(r.type, n.name());
    r.database_id.reset();
    r.hobt_id.reset();
    r.associated_object_id.reset();
    r.object_id.reset();
    r.file_id.reset();
    r.page_id.reset();
    r.node_id.reset();
    unsigned seen = 0;
    std::size_t attributes = 0;
    const char* objectname = nullptr;  // the first objectname attribute
    for (auto a = n.first_attribute(); a; a = a.next_attribute()) {
        const char* k = a.name();
        const char* v = a.value();
        if (attributes < r.attributes.size()) {
            copy_to(r.attributes[attributes].first, k);
            copy_to(r.attributes[attributes].second, v);
        } else {
            r.attributes.emplace_back(k, v);
        }
        ++attributes;
        if (std::strcmp(k, "id") == 0) set_text(r.id, v), seen |= kId;
        else if (std::strcmp(k, "dbid") == 0) r.database_id = to_int(v);
        else if (std::strcmp(k, "objectname") == 0) {
            set_text(r.object_name, v), seen |= kObjectName;
            if (!objectname) objectname = v;
        } else if (std::strcmp(k, "objname") == 0) {
            if (!(seen & kObjectName)) set_text(r.object_name, v), seen |= kObjectName;
        } else if (std::strcmp(k, "indexname") == 0) set_text(r.index_name, v), seen |= kIndexName;
        else if (std::strcmp(k, "mode") == 0) set_text(r.mode, v), seen |= kMode;
        else if (std::strcmp(k, "hobtid") == 0) r.hobt_id = to_int(v);
        else if (std::strcmp(k, "associatedObjectId") == 0) r.associated_object_id = to_int(v);
        else if (std::strcmp(k, "objid") == 0) r.object_id = to_int(v);
        else if (std::strcmp(k, "fileid") == 0) r.file_id = to_int(v);
        else if (std::strcmp(k, "pageid") == 0) r.page_id = to_int(v);
        else if (std::strcmp(k, "WaitType") == 0) set_text(r.wait_type, v), seen |= kWaitType;
        else if (std::strcmp(k, "nodeId") == 0) r.node_id = to_int(v);
    }
    drop_from(r.attributes, attributes);
    // objectname wins over objname whatever their order
    if (objectname) copy_to(*r.object_name, objectname);
    if (!(seen & kId)) r.id.reset();
    if (!(seen & kObjectName)) r.object_name.reset();
    if (!(seen & kIndexName)) r.index_name.reset();
    if (!(seen & kMode)) r.mode.reset();
    if (!(seen & kWaitType)) r.wait_type.reset();
    std::size_t owners = 0, waiters = 0;
    for (auto c = n.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        const char* k = c.name();
        if (std::strcmp(k, "owner-list") == 0) {
            for (auto o = c.child("owner"); o; o = o.next_sibling("owner")) read_request(o, r.owners, owners);
        } else if (std::strcmp(k, "waiter-list") == 0) {
            for (auto w = c.child("waiter"); w; w = w.next_sibling("waiter")) read_request(w, r.waiters, waiters);
        } else if (std::strcmp(k, "owner") == 0) {
            read_request(c, r.owners, owners);
        } else if (std::strcmp(k, "waiter") == 0) {
            read_request(c, r.waiters, waiters);
        }
    }
    drop_from(r.owners, owners);
    drop_from(r.waiters, waiters);
}

}  // namespace

void read_deadlock(pugi::xml_node node, DeadlockReport& out) {
    if (std::strcmp(node.name(), "deadlock-list") == 0) {
        if (auto d = node.child("deadlock")) node = d;
    }
    std::size_t victims = 0, processes = 0, resources = 0;
    auto add_victim = [&](const char* id) {
        for (std::size_t i = 0; i < victims; ++i)
            if (out.victims[i] == id) return;
        copy_to(slot(out.victims, victims), id);
    };
    if (auto v = node.attribute("victim")) {
        // the old format: <deadlock victim="process..">
        if (*v.value()) copy_to(slot(out.victims, victims), v.value());
    }
    for (auto c = node.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        const char* k = c.name();
        if (std::strcmp(k, "victim-list") == 0) {
            for (auto v = c.child("victimProcess"); v; v = v.next_sibling("victimProcess")) add_victim(v.attribute("id").value());
        } else if (std::strcmp(k, "process-list") == 0) {
            for (auto p = c.child("process"); p; p = p.next_sibling("process")) {
                ProcessReader r(slot(out.processes, processes));
                r.read(p);
                r.finish();
            }
        } else if (std::strcmp(k, "resource-list") == 0) {
            for (auto r = c.first_child(); r; r = r.next_sibling()) {
                if (r.type() != pugi::node_element) continue;
                read_resource(r, slot(out.resources, resources));
            }
        }
    }
    drop_from(out.victims, victims);
    drop_from(out.processes, processes);
    drop_from(out.resources, resources);
}

void clear(DeadlockReport& out) {
    out.victims.clear();
    out.processes.clear();
    out.resources.clear();
}

}  // namespace dmvlog::xe::detail
