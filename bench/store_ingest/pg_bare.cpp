#include "bench/store_ingest/pg_bare.h"

#include <libpq-fe.h>
#include <sys/wait.h>

#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <regex>
#include <stdexcept>

#include "agent/core/time_format.h"

namespace dmvlog::bench {

namespace {

struct Conn {
    explicit Conn(const std::string& conninfo) : c(PQconnectdb(conninfo.c_str())) {
        if (PQstatus(c) != CONNECTION_OK) {
            std::string msg = PQerrorMessage(c);
            PQfinish(c);
            throw std::runtime_error("cannot connect to PostgreSQL: " + msg);
        }
        PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
    }
    ~Conn() { PQfinish(c); }
    PGconn* c;
};

// Runs a command, returns its standard output; throws when it fails.
std::string run(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> p(popen(command.c_str(), "r"), pclose);
    if (!p) throw std::runtime_error("cannot run " + command);
    std::string out;
    char buf[4096];
    while (std::size_t n = fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
    const int status = pclose(p.release());
    if (status != 0) throw std::runtime_error(fmt::format("{} failed (status {}): {}", command, status, out));
    return out;
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

void copy_text(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\t': out += "\\t"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            default: out += c;
        }
    }
}

}  // namespace

PgServer PgServer::start(const std::string& dir) {
    PgServer s;
    run(shell_quote(DMVLOG_SOURCE_DIR "/tests/pg/pg-test-server") + " start " + shell_quote(dir) + " 2>&1");
    s.dir_ = dir;
    std::ifstream in(dir + "/conninfo");
    std::getline(in, s.conninfo_);
    if (s.conninfo_.empty()) throw std::runtime_error("pg-test-server wrote no conninfo in " + dir);
    return s;
}

PgServer PgServer::existing(const std::string& conninfo) {
    PgServer s;
    s.conninfo_ = conninfo;
    return s;
}

PgServer::~PgServer() {
    if (dir_.empty()) return;
    const std::string stop = shell_quote(DMVLOG_SOURCE_DIR "/tests/pg/pg-test-server") + " stop " + shell_quote(dir_);
    if (std::system(stop.c_str()) != 0) std::fprintf(stderr, "store_ingest_bench: could not stop the server in %s\n", dir_.c_str());
}

void PgServer::exec(const std::string& sql, const std::string& dbname) const {
    Conn c(dbname.empty() ? conninfo_ : conninfo(dbname));
    PGresult* r = PQexec(c.c, sql.c_str());
    const auto st = PQresultStatus(r);
    std::string msg = PQresultErrorMessage(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error(sql.substr(0, 80) + ": " + msg);
}

std::string PgServer::query_value(const std::string& sql, const std::string& dbname) const {
    Conn c(dbname.empty() ? conninfo_ : conninfo(dbname));
    PGresult* r = PQexec(c.c, sql.c_str());
    std::string out = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    std::string msg = PQresultErrorMessage(r);
    PQclear(r);
    if (!msg.empty()) throw std::runtime_error(sql.substr(0, 80) + ": " + msg);
    return out;
}

void PgServer::recreate_database(const std::string& dbname) const {
    drop_database(dbname);
    exec(fmt::format("CREATE DATABASE \"{}\"", dbname));
}

void PgServer::drop_database(const std::string& dbname) const {
    exec(fmt::format("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", dbname));
}

void create_partitions(const PgServer& pg, const std::string& dbname, const std::string& table,
                       const std::vector<std::string>& days) {
    for (const auto& day : days) {
        const auto from = parse_timestamp(day);
        const std::string next = format_timestamp(Timestamp{from->utc_ticks + kTicksPerDay, 0, false}).substr(0, 10);
        pg.exec(fmt::format("CREATE TABLE IF NOT EXISTS \"{}_p{}{}{}\" PARTITION OF \"{}\" FOR VALUES FROM ('{}') TO ('{}')",
                            table, day.substr(0, 4), day.substr(5, 2), day.substr(8, 2), table, day, next),
                dbname);
    }
}

std::int64_t write_copy_file(const std::string& path, Workload& w) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    std::int64_t rows = 0;
    std::string buf;
    for (int k = 0; k < w.shape().snapshots; ++k) {
        const auto& s = w.snapshot(k);
        std::string prefix;
        copy_text(prefix, s.instance);
        prefix += '\t' + format_timestamp(s.collected_at) + '\t' + std::to_string(s.utc_offset_minutes);
        for (const auto& row : s.rows) {
            buf += prefix;
            for (const auto& v : row) {
                buf += '\t';
                if (const auto* n = std::get_if<std::int64_t>(&v)) buf += std::to_string(*n);
                else if (const auto* d = std::get_if<double>(&v)) fmt::format_to(std::back_inserter(buf), "{}", *d);
                else if (const auto* t = std::get_if<std::string>(&v)) copy_text(buf, *t);
                else if (const auto* ts = std::get_if<Timestamp>(&v)) buf += format_timestamp(*ts);
                else if (const auto* dec = std::get_if<Decimal>(&v)) buf += dec->digits;
                else if (const auto* b = std::get_if<Bytes>(&v)) {
                    static const char* digits = "0123456789abcdef";
                    buf += "\\\\x";
                    for (auto x : *b) {
                        buf += digits[x >> 4];
                        buf += digits[x & 15];
                    }
                } else buf += "\\N";
            }
            buf += '\n';
            ++rows;
        }
        out << buf;
        buf.clear();
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
    return rows;
}

double psql_copy(const std::string& conninfo, const store::TableSpec& spec, const std::string& file) {
    std::string columns = "instance, collected_at, utc_offset_minutes";
    for (const auto& c : spec.columns) columns += ", \"" + c.name + "\"";
    const std::string copy = fmt::format("\\copy \"{}\" ({}) FROM '{}'", spec.name, columns, file);
    const std::string out = run(fmt::format("psql {} -X -q -v ON_ERROR_STOP=1 -c '\\timing on' -c {} 2>&1",
                                            shell_quote(conninfo), shell_quote(copy)));
    std::smatch m;
    if (!std::regex_search(out, m, std::regex(R"(Time: ([0-9.]+) ms)")))
        throw std::runtime_error("psql printed no timing: " + out);
    return std::stod(m[1].str()) / 1000.0;
}

}  // namespace dmvlog::bench
