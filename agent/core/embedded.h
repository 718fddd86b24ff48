// Files compiled into the binary: collector declarations, SQL and schema (see cmake/embed.cmake).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dmvlog::embedded {

struct File {
    std::string path;     // relative to the repository root, e.g. "sql/collectors/requests.sql"
    std::string content;
};

// Every embedded file, sorted by path.
const std::vector<File>& files();

// The content of one file, or nullopt.
std::optional<std::string_view> find(std::string_view path);

// Every file whose path starts with prefix, sorted by path.
std::vector<const File*> under(std::string_view prefix);

}  // namespace dmvlog::embedded
