#include "agent/xe/envelope.h"

#include <cstring>
#include <optional>

#include "agent/core/time_format.h"
#include "agent/xe/extract.h"
#include "agent/xe/splitter.h"

namespace dmvlog::xe {

std::string_view to_string(EventType type) {
    switch (type) {
        case EventType::blocked_process_report: return "blocked_process_report";
        case EventType::xml_deadlock_report: return "xml_deadlock_report";
        case EventType::other: return "other";
    }
    return "other";
}

std::string ParseError::describe() const { return what + " at byte " + std::to_string(offset) + " of the event"; }

namespace detail {

namespace {

// Conforming XML: escapes and character references resolved, line ends normalised, attribute whitespace
// normalised (as any XML reader, and SQL Server's own xml type, sees the text). parse_embed_pcdata changes
// the tree, not the text: an element's first PCDATA is kept as the element's value instead of a node of its
// own (one node fewer for every <value>, <inputbuf> and <frame>); node_text() and trimmed_text() read it there.
constexpr unsigned kFlags = pugi::parse_default | pugi::parse_embed_pcdata;

pugi::xml_node first_element(pugi::xml_node parent) {
    for (auto c : parent.children())
        if (c.type() == pugi::node_element) return c;
    return {};
}

bool is(pugi::xml_node n, const char* name) { return std::strcmp(n.name(), name) == 0; }

EventType type_of_name(std::string_view name) {
    if (name == "blocked_process_report") return EventType::blocked_process_report;
    if (name == "xml_deadlock_report") return EventType::xml_deadlock_report;
    return EventType::other;
}

void set_error(Event& e, std::string what, std::uint64_t offset) {
    if (!e.error) e.error = ParseError{std::move(what), offset};
}

}  // namespace

// Parses one event's XML with reusable buffers. The Event it fills may hold the previous event (the reader's
// caller passes the same one each time): its strings, vectors and map nodes are reused, every field is
// written or cleared, so the result is the same as filling a fresh Event.
class EventParser {
public:
    // A speculative piece (Piece::speculative) is taken only when it parses without error; otherwise this
    // returns false, out untouched, and the caller asks the splitter for the piece found by the full scan.
    bool parse(std::string_view xml, const Piece* piece, const ParseOptions& options, Event& out) {
        const bool speculative = piece && piece->speculative;
        pugi::xml_parse_result res;
        if (speculative) {
            try {
                scratch_.assign(xml);
                res = doc_.load_buffer_inplace(scratch_.data(), scratch_.size(), kFlags, pugi::encoding_utf8);
            } catch (...) {
                res = pugi::xml_parse_result();
            }
            if (!res) {
                doc_.reset();
                return false;
            }
        }
        reset(out);
        if (piece) {
            out.input_offset = piece->offset;
            if (piece->root == RootKind::blocked_process_report) out.type = EventType::blocked_process_report;
            else if (piece->root == RootKind::deadlock) out.type = EventType::xml_deadlock_report;
            else {
                out.name.assign(piece->event_name);
                out.type = type_of_name(out.name);
            }
            if (out.type != EventType::other && out.name.empty()) out.name.assign(to_string(out.type));
        }
        try {
            if (!speculative) {
                scratch_.assign(xml);
                res = doc_.load_buffer_inplace(scratch_.data(), scratch_.size(), kFlags,
                                               piece ? pugi::encoding_utf8 : pugi::encoding_auto);
            }
            if (!res) set_error(out, res.description(), static_cast<std::uint64_t>(res.offset));
            interpret(first_element(doc_), out);
            if (piece && piece->oversized) {
                out.error = ParseError{"event larger than " + std::to_string(options.max_event_bytes) +
                                           " bytes (ParseOptions::max_event_bytes), cut there",
                                       xml.size()};
            } else if (piece && piece->cut) {
                // the splitter saw the element end early: say so, with the XML parser's own finding if any
                if (out.error) out.error->what = "truncated event: " + out.error->what;
                else set_error(out, "truncated event: element not closed", xml.size());
            }
            if (out.type == EventType::xml_deadlock_report && filled_ != Filled::deadlock) {
                clear(deadlock_slot(out));
                filled_ = Filled::deadlock;
            }
        } catch (const std::exception& ex) {
            drop_report(out);
            set_error(out, std::string("internal error: ") + ex.what(), 0);
        } catch (...) {
            drop_report(out);
            set_error(out, "internal error", 0);
        }
        if (filled_ == Filled::none) clear(bpr_slot(out));  // nothing read: a default (empty) report
        if (out.error || options.keep_raw) out.raw_xml.assign(xml);
        doc_.reset();
        return true;
    }

private:
    using Fields = std::map<std::string, DataField, std::less<>>;
    enum class Filled { none, bpr, deadlock };

