#include "agent/xe/splitter.h"

#include <algorithm>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dmvlog::xe::detail {

namespace {

bool name_char(char c) {
    return !(c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/' || c == '>' || c == '<' || c == '=' ||
             c == '"' || c == '\'');
}

// The index of the first '"', '\'', '<' or '>' in p[k, n), or n.
std::size_t find_special(const char* p, std::size_t k, std::size_t n) {
#if defined(__SSE2__)
    const __m128i dq = _mm_set1_epi8('"'), sq = _mm_set1_epi8('\''), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>');
    while (k + 16 <= n) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, sq)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, gt)));
        int bits = _mm_movemask_epi8(m);
        if (bits) return k + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(bits)));
        k += 16;
    }
#endif
    for (; k < n; ++k) {
        char c = p[k];
        if (c == '"' || c == '\'' || c == '<' || c == '>') return k;
    }
    return n;
}

void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// The value of attribute `want` in a start tag "<name a="1" b='2'>", or "" when absent.
std::string attribute_of(std::string_view tag, std::string_view want) {
    std::size_t i = 1;
    while (i < tag.size() && name_char(tag[i])) ++i;
    while (i < tag.size()) {
        while (i < tag.size() && !name_char(tag[i])) {
            if (tag[i] == '"' || tag[i] == '\'') return {};  // malformed
            ++i;
        }
        std::size_t ns = i;
        while (i < tag.size() && name_char(tag[i])) ++i;
        std::string_view an = tag.substr(ns, i - ns);
        while (i < tag.size() && (tag[i] == ' ' || tag[i] == '\t' || tag[i] == '\r' || tag[i] == '\n')) ++i;
        if (i >= tag.size() || tag[i] != '=') continue;
        ++i;
        while (i < tag.size() && (tag[i] == ' ' || tag[i] == '\t' || tag[i] == '\r' || tag[i] == '\n')) ++i;
        if (i >= tag.size() || (tag[i] != '"' && tag[i] != '\'')) return {};
        char q = tag[i++];
        std::size_t vs = i;
        while (i < tag.size() && tag[i] != q) ++i;
        if (an == want) return std::string(tag.substr(vs, i - vs));
        ++i;
    }
    return {};
}

}  // namespace

void utf16_to_utf8(std::string_view bytes, bool big_endian, std::string& out, std::string& carry_byte,
                   unsigned& pending_high, bool final) {
    std::string joined;
    if (!carry_byte.empty()) {
        joined = carry_byte;
        joined.append(bytes);
        bytes = joined;
        carry_byte.clear();
    }
    std::size_t n = bytes.size() & ~std::size_t{1};
    out.reserve(out.size() + n);
    for (std::size_t i = 0; i < n; i += 2) {
        auto b0 = static_cast<unsigned char>(bytes[i]), b1 = static_cast<unsigned char>(bytes[i + 1]);
        unsigned u = big_endian ? (b0 << 8 | b1) : (b1 << 8 | b0);
        if (pending_high) {
            if (u >= 0xDC00 && u <= 0xDFFF) {
                put_utf8(out, 0x10000 + ((pending_high - 0xD800) << 10) + (u - 0xDC00));
                pending_high = 0;
                continue;
            }
            put_utf8(out, 0xFFFD);
            pending_high = 0;
        }
        if (u >= 0xD800 && u <= 0xDBFF) {
            pending_high = u;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            put_utf8(out, 0xFFFD);
        } else {
            put_utf8(out, u);
        }
    }
    if (n < bytes.size()) carry_byte.assign(bytes.substr(n));
    if (final) {
        if (pending_high) put_utf8(out, 0xFFFD);
        if (!carry_byte.empty()) put_utf8(out, 0xFFFD);
        pending_high = 0;
        carry_byte.clear();
    }
}

Splitter::Splitter(std::istream& in, std::size_t max_bytes, std::size_t chunk_bytes)
    : in_(&in), max_bytes_(max_bytes), chunk_bytes_(chunk_bytes ? chunk_bytes : 1) {
    set_window();
}

