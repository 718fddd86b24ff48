// CRC-32 (IEEE 802.3, the polynomial of zlib and gzip), for checking records on disk.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dmvlog {

// crc32("123456789") == 0xCBF43926. Pass a previous result as `crc` to continue over more bytes.
std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc = 0);

}  // namespace dmvlog
