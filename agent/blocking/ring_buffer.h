// What one read of a ring_buffer target adds (docs/xe.md, "Fallbacks"). A ring buffer is read whole each
// time and wraps (its oldest events are dropped), and events of one deadlock-monitor pass share a timestamp,
// so the bookmark is the newest event time read plus the content hashes of the events at that time. The next
// read takes the events at or after that time (>=, so that events sharing it and arriving later are kept)
// whose hash is not among those. Events older than the bookmark were read before (or wrapped away).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace dmvlog::blocking {

// One event of the buffer, in buffer order.
struct RingEvent {
    std::optional<std::int64_t> ticks;   // its timestamp (UTC ticks); nullopt when it has none (malformed)
    std::int64_t hash = 0;               // store::xe_content_hash of its XML
};

struct RingBookmark {
    std::optional<std::int64_t> ticks;   // newest event time read; nullopt: nothing read yet
    std::vector<std::int64_t> hashes;    // the events read at that time
    bool operator==(const RingBookmark&) const = default;
};

struct RingSelection {
    std::vector<std::size_t> take;       // indexes of the events to store, in buffer order
    RingBookmark next;                   // the bookmark after storing them
    std::int64_t older = 0;              // events before the bookmark: read before, passed over
    std::int64_t repeated = 0;           // events at the bookmark's time that were read before
    // The buffer's oldest event is newer than the bookmark: it wrapped past events that were never read (or
    // there were none in between; the buffer cannot tell).
    bool possible_loss = false;
};

// Events without a timestamp are always offered (the store keeps each once by its content hash); they do not
// move the bookmark.
RingSelection select_ring_events(const std::vector<RingEvent>& events, const RingBookmark& bookmark);

}  // namespace dmvlog::blocking