    // out as a default Event, its memory kept: the data and action nodes go to the pool, the report stays
    // as it is until a reader claims it (bpr_slot, deadlock_slot) or it is cleared at the end.
    void reset(Event& out) {
        out.type = EventType::other;
        out.name.clear();
        out.timestamp.reset();
        out.input_offset = 0;
        out.error.reset();
        out.raw_xml.clear();
        recycle(out.data);
        recycle(out.actions);
        filled_ = Filled::none;
        escaped_.clear();
    }

    void recycle(Fields& m) {
        while (!m.empty()) pool_.push_back(m.extract(m.begin()));
    }

    Fields::node_type take_node() {
        if (pool_.empty()) {
            Fields one;
            one.try_emplace(std::string());
            return one.extract(one.begin());
        }
        Fields::node_type n = std::move(pool_.back());
        pool_.pop_back();
        return n;
    }

    // The report as a BlockedProcessReport / DeadlockReport to be written whole; the other kind is kept
    // aside for its memory.
    BlockedProcessReport& bpr_slot(Event& out) {
        if (auto* b = std::get_if<BlockedProcessReport>(&out.report)) return *b;
        spare_deadlock_ = std::move(std::get<DeadlockReport>(out.report));
        return out.report.emplace<BlockedProcessReport>(std::move(spare_bpr_));
    }

    DeadlockReport& deadlock_slot(Event& out) {
        if (auto* d = std::get_if<DeadlockReport>(&out.report)) return *d;
        spare_bpr_ = std::move(std::get<BlockedProcessReport>(out.report));
        return out.report.emplace<DeadlockReport>(std::move(spare_deadlock_));
    }

    // After an exception part way: no half-written report (a previous event's values could remain in it).
    void drop_report(Event& out) {
        if (auto* b = std::get_if<BlockedProcessReport>(&out.report)) clear(*b);
        else clear(std::get<DeadlockReport>(out.report));
        filled_ = std::holds_alternative<DeadlockReport>(out.report) ? Filled::deadlock : Filled::bpr;
    }

    void interpret(pugi::xml_node root, Event& out) {
        if (!root) {
            set_error(out, "no XML element", 0);
            return;
        }
        if (is(root, "event")) {
            interpret_event(root, out);
        } else if (is(root, "blocked-process-report")) {
            out.type = EventType::blocked_process_report;
            out.name.assign("blocked_process_report");
            read_bpr(root, out);
        } else if (is(root, "deadlock") || is(root, "deadlock-list")) {
            out.type = EventType::xml_deadlock_report;
            out.name.assign("xml_deadlock_report");
            read_dl(root, out);
        } else {
            set_error(out, std::string("unexpected element <") + root.name() +
                               "> (expected <event>, <blocked-process-report> or <deadlock>)", 0);
        }
    }

    void read_bpr(pugi::xml_node node, Event& out) {
        auto& r = bpr_slot(out);
        filled_ = Filled::bpr;
        read_blocked_process_report(node, r);
        if (r.blocked.attributes.empty()) set_error(out, "no <blocked-process><process> in the report", 0);
    }

    void read_dl(pugi::xml_node node, Event& out) {
        auto& r = deadlock_slot(out);
        filled_ = Filled::deadlock;
        read_deadlock(node, r);
        if (r.processes.empty()) set_error(out, "no <process-list><process> in the deadlock graph", 0);
    }

