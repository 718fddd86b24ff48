// What the spool keeps: a snapshot with its run record, or a run record alone, as a compact binary payload.
// Little-endian; strings and byte strings are a u32 length and the bytes; every value carries a one-byte tag.
// The payload's layout is versioned by the record header's format version (agent/store/spool.h).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "agent/store/store.h"

namespace dmvlog::store {

struct SpoolRecord {
    std::optional<Snapshot> snapshot;   // nullopt: a run record without a snapshot
    RunRecord run;
    friend bool operator==(const SpoolRecord&, const SpoolRecord&);
};

// A payload that does not decode (it passed its CRC, so it comes from a different format or a bug).
class SpoolFormatError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::string encode_spool_record(const SpoolRecord& record);
// The same from the parts, without copying the snapshot (nullptr: a run record alone), appended to prefix (the
// bytes before the payload, such as the spool's record header).
std::string encode_spool_record(const Snapshot* snapshot, const RunRecord& run, std::string prefix = {});
// Throws SpoolFormatError naming what could not be read and at which byte.
SpoolRecord decode_spool_record(std::string_view payload);

}  // namespace dmvlog::store
