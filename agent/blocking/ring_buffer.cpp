#include "agent/blocking/ring_buffer.h"

#include <algorithm>

namespace dmvlog::blocking {

RingSelection select_ring_events(const std::vector<RingEvent>& events, const RingBookmark& bookmark) {
    RingSelection out;
    out.next = bookmark;
    std::optional<std::int64_t> oldest, newest;
    for (const auto& e : events) {
        if (!e.ticks) continue;
        oldest = std::min(oldest.value_or(*e.ticks), *e.ticks);
        newest = std::max(newest.value_or(*e.ticks), *e.ticks);
    }
    auto seen = [&](std::int64_t h) {
        return std::find(bookmark.hashes.begin(), bookmark.hashes.end(), h) != bookmark.hashes.end();
    };
    for (std::size_t i = 0; i < events.size(); ++i) {
        const auto& e = events[i];
        if (e.ticks && bookmark.ticks) {
            if (*e.ticks < *bookmark.ticks) {
                ++out.older;
                continue;
            }
            if (*e.ticks == *bookmark.ticks && seen(e.hash)) {
                ++out.repeated;
                continue;
            }
        }
        out.take.push_back(i);
    }
    if (bookmark.ticks && oldest && *oldest > *bookmark.ticks) out.possible_loss = true;
    if (newest && (!bookmark.ticks || *newest > *bookmark.ticks)) {
        out.next.ticks = newest;
        out.next.hashes.clear();
    }
    if (out.next.ticks) {
        for (const auto& e : events)
            if (e.ticks == out.next.ticks && std::find(out.next.hashes.begin(), out.next.hashes.end(), e.hash) ==
                                                  out.next.hashes.end())
                out.next.hashes.push_back(e.hash);
    }
    return out;
}

}  // namespace dmvlog::blocking