    void interpret_event(pugi::xml_node ev, Event& out) {
        out.name.assign(ev.attribute("name").value());
        out.type = type_of_name(out.name);
        if (auto ts = ev.attribute("timestamp")) out.timestamp = parse_timestamp(ts.value());
        pugi::xml_node payload;
        // escaped_: a report written as escaped text (SQL Server 2008's ring buffer)
        for (auto c = ev.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            bool is_data = is(c, "data");
            if (!is_data && !is(c, "action")) continue;
            std::string_view fname = c.attribute("name").value();
            auto value = c.child("value");
            if (auto inner = first_element(value)) {
                if (!payload && (is(inner, "blocked-process-report") || is(inner, "deadlock") ||
                                 is(inner, "deadlock-list") || (is_data && (fname == "blocked_process" ||
                                                                            fname == "xml_report")))) {
                    payload = inner;
                }
                continue;
            }
            Fields::node_type node = take_node();
            node.key().assign(fname);
            DataField& f = node.mapped();
            node_text(value, f.value);
            if (auto t = c.child("text")) {
                if (!f.text) f.text.emplace();
                node_text(t, *f.text);
            } else {
                f.text.reset();
            }
            if (is_data && (fname == "blocked_process" || fname == "xml_report")) {
                auto tv = trim(f.value);
                if (!tv.empty() && tv.front() == '<') escaped_.assign(tv);
            }
            Fields& fields = is_data ? out.data : out.actions;
            auto ins = fields.insert(std::move(node));
            if (!ins.inserted) {
                std::swap(ins.position->second, ins.node.mapped());  // a repeated name: the last one is kept
                pool_.push_back(std::move(ins.node));
            }
        }
        if (out.type == EventType::other) {
            set_error(out, out.name.empty() ? "an <event> without a name"
                                            : "not a blocked_process_report or xml_deadlock_report event",
                      0);
            return;
        }
        if (!payload && !escaped_.empty()) {
            auto res = nested_.load_buffer(escaped_.data(), escaped_.size(), kFlags, pugi::encoding_utf8);
            if (!res) {
                set_error(out, std::string(res.description()) + " in the report written as escaped text (its byte " +
                                   std::to_string(res.offset) + ")",
                          0);
            }
            payload = first_element(nested_);
        }
        if (out.type == EventType::blocked_process_report) {
            auto& r = bpr_slot(out);
            filled_ = Filled::bpr;
            if (payload && is(payload, "blocked-process-report")) {
                read_blocked_process_report(payload, r);
                if (r.blocked.attributes.empty()) set_error(out, "no <blocked-process><process> in the report", 0);
            } else {
                clear(r);
                set_error(out, "no <blocked-process-report> in the event", 0);
            }
            // the event's data fields (cleared above): one pass over the map rather than a look-up each
            for (const auto& [k, f] : out.data) {
                if (k == "duration") r.duration_us = to_int(trim(f.value));
                else if (k == "database_id") r.database_id = to_int(trim(f.value));
                else if (k == "object_id") r.object_id = to_int(trim(f.value));
                else if (k == "index_id") r.index_id = to_int(trim(f.value));
                else if (k == "transaction_id") r.transaction_id = to_int(trim(f.value));
                else if (k == "database_name") r.database_name = f.value;
                else if (k == "lock_mode") r.lock_mode = f.text ? *f.text : f.value;
            }
        } else {
            if (payload && (is(payload, "deadlock") || is(payload, "deadlock-list") || payload.child("process-list"))) {
                read_dl(payload, out);
            } else {
                clear(deadlock_slot(out));
                filled_ = Filled::deadlock;
                set_error(out, "no <deadlock> in the event", 0);
            }
        }
        nested_.reset();
    }

    pugi::xml_document doc_;
    pugi::xml_document nested_;
    std::string scratch_;
    std::string escaped_;
    Filled filled_ = Filled::none;
    std::vector<Fields::node_type> pool_;
    BlockedProcessReport spare_bpr_;
    DeadlockReport spare_deadlock_;
};

}  // namespace detail

Event parse_event(std::string_view xml, const ParseOptions& options) {
    Event e;
    try {
        detail::EventParser p;
        p.parse(xml, nullptr, options, e);
    } catch (...) {
        e.error = ParseError{"internal error", 0};
        e.raw_xml.assign(xml);
    }
    return e;
}

struct EventReader::Impl {
    Impl(std::istream& in, ParseOptions o) : options(o), splitter(in, o.max_event_bytes, o.read_chunk_bytes) {}
    Impl(std::string_view text, ParseOptions o) : options(o), splitter(text, o.max_event_bytes) {}
    ParseOptions options;
    detail::Splitter splitter;
    detail::EventParser parser;
    ReaderStats stats;
    detail::Piece piece;
};

EventReader::EventReader(std::istream& in, ParseOptions options) : impl_(std::make_unique<Impl>(in, options)) {}
EventReader::EventReader(std::string_view text, ParseOptions options)
    : impl_(std::make_unique<Impl>(text, options)) {}
EventReader::~EventReader() = default;

bool EventReader::next(Event& out) {
    auto& m = *impl_;
    bool got = false;
    try {
        got = m.splitter.next(m.piece);
    } catch (...) {
        got = false;  // out of memory or a stream that throws: the input ends here
    }
    m.stats.skipped = m.splitter.skipped();
    m.stats.bytes = m.splitter.consumed();
    if (!got) return false;
    while (!m.parser.parse(m.piece.xml, &m.piece, m.options, out)) {
        // the fast path's piece did not check out: the full scan of the same element decides
        try {
            got = m.splitter.redo(m.piece) || m.splitter.next(m.piece);
        } catch (...) {
            got = false;
        }
        m.stats.skipped = m.splitter.skipped();
        m.stats.bytes = m.splitter.consumed();
        if (!got) return false;
    }
    ++m.stats.events;
    if (out.error) ++m.stats.parse_errors;
    return true;
}

const ReaderStats& EventReader::stats() const { return impl_->stats; }

std::vector<Event> parse_all(std::string_view text, const ParseOptions& options) {
    std::vector<Event> out;
    EventReader r(text, options);
    Event e;
    while (r.next(e)) out.push_back(std::move(e));
    return out;
}

}  // namespace dmvlog::xe
