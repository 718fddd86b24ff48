// The conninfo of the PostgreSQL server the ctest fixture started (tests/pg/pg-test-server): the first line of
// the file DMVLOG_TEST_PG names; "" without one (the test then says SKIPPED).
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

namespace dmvlog::test {

inline std::string pg_conninfo() {
    const char* f = std::getenv("DMVLOG_TEST_PG");
    if (!f || !*f) return "";
    std::ifstream in(f);
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace dmvlog::test
