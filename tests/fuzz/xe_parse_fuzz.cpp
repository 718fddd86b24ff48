// libFuzzer target over the XE report parser: every entry point, on any bytes, must return (no crash, no
// exception, no sanitizer report). Built with clang (-DDMVLOG_FUZZ=ON); see tests/fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "agent/xe/envelope.h"
#include "agent/xe/json.h"
#include "agent/xe/wait_resource.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dmvlog::xe;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    Event one = parse_event(text);
    (void)to_json_line(one);
    (void)to_table_line(one);

    ParseOptions options;
    options.max_event_bytes = 1 + size % 4096;  // sometimes cut events short
    for (const auto& e : parse_all(text, options)) (void)to_json_line(e);

    // the streaming reader with small, odd read sizes (boundaries everywhere)
    std::istringstream in{std::string(text)};
    options.max_event_bytes = 64u << 20;
    options.read_chunk_bytes = 1 + size % 17;
    EventReader reader(in, options);
    Event e;
    while (reader.next(e)) (void)to_table_line(e);

    (void)decode_wait_resource(text.substr(0, 512));
    return 0;
}