Splitter::Splitter(std::string_view text, std::size_t max_bytes) : text_(text), max_bytes_(max_bytes) {
    started_ = true;
    eof_ = true;
    if (text_.size() >= 2 && (static_cast<unsigned char>(text_[0]) == 0xFF && static_cast<unsigned char>(text_[1]) == 0xFE)) {
        unsigned ph = 0;
        utf16_to_utf8(text_.substr(2), false, owned_, raw_, ph, true);
        text_ = owned_;
    } else if (text_.size() >= 2 && static_cast<unsigned char>(text_[0]) == 0xFE &&
               static_cast<unsigned char>(text_[1]) == 0xFF) {
        unsigned ph = 0;
        utf16_to_utf8(text_.substr(2), true, owned_, raw_, ph, true);
        text_ = owned_;
    } else if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") {
        text_.remove_prefix(3);
        base_ = 3;
    }
    set_window();
}

void Splitter::set_window() {
    if (in_) {
        d_ = buf_.data();
        n_ = len_;
    } else {
        d_ = text_.data();
        n_ = text_.size();
    }
}

// Reads more input after the window, first dropping what is before mark_ (pos_ and mark_ are moved with
// it; a caller holding another index must re-base it on mark_, whatever this returns).
bool Splitter::more() {
    if (!in_ || eof_) return false;
    if (mark_ > 0) {
        std::memmove(buf_.data(), buf_.data() + mark_, len_ - mark_);
        len_ -= mark_;
        base_ += mark_;
        pos_ -= mark_;
        mark_ = 0;
    }
    if (started_ && !utf16_) {
        // UTF-8 after the first read: straight into the window (buf_ is only ever grown, its tail unused)
        if (chunk_.capacity() > 64) std::string().swap(chunk_);  // the first read's buffer is not needed any more
        if (buf_.size() < len_ + chunk_bytes_) buf_.resize(std::max(len_ + chunk_bytes_, buf_.size() + buf_.size() / 2));
        in_->read(buf_.data() + len_, static_cast<std::streamsize>(chunk_bytes_));
        auto got = static_cast<std::size_t>(in_->gcount());
        len_ += got;
        set_window();
        if (got == 0) {
            eof_ = true;
            return false;
        }
        return true;
    }
    buf_.resize(len_);
    chunk_.resize(started_ ? chunk_bytes_ : std::max<std::size_t>(chunk_bytes_, 4));  // the first read sees any BOM
    std::string& chunk = chunk_;
    in_->read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    auto got = static_cast<std::size_t>(in_->gcount());
    chunk.resize(got);
    if (got == 0) {
        eof_ = true;
        if (utf16_) {
            std::size_t before = buf_.size();
            utf16_to_utf8({}, utf16_ == 2, buf_, raw_, pending_high_, true);
            len_ = buf_.size();
            set_window();
            return buf_.size() > before;
        }
        set_window();
        return false;
    }
    std::string_view c = chunk;
    if (!started_) {
        // the encoding, from the first bytes
        started_ = true;
        if (c.size() >= 2 && static_cast<unsigned char>(c[0]) == 0xFF && static_cast<unsigned char>(c[1]) == 0xFE) {
            utf16_ = 1;
            c.remove_prefix(2);
        } else if (c.size() >= 2 && static_cast<unsigned char>(c[0]) == 0xFE && static_cast<unsigned char>(c[1]) == 0xFF) {
            utf16_ = 2;
            c.remove_prefix(2);
        } else if (c.size() >= 3 && c.substr(0, 3) == "\xEF\xBB\xBF") {
            c.remove_prefix(3);
            base_ += 3;
        }
    }
    if (utf16_) {
        utf16_to_utf8(c, utf16_ == 2, buf_, raw_, pending_high_, false);
    } else {
        buf_.append(c);
    }
    len_ = buf_.size();
    set_window();
    return true;
}

bool Splitter::is_root(std::string_view name, RootKind& kind) {
    if (name == "event") {
        kind = RootKind::event;
        return true;
    }
    if (name == "blocked-process-report") {
        kind = RootKind::blocked_process_report;
        return true;
    }
    if (name == "deadlock") {
        kind = RootKind::deadlock;
        return true;
    }
    return false;
}

