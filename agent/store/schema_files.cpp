#include "agent/store/schema_files.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>

#include "agent/core/embedded.h"
#include "agent/core/time_format.h"
#include "agent/store/store.h"

namespace dmvlog::store {

std::vector<Migration> migrations(const std::string& kind) {
    std::vector<Migration> out;
    for (const auto* f : embedded::under("schema/" + kind + "/")) {
        const bool after = std::string_view(f->content).substr(0, kAfterTablesMarker.size()) == kAfterTablesMarker;
        auto file = std::filesystem::path(f->path).filename().string();
        int v = 0;
        auto [p, ec] = std::from_chars(file.data(), file.data() + file.size(), v);
        if (ec != std::errc() || p == file.data()) continue;
        out.push_back({v, file, f->content, after});
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.version < b.version; });
    return out;
}

std::vector<AfterTablesBlock> after_tables_blocks(std::string_view text) {
    std::vector<AfterTablesBlock> out;
    constexpr std::string_view kRequires = "-- requires:";
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        if (line.substr(0, kRequires.size()) == kRequires) {
            AfterTablesBlock b;
            std::string name;
            for (char c : line.substr(kRequires.size())) {
                if (c == ',' || c == ' ' || c == '\r') {
                    if (!name.empty()) b.requires_tables.push_back(name);
                    name.clear();
                } else {
                    name += c;
                }
            }
            if (!name.empty()) b.requires_tables.push_back(name);
            out.push_back(std::move(b));
        } else if (!out.empty()) {
            out.back().sql += line;
            out.back().sql += '\n';
        }
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    return out;
}

namespace {
std::string quoted(const std::string& text, char quote) {
    std::string out(1, quote);
    for (char c : text) {
        if (c == quote) out += quote;
        out += c;
    }
    return out + quote;
}
}  // namespace

std::string quote_ident(const std::string& name) { return quoted(name, '"'); }

std::string quote_literal(const std::string& text) { return quoted(text, '\''); }

std::string now_text() {
    auto ticks = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count() / 100;
    return format_timestamp(Timestamp{ticks, 0, false});
}

void set_percentiles(RunSummary& r, std::vector<double>& durations) {
    if (durations.empty()) return;
    std::sort(durations.begin(), durations.end());
    auto pct = [&](double p) {
        auto idx = static_cast<std::size_t>(p * static_cast<double>(durations.size() - 1) + 0.5);
        return durations[std::min(idx, durations.size() - 1)];
    };
    r.p50_ms = pct(0.50);
    r.p95_ms = pct(0.95);
}

}  // namespace dmvlog::store
