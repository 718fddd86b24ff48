#include "agent/xe/wait_resource.h"

#include <array>
#include <charconv>

namespace dmvlog::xe {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

std::optional<std::int64_t> to_int(std::string_view s) {
    s = trim(s);
    if (s.empty()) return std::nullopt;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
        // hobt ids are unsigned 64-bit in the engine; they fit int64 in practice, anything else is not a number
        return std::nullopt;
    }
    return v;
}

// Leading colon-separated integers: "7:1:104:3 rest" -> {7,1,104,3}, rest = " rest". All of them are read;
// the first kKept are kept (no field uses more).
struct Numbers {
    static constexpr std::size_t kKept = 4;
    std::int64_t v[kKept] = {};
    std::size_t n = 0;
    std::size_t size() const { return n; }
};

Numbers leading_numbers(std::string_view s, std::string_view& rest) {
    Numbers out;
    std::size_t i = 0;
    while (i < s.size() && is_space(s[i])) ++i;
    while (i < s.size()) {
        std::size_t j = i;
        if (j < s.size() && s[j] == '-') ++j;
        std::size_t digits = j;
        while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
        if (j == digits) break;
        auto v = to_int(s.substr(i, j - i));
        if (!v) break;
        if (out.n < Numbers::kKept) out.v[out.n] = *v;
        ++out.n;
        i = j;
        if (i < s.size() && s[i] == ':' && i + 1 < s.size() && ((s[i + 1] >= '0' && s[i + 1] <= '9') || s[i + 1] == '-')) {
            ++i;
            continue;
        }
        break;
    }
    rest = s.substr(i);
    return out;
}

void set(std::optional<std::int64_t>& field, const Numbers& n, std::size_t i) {
    if (i < n.size() && i < Numbers::kKept) field = n.v[i];
}

struct Prefix {
    std::string_view name;
    WaitResourceKind kind;
};

constexpr std::array<Prefix, 12> kPrefixes{{
    {"KEY", WaitResourceKind::key},
    {"PAGE", WaitResourceKind::page},
    {"RID", WaitResourceKind::rid},
    {"OBJECT", WaitResourceKind::object},
    {"TAB", WaitResourceKind::object},
    {"APPLICATION", WaitResourceKind::application},
    {"METADATA", WaitResourceKind::metadata},
    {"DATABASE", WaitResourceKind::database},
    {"FILE", WaitResourceKind::file},
    {"EXTENT", WaitResourceKind::extent},
    {"HOBT", WaitResourceKind::hobt},
    {"ALLOCATION_UNIT", WaitResourceKind::allocation_unit},
}};

// "(8194443284a0)" -> "8194443284a0"
std::string_view paren_text(std::string_view rest) {
    auto open = rest.find('(');
    if (open == std::string_view::npos) return {};
    auto close = rest.find(')', open + 1);
    if (close == std::string_view::npos) return rest.substr(open + 1);
    return rest.substr(open + 1, close - open - 1);
}

void decode_prefixed(WaitResource& w, std::string_view prefix, std::string_view body) {
    std::string_view rest;
    switch (w.kind) {
        case WaitResourceKind::key: {
            auto n = leading_numbers(body, rest);
            set(w.database_id, n, 0);
            set(w.hobt_id, n, 1);
            w.key_hash.assign(paren_text(rest));
            break;
        }
        case WaitResourceKind::page:
        case WaitResourceKind::extent: {
            auto n = leading_numbers(body, rest);
            set(w.database_id, n, 0);
            set(w.file_id, n, 1);
            set(w.page_id, n, 2);
            break;
        }
        case WaitResourceKind::rid: {
            auto n = leading_numbers(body, rest);
            set(w.database_id, n, 0);
            set(w.file_id, n, 1);
            set(w.page_id, n, 2);
            set(w.slot, n, 3);
            break;
        }
        case WaitResourceKind::object: {
            auto n = leading_numbers(body, rest);
            set(w.database_id, n, 0);
            set(w.object_id, n, 1);
            if (iequals(prefix, "TAB")) {
                set(w.index_id, n, 2);
            } else {
                set(w.lock_partition, n, 2);
            }
            rest = trim(rest);
            if (!rest.empty()) w.subresource.assign(rest);  // e.g. "[COMPILE]"
            break;
        }
        case WaitResourceKind::application: {
            // db:principal:[name]:(hash)
            auto n = leading_numbers(body, rest);
            set(w.database_id, n, 0);
            set(w.principal_id, n, 1);
            auto open = rest.find('[');
            auto close = rest.rfind(']');
            if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
                w.name.assign(rest.substr(open + 1, close - open - 1));
                w.key_hash.assign(paren_text(rest.substr(close + 1)));
            } else {
                w.key_hash.assign(paren_text(rest));
            }
            break;
        }
        case WaitResourceKind::metadata: {
            // "database_id = 7 STATS(object_id = 5, stats_id = 2), lockPartitionId = 0"
            std::string_view b = trim(body);
            auto eq = b.find('=');
            if (b.substr(0, eq == std::string_view::npos ? 0 : eq).find("database_id") != std::string_view::npos) {
                auto n = leading_numbers(b.substr(eq + 1), rest);
                set(w.database_id, n, 0);
                b = trim(rest);
            }
            auto lp = b.find("lockPartitionId");
            std::string_view sub = b;
            if (lp != std::string_view::npos) {
                auto eq2 = b.find('=', lp);
                if (eq2 != std::string_view::npos) {
                    std::string_view r2;
                    auto n = leading_numbers(b.substr(eq2 + 1), r2);
                    set(w.lock_partition, n, 0);
                }
                sub = b.substr(0, lp);
            }
            sub = trim(sub);
            while (!sub.empty() && (sub.back() == ',' || is_space(sub.back()))) sub.remove_suffix(1);
            w.subresource.assign(sub);
            break;
        }
        case WaitResourceKind::database: {
            auto n = leading_numbers(body, rest);
            set(w.database_id, n, 0);
            rest = trim(rest);
            if (!rest.empty()) w.subresource.assign(rest);
            break;
        }
        case WaitResourceKind::file: {
            auto n = leading_numbers(body, rest);
            set(w.database_id, n, 0);
            set(w.file_id, n, 1);
            break;
        }
        case WaitResourceKind::hobt: {
            auto n = leading_numbers(body, rest);
            set(w.database_id, n, 0);
            set(w.hobt_id, n, 1);
            break;
        }
        case WaitResourceKind::allocation_unit: {
            auto n = leading_numbers(body, rest);
            set(w.database_id, n, 0);
            set(w.allocation_unit_id, n, 1);
            break;
        }
        default:
            break;
    }
}

