// The xml_deadlock_report event (and the deadlock graph of trace flag 1222 / Profiler's Deadlock graph):
// victims, processes and the resources they own and wait for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/xe/process.h"

namespace dmvlog::xe {

// <owner id=".." mode=".."/> or <waiter id=".." mode=".." requestType="wait"/>
struct LockRequest {
    std::string id;                            // the process id ("process2d3c4e8c8")
    std::optional<std::string> mode;           // absent for exchangeEvent owners/waiters
    std::optional<std::string> request_type;   // waiters: "wait", "convert"
    friend bool operator==(const LockRequest&, const LockRequest&) = default;
};

// One element of <resource-list>: keylock, pagelock, objectlock, ridlock, exchangeEvent, databaselock,
// metadatalock, applicationlock, threadpool, resourceWait, ... (type is the element name).
struct LockResource {
    std::string type;
    Attributes attributes;                         // every attribute: (name, value) in document order
    std::optional<std::string> id;                 // id ("lock1f0e2c3d80", "Pipe2a1f7e3c0")
    std::optional<std::int64_t> database_id;       // dbid
    std::optional<std::string> object_name;        // objectname, else objname
    std::optional<std::string> index_name;         // indexname
    std::optional<std::string> mode;
    std::optional<std::int64_t> hobt_id;           // hobtid
    std::optional<std::int64_t> associated_object_id;
    std::optional<std::int64_t> object_id;         // objid
    std::optional<std::int64_t> file_id;           // fileid
    std::optional<std::int64_t> page_id;           // pageid
    std::optional<std::string> wait_type;          // exchangeEvent WaitType (e_waitPipeGetRow, e_waitPortOpen, ...)
    std::optional<std::int64_t> node_id;           // exchangeEvent nodeId (the plan node)
    std::vector<LockRequest> owners;
    std::vector<LockRequest> waiters;

    const std::string* attribute(std::string_view name) const { return find_attribute(attributes, name); }
};

struct DeadlockReport {
    std::vector<std::string> victims;     // <victim-list><victimProcess id>, or <deadlock victim=".."> (old format)
    std::vector<Process> processes;       // <process-list>
    std::vector<LockResource> resources;  // <resource-list>

    bool is_victim(const std::string& process_id) const {
        for (const auto& v : victims)
            if (v == process_id) return true;
        return false;
    }
    const Process* process(const std::string& process_id) const {
        for (const auto& p : processes)
            if (p.id && *p.id == process_id) return &p;
        return nullptr;
    }
};

}  // namespace dmvlog::xe
