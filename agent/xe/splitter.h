// Internal: splits a byte stream of XML documents into the elements that hold one event each
// (<event>, <blocked-process-report>, <deadlock>), descending into any other element (RingBufferTarget,
// deadlock-list, a wrapper) without building a tree. Robust to truncation: an element that does not end
// (end of input, the start of the next event, or the end tag of an element around it) is returned cut.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace dmvlog::xe::detail {

enum class RootKind { event, blocked_process_report, deadlock };

struct Piece {
    std::string_view xml;         // valid until the next call of next()
    std::uint64_t offset = 0;     // of xml in the (UTF-8) input
    RootKind root = RootKind::event;
    std::string event_name;       // <event name=".."> ("" when absent)
    bool cut = false;             // the element did not end where the piece ends
    bool oversized = false;       // cut because it exceeded the size limit
    // Found by the fast path: the first end tag of the root's name after the start tag, without scanning the
    // markup between. Exact when that text parses as one well-formed element with no nested element of the
    // root's name or named event (see Splitter::redo); otherwise the caller calls redo().
    bool speculative = false;
};

class Splitter {
public:
    Splitter(std::istream& in, std::size_t max_bytes, std::size_t chunk_bytes = 1u << 20);
    Splitter(std::string_view text, std::size_t max_bytes);

    // The next element holding a blocked_process_report or an xml_deadlock_report (events with another name
    // are passed over and counted in skipped()). False at the end of the input.
    bool next(Piece& out);

    // After next() gave a speculative piece that did not check out: the same element found by the full scan
    // of its markup (what next() gives without the fast path). False when that yields no piece; next() then
    // goes on after it.
    bool redo(Piece& out);

    std::uint64_t skipped() const { return skipped_; }
    std::uint64_t consumed() const { return base_ + pos_; }

private:
    enum class Tok { start, empty, end, skip, broken };
    struct Token {
        Tok kind = Tok::skip;
        std::string_view name;
        std::string_view tag;   // the whole tag text "<...>"
        std::size_t end = 0;    // index just past the token
    };

    bool more();                                   // read more input; false at the end
    bool scan_token(std::size_t i, Token& t);      // false: need more input
    void set_window();
    bool capture(std::size_t start, Piece& out);   // the full scan from pos_ to the root's end (stack_[0])
    std::size_t find_close(std::size_t start, std::string_view name) const;
    static bool is_root(std::string_view name, RootKind& kind);

    std::istream* in_ = nullptr;
    std::string buf_;               // stream mode: the window is buf_[0, len_)
    std::size_t len_ = 0;
    std::string owned_;             // UTF-16 text converted, in view mode
    std::string_view text_;
    const char* d_ = nullptr;
    std::size_t n_ = 0;
    std::size_t pos_ = 0;           // scan position in the window
    std::size_t mark_ = 0;          // the window is kept from here on when reading more
    std::uint64_t base_ = 0;        // input offset of window index 0
    bool eof_ = false;
    bool started_ = false;
    int utf16_ = 0;                 // 0: UTF-8, 1: UTF-16LE, 2: UTF-16BE
    std::string chunk_;             // read buffer
    std::string raw_;               // undecoded UTF-16 bytes carried over
    unsigned pending_high_ = 0;     // a high surrogate carried over
    std::size_t max_bytes_;
    std::size_t chunk_bytes_ = 1u << 20;
    std::uint64_t skipped_ = 0;
    std::vector<std::string> stack_;
    std::size_t redo_start_ = 0;    // the speculative piece's start, and the index just after its start tag
    std::size_t redo_pos_ = 0;
};

// Converts UTF-16 (little or big endian, no BOM) to UTF-8; unpaired surrogates become U+FFFD.
// carry: an odd trailing byte and/or a pending high surrogate between calls.
void utf16_to_utf8(std::string_view bytes, bool big_endian, std::string& out, std::string& carry_byte,
                   unsigned& pending_high, bool final);

}  // namespace dmvlog::xe::detail