// "objectlock lockPartition=0 objid=5 subresource=FULL dbid=7 id=lock1c2d mode=X"
bool decode_description(WaitResource& w, std::string_view text) {
    auto sp = text.find(' ');
    std::string_view type = text.substr(0, sp);
    struct Map {
        std::string_view type;
        WaitResourceKind kind;
    };
    static constexpr Map kTypes[] = {
        {"keylock", WaitResourceKind::key},         {"pagelock", WaitResourceKind::page},
        {"ridlock", WaitResourceKind::rid},         {"objectlock", WaitResourceKind::object},
        {"applicationlock", WaitResourceKind::application}, {"metadatalock", WaitResourceKind::metadata},
        {"databaselock", WaitResourceKind::database}, {"filelock", WaitResourceKind::file},
        {"extentlock", WaitResourceKind::extent},   {"hobtlock", WaitResourceKind::hobt},
        {"allocunitlock", WaitResourceKind::allocation_unit}, {"exchangeEvent", WaitResourceKind::exchange},
    };
    const Map* found = nullptr;
    for (const auto& m : kTypes) {
        if (iequals(type, m.type)) found = &m;
    }
    if (!found || sp == std::string_view::npos || text.find('=') == std::string_view::npos) return false;
    w.kind = found->kind;
    std::string_view rest = text.substr(sp + 1);
    while (!rest.empty()) {
        while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
        auto end = rest.find(' ');
        std::string_view pair = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
        auto eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        std::string_view k = pair.substr(0, eq), v = pair.substr(eq + 1);
        if (iequals(k, "dbid")) w.database_id = to_int(v);
        else if (iequals(k, "objid")) w.object_id = to_int(v);
        else if (iequals(k, "hobtid")) w.hobt_id = to_int(v);
        else if (iequals(k, "fileid")) w.file_id = to_int(v);
        else if (iequals(k, "pageid")) w.page_id = to_int(v);
        else if (iequals(k, "lockPartition")) w.lock_partition = to_int(v);
        else if (iequals(k, "subresource")) w.subresource.assign(v);
        else if (iequals(k, "id") && w.kind == WaitResourceKind::exchange) w.name.assign(v);
        else if (iequals(k, "hash")) w.key_hash.assign(v);
    }
    return true;
}

}  // namespace

std::string_view to_string(WaitResourceKind kind) {
    switch (kind) {
        case WaitResourceKind::none: return "none";
        case WaitResourceKind::key: return "key";
        case WaitResourceKind::page: return "page";
        case WaitResourceKind::rid: return "rid";
        case WaitResourceKind::object: return "object";
        case WaitResourceKind::application: return "application";
        case WaitResourceKind::metadata: return "metadata";
        case WaitResourceKind::database: return "database";
        case WaitResourceKind::file: return "file";
        case WaitResourceKind::extent: return "extent";
        case WaitResourceKind::hobt: return "hobt";
        case WaitResourceKind::allocation_unit: return "allocation_unit";
        case WaitResourceKind::exchange: return "exchange";
        case WaitResourceKind::unknown: return "unknown";
    }
    return "unknown";
}

WaitResource decode_wait_resource(std::string_view text) {
    WaitResource w;
    decode_wait_resource(text, w);
    return w;
}

void decode_wait_resource(std::string_view text, WaitResource& w) {
    w.raw.assign(text);
    w.kind = WaitResourceKind::none;
    w.database_id.reset();
    w.hobt_id.reset();
    w.allocation_unit_id.reset();
    w.file_id.reset();
    w.page_id.reset();
    w.slot.reset();
    w.object_id.reset();
    w.index_id.reset();
    w.lock_partition.reset();
    w.principal_id.reset();
    w.key_hash.clear();
    w.name.clear();
    w.subresource.clear();
    std::string_view t = trim(text);
    if (t.empty()) return;
    w.kind = WaitResourceKind::unknown;
    auto colon = t.find(':');
    if (colon != std::string_view::npos) {
        std::string_view prefix = trim(t.substr(0, colon));
        for (const auto& p : kPrefixes) {
            if (iequals(prefix, p.name)) {
                w.kind = p.kind;
                decode_prefixed(w, prefix, t.substr(colon + 1));
                return;
            }
        }
        // a bare "db:file:page" (page latch waits in sys.dm_exec_requests)
        std::string_view rest;
        auto n = leading_numbers(t, rest);
        if (n.size() == 3 && trim(rest).empty()) {
            w.kind = WaitResourceKind::page;
            set(w.database_id, n, 0);
            set(w.file_id, n, 1);
            set(w.page_id, n, 2);
            return;
        }
    }
    decode_description(w, t);
}

}  // namespace dmvlog::xe
