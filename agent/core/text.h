// Small text helpers shared by the configuration, the collector declarations and the connection settings.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace dmvlog {

// ASCII lower case (keys, keywords and driver names are ASCII).
inline std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Without leading and trailing white space.
inline std::string trim(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b])) != 0) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])) != 0) --e;
    return std::string(s.substr(b, e - b));
}

}  // namespace dmvlog