// Scans the markup token starting at d_[i] == '<'. Returns false when the window ends first (more input
// needed); at the end of the input the token is returned as broken, running to the end.
bool Splitter::scan_token(std::size_t i, Token& t) {
    const char* p = d_ + i;
    std::size_t avail = n_ - i;
    auto need_more = [&]() {
        if (!eof_) return false;
        t.kind = Tok::broken;
        t.end = n_;
        t.name = {};
        t.tag = std::string_view(p, avail);
        return true;
    };
    auto skip_to = [&](std::string_view terminator, std::size_t from) {
        std::string_view rest(p + from, avail - from);
        auto k = rest.find(terminator);
        if (k == std::string_view::npos) return need_more();
        t.kind = Tok::skip;
        t.end = i + from + k + terminator.size();
        return true;
    };
    if (avail < 2) return need_more();
    char c1 = p[1];
    if (c1 == '?') return skip_to("?>", 2);
    if (c1 == '!') {
        if (avail < 4) return need_more();
        if (p[2] == '-' && p[3] == '-') return skip_to("-->", 4);
        if (avail < 9) return need_more();
        if (std::memcmp(p, "<![CDATA[", 9) == 0) return skip_to("]]>", 9);
        return skip_to(">", 2);
    }
    bool end_tag = c1 == '/';
    std::size_t k = end_tag ? 2 : 1;
    std::size_t ns = k;
    while (k < avail && name_char(p[k])) ++k;
    if (k >= avail) return need_more();
    t.name = std::string_view(p + ns, k - ns);
    // to the closing '>', skipping quoted attribute values
    char quote = 0;
    for (; k < avail; ++k) {
        if (quote) {
            const void* q = std::memchr(p + k, quote, avail - k);
            if (!q) {
                k = avail;
                break;
            }
            k = static_cast<std::size_t>(static_cast<const char*>(q) - p);
            quote = 0;
            continue;
        }
        k = find_special(p, k, avail);
        if (k >= avail) break;
        char c = p[k];
        if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            break;
        } else {
            // a '<' cannot appear inside a tag: the tag is broken here
            t.kind = Tok::broken;
            t.end = i + k;
            t.tag = std::string_view(p, k);
            return true;
        }
    }
    if (k >= avail) return need_more();
    t.tag = std::string_view(p, k + 1);
    t.end = i + k + 1;
    if (end_tag) {
        t.kind = Tok::end;
    } else if (p[k - 1] == '/') {
        t.kind = Tok::empty;
    } else {
        t.kind = Tok::start;
    }
    if (t.name.empty() && t.kind != Tok::end) t.kind = Tok::skip;
    return true;
}

// The fast path: the index just past the first end tag "</name>" in d_[pos_, n_), when it ends within
// max_bytes_ of start and no start tag of that name or of <event> comes before it (as text: one inside a
// comment or an attribute value counts too); 0 otherwise (also for an end tag written "</name ...>"), and
// the full scan decides.
std::size_t Splitter::find_close(std::size_t start, std::string_view name) const {
    const std::size_t len = name.size();
    const std::size_t limit = max_bytes_ < n_ - start ? start + max_bytes_ : n_;
    constexpr std::size_t kFail = std::string::npos;
    auto named = [&](std::size_t j, std::string_view n) {
        // d_[j] starts a name: is it n, ended by a character that cannot be part of a name?
        if (j + n.size() >= limit) return 2;  // cannot tell here: give up
        if (d_[j] != n[0] || std::memcmp(d_ + j + 1, n.data() + 1, n.size() - 1) != 0) return 0;
        return name_char(d_[j + n.size()]) ? 0 : 1;
    };
    auto at = [&](std::size_t j) -> std::size_t {
        // d_[j] == '<'
        if (d_[j + 1] == '/') {
            int r = named(j + 2, name);
            if (r == 0) return 0;
            if (r == 2 || d_[j + 2 + len] != '>') return kFail;
            return j + 3 + len;
        }
        if (named(j + 1, name) || named(j + 1, "event")) return kFail;
        return 0;
    };
    std::size_t k = pos_;
#if defined(__SSE2__)
    const __m128i lt = _mm_set1_epi8('<');
    while (k + 17 <= limit) {
        __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d_ + k));
        auto bits = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(a, lt)));
        while (bits) {
            std::size_t r = at(k + static_cast<std::size_t>(__builtin_ctz(bits)));
            if (r == kFail) return 0;
            if (r) return r;
            bits &= bits - 1;
        }
        k += 16;
    }
#endif
    for (; k + 1 < limit; ++k) {
        if (d_[k] != '<') continue;
        std::size_t r = at(k);
        if (r == kFail) return 0;
        if (r) return r;
    }
    return 0;
}

