#include "agent/core/embedded.h"

namespace dmvlog::embedded {

std::optional<std::string_view> find(std::string_view path) {
    for (const auto& f : files()) {
        if (f.path == path) return std::string_view(f.content);
    }
    return std::nullopt;
}

std::vector<const File*> under(std::string_view prefix) {
    std::vector<const File*> out;
    for (const auto& f : files()) {
        if (f.path.starts_with(prefix)) out.push_back(&f);
    }
    return out;
}

}  // namespace dmvlog::embedded
