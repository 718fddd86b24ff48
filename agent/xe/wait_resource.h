// Decoding of SQL Server wait-resource text, as it appears in the waitresource attribute of blocked-process
// and deadlock reports (and in sys.dm_exec_requests.wait_resource / sys.dm_os_waiting_tasks).
//
//   KEY: db:hobt (hash)                 KEY: 7:72057594045595648 (8194443284a0)
//   PAGE: db:file:page                  PAGE: 7:1:104
//   RID: db:file:page:slot              RID: 7:1:104:3
//   OBJECT: db:object:lock_partition    OBJECT: 7:1330103779:0   (TAB: db:object:index, the old spelling)
//   APPLICATION: db:principal:[name]:(hash)
//   METADATA: database_id = 7 STATS(object_id = 5, stats_id = 2), lockPartitionId = 0
//   DATABASE: db[:...]  FILE: db:file  EXTENT: db:file:page  HOBT: db:hobt  ALLOCATION_UNIT: db:allocation_unit
//   objectlock lockPartition=0 objid=5 subresource=FULL dbid=7 id=lock1c2d mode=X   (lock-description style)
//
// What is recognised is decoded; the raw text is always kept, and anything else is kind "unknown".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dmvlog::xe {

enum class WaitResourceKind {
    none,             // empty text: not waiting on a lock
    key,
    page,
    rid,
    object,
    application,
    metadata,
    database,
    file,
    extent,
    hobt,
    allocation_unit,
    exchange,         // exchangeEvent (parallelism) in the lock-description style
    unknown,          // text kept in raw only
};

// "key", "page", ... (the JSON spelling).
std::string_view to_string(WaitResourceKind kind);

struct WaitResource {
    std::string raw;  // the text as written (never altered)
    WaitResourceKind kind = WaitResourceKind::none;
    std::optional<std::int64_t> database_id;
    std::optional<std::int64_t> hobt_id;             // KEY, HOBT, keylock hobtid
    std::optional<std::int64_t> allocation_unit_id;  // ALLOCATION_UNIT
    std::optional<std::int64_t> file_id;             // PAGE, RID, EXTENT, FILE
    std::optional<std::int64_t> page_id;             // PAGE, RID, EXTENT
    std::optional<std::int64_t> slot;                // RID
    std::optional<std::int64_t> object_id;           // OBJECT, objectlock objid
    std::optional<std::int64_t> index_id;            // TAB: db:object:index
    std::optional<std::int64_t> lock_partition;      // OBJECT third number, lockPartition=, lockPartitionId =
    std::optional<std::int64_t> principal_id;        // APPLICATION
    std::string key_hash;      // KEY "(8194443284a0)" without the parentheses; APPLICATION's hash
    std::string name;          // APPLICATION resource name (between the brackets); exchangeEvent id
    std::string subresource;   // METADATA "STATS(object_id = 5, stats_id = 2)", subresource=, trailing "[COMPILE]"
    friend bool operator==(const WaitResource&, const WaitResource&) = default;
};

// Never throws; text it does not understand gives kind unknown (or none when empty/blank).
WaitResource decode_wait_resource(std::string_view text);
// The same into out, every field written (its strings' memory reused).
void decode_wait_resource(std::string_view text, WaitResource& out);

}  // namespace dmvlog::xe