bool Splitter::next(Piece& out) {
    Token t;
    // seek the start of the next event element
    for (;;) {
        mark_ = pos_;
        const void* lt = pos_ < n_ ? std::memchr(d_ + pos_, '<', n_ - pos_) : nullptr;
        if (!lt) {
            pos_ = n_;
            mark_ = n_;
            if (!more()) return false;
            continue;
        }
        pos_ = static_cast<std::size_t>(static_cast<const char*>(lt) - d_);
        mark_ = pos_;
        if (!scan_token(pos_, t)) {
            if (!more()) eof_ = true;
            continue;
        }
        RootKind kind;
        if ((t.kind == Tok::start || t.kind == Tok::empty) && is_root(t.name, kind)) {
            std::size_t start = pos_;
            out.root = kind;
            out.event_name = kind == RootKind::event ? attribute_of(t.tag, "name") : std::string();
            out.cut = false;
            out.oversized = false;
            out.speculative = false;
            bool wanted = kind != RootKind::event || out.event_name.empty() ||
                          out.event_name == "blocked_process_report" || out.event_name == "xml_deadlock_report";
            pos_ = t.end;
            if (t.kind == Tok::empty) {
                if (!wanted) {
                    ++skipped_;
                    continue;
                }
                out.xml = std::string_view(d_ + start, pos_ - start);
                out.offset = base_ + start;
                return true;
            }
            if (stack_.empty()) stack_.emplace_back();
            stack_[0].assign(t.name);
            if (wanted) {
                if (std::size_t end = find_close(start, t.name)) {
                    redo_start_ = start;
                    redo_pos_ = pos_;
                    out.speculative = true;
                    out.xml = std::string_view(d_ + start, end - start);
                    out.offset = base_ + start;
                    pos_ = end;
                    return true;
                }
            }
            if (capture(start, out)) {
                if (!wanted) {
                    ++skipped_;
                    continue;
                }
                return true;
            }
            continue;
        }
        pos_ = t.end > pos_ ? t.end : pos_ + 1;
    }
}

bool Splitter::redo(Piece& out) {
    pos_ = redo_pos_;
    mark_ = redo_start_;
    out.cut = false;
    out.oversized = false;
    out.speculative = false;
    return capture(redo_start_, out);
}

// Captures the element starting at start (its start tag read, pos_ just after it, its name in stack_[0]) to
// the matching end tag. False when that gives no piece.
bool Splitter::capture(std::size_t start, Piece& out) {
    Token t;
    std::size_t depth = 1;
    std::string root_name = stack_[0];
    std::size_t end = 0;
    bool done = false;
    while (!done) {
        mark_ = start;
        if (pos_ - start > max_bytes_) {
            // cut here; the remainder of this element is passed over in seek mode
            out.cut = out.oversized = true;
            end = start + max_bytes_;
            pos_ = end;
            break;
        }
        const void* q = pos_ < n_ ? std::memchr(d_ + pos_, '<', n_ - pos_) : nullptr;
        if (!q) {
            pos_ = n_;
            bool got = more();
            start = mark_;  // more() moves the window even when nothing more comes
            if (!got) {
                out.cut = true;
                end = n_;
                break;
            }
            continue;
        }
        std::size_t i = static_cast<std::size_t>(static_cast<const char*>(q) - d_);
        pos_ = i;
        if (!scan_token(i, t)) {
            if (!more()) eof_ = true;
            start = mark_;
            continue;
        }
        switch (t.kind) {
            case Tok::skip:
                pos_ = t.end;
                break;
            case Tok::broken:
                // a tag cut by the end of input or by a '<': let the XML parser say what is wrong
                pos_ = t.end == i ? i + 1 : t.end;
                if (pos_ >= n_ && eof_) {
                    out.cut = true;
                    end = n_;
                    done = true;
                }
                break;
            case Tok::start:
            case Tok::empty:
                if (t.name == root_name || t.name == "event") {
                    out.cut = true;  // the next event starts inside this one: this one was truncated
                    end = i;
                    done = true;
                    break;
                }
                if (t.kind == Tok::start) {
                    if (depth == stack_.size()) stack_.emplace_back();
                    stack_[depth++].assign(t.name);
                }
                pos_ = t.end;
                break;
            case Tok::end: {
                std::size_t k = depth;
                while (k > 0 && stack_[k - 1] != t.name) --k;
                if (k == 0) {
                    out.cut = true;  // the end of an element around this one: this one was truncated
                    end = i;
                    done = true;
                    break;
                }
                depth = k - 1;
                pos_ = t.end;
                if (depth == 0) {
                    end = pos_;
                    done = true;
                }
                break;
            }
        }
    }
    if (end > start || out.cut) {
        out.xml = std::string_view(d_ + start, end - start);
        out.offset = base_ + start;
        return true;
    }
    return false;
}

}  // namespace dmvlog::xe::detail
