// Benchmark of dmvlog's XE report parser (agent/xe) on a generated event_file-style file of N events
// (4 of 5 blocked_process_report, 1 of 5 xml_deadlock_report), next to, in the same run:
//   - a bare pugixml load of the same bytes into one tree (load_buffer_inplace: the floor),
//   - /usr/bin/python3 with xml.etree extracting the same fields (bench/xe_parse/baseline.py).
// Each method runs in its own child process, so peak RSS is that method's own; each is timed R times, the
// methods taking turns (the best run counts), by the wall clock and by the process's CPU time.
//
//   xe_parse_bench [--events N] [--runs R] [--file PATH] [--keep] [--python PATH] [--only floor|dmvlog|json]
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <pugixml.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "agent/xe/envelope.h"
#include "agent/xe/json.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
    double seconds = 0;       // wall clock
    double cpu_seconds = 0;   // CPU time of the process over the same span (user + system)
    long long events = 0;
    long long errors = 0;
    long max_rss_kb = 0;
    bool ok = false;
};

// ------------------------------------------------------------------------------------------------ generator

const char* const kApps[] = {"OrderService", "Microsoft SQL Server Management Studio - Query", "在庫管理システム",
                             "ReportServer", "api &amp; batch"};
const char* const kLogins[] = {"svc_orders", "CORP\\dba", "CORP\\田中", "etl", "api"};
const char* const kStatements[] = {
    "UPDATE dbo.Orders SET Status = @s WHERE OrderId = @id",
    "SELECT o.OrderId, o.Total FROM dbo.Orders o JOIN dbo.Customers c ON c.Id = o.CustomerId WHERE c.Region = N'東京' AND o.Total &lt; 100",
    "INSERT dbo.Audit (At, Who, What) VALUES (SYSUTCDATETIME(), SUSER_SNAME(), N'&quot;x&quot; &amp; y')",
    "EXEC dbo.usp_ShipOrder @OrderId = 42, @Carrier = N'UPS'",
    "DELETE dbo.Queue WHERE Id IN (SELECT TOP (100) Id FROM dbo.Queue WITH (READPAST) ORDER BY Id)",
};
const char* const kResources[] = {"KEY: 7:72057594045595648 (8194443284a0)", "PAGE: 7:1:48213", "RID: 7:1:104:3",
                                  "OBJECT: 7:1740585300:0 ", "APPLICATION: 7:0:[NightlyLoad]:(e8c3a7a7)"};

std::string hex(std::mt19937_64& rng, int bytes) {
    static const char* d = "0123456789abcdef";
    std::string s = "0x";
    for (int i = 0; i < bytes; ++i) {
        auto b = rng();
        s.push_back(d[b & 15]);
        s.push_back(d[(b >> 4) & 15]);
    }
    return s;
}

std::string long_process(std::mt19937_64& rng, int spid, int ecid, bool deadlock, const std::string& id) {
    char buf[2048];
    int k = static_cast<int>(rng() % 5);
    std::snprintf(buf, sizeof buf,
                  "<process id=\"%s\" taskpriority=\"0\" logused=\"%d\" waitresource=\"%s\" waittime=\"%d\" "
                  "ownerId=\"%d\" transactionname=\"user_transaction\" lasttranstarted=\"2026-11-23T10:14:55.350\" "
                  "XDES=\"0x1f0c7a%04x\" lockMode=\"U\" schedulerid=\"%d\" kpid=\"%d\" status=\"suspended\" spid=\"%d\" "
                  "sbid=\"0\" ecid=\"%d\" priority=\"0\" trancount=\"2\" lastbatchstarted=\"2026-11-23T10:14:55.350\" "
                  "lastbatchcompleted=\"2026-11-23T10:14:55.347\" lastattention=\"1900-01-01T00:00:00.347\" "
                  "clientapp=\"%s\" hostname=\"APP%02d\" hostpid=\"%d\" loginname=\"%s\" "
                  "isolationlevel=\"read committed (2)\" xactid=\"%d\" currentdb=\"7\" currentdbname=\"Sales\" "
                  "lockTimeout=\"4294967295\" clientoption1=\"671090784\" clientoption2=\"390200\">",
                  id.c_str(), static_cast<int>(rng() % 10000), kResources[k], static_cast<int>(rng() % 60000),
                  static_cast<int>(rng() % 10000000), static_cast<unsigned>(rng() % 65536), 1 + spid % 8,
                  4000 + spid * 7, spid, ecid, kApps[rng() % 5], static_cast<int>(rng() % 40),
                  static_cast<int>(rng() % 30000), kLogins[rng() % 5], static_cast<int>(rng() % 10000000));
    std::string s = buf;
    s += "<executionStack>";
    int frames = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < frames; ++f) {
        std::string h = hex(rng, 44);
        if (deadlock) {
            s += "<frame procname=\"Sales.dbo.usp_ShipOrder\" line=\"" + std::to_string(1 + rng() % 200) +
                 "\" stmtstart=\"" + std::to_string(rng() % 4000) + "\" stmtend=\"" + std::to_string(4000 + rng() % 4000) +
                 "\" sqlhandle=\"" + h + "\">\n" + kStatements[rng() % 5] + "    </frame>";
        } else {
            s += "<frame line=\"" + std::to_string(1 + rng() % 200) + "\" stmtstart=\"" + std::to_string(rng() % 4000) +
                 "\" stmtend=\"" + std::to_string(4000 + rng() % 4000) + "\" sqlhandle=\"" + h + "\"/>";
        }
    }
    s += "</executionStack><inputbuf>\n";
    int parts = 1 + static_cast<int>(rng() % 3);
    for (int p = 0; p < parts; ++p) s += std::string(kStatements[rng() % 5]) + ";\n";
    s += "   </inputbuf></process>";
    return s;
}

std::string short_process(std::mt19937_64& rng, int spid) {
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "<process status=\"sleeping\" spid=\"%d\" sbid=\"0\" ecid=\"0\" priority=\"0\" trancount=\"1\" "
                  "lastbatchstarted=\"2026-11-23T10:14:49.447\" lastbatchcompleted=\"2026-11-23T10:14:49.443\" "
                  "lastattention=\"1900-01-01T00:00:00.443\" clientapp=\"%s\" hostname=\"DBA%02d\" hostpid=\"%d\" "
                  "loginname=\"%s\" isolationlevel=\"read committed (2)\" xactid=\"%d\" currentdb=\"7\" "
                  "currentdbname=\"Sales\" lockTimeout=\"4294967295\" clientoption1=\"671090784\" "
                  "clientoption2=\"390200\"><executionStack/><inputbuf>\nBEGIN TRAN; %s   </inputbuf></process>",
                  spid, kApps[rng() % 5], static_cast<int>(rng() % 40), static_cast<int>(rng() % 30000),
                  kLogins[rng() % 5], static_cast<int>(rng() % 10000000), kStatements[rng() % 5]);
    return buf;
}

std::string timestamp(long long i) {
    long long ms = i * 137;
    char buf[64];
    std::snprintf(buf, sizeof buf, "2026-11-23T%02lld:%02lld:%02lld.%03lldZ", (ms / 3600000) % 24, (ms / 60000) % 60,
                  (ms / 1000) % 60, ms % 1000);
    return buf;
}

void generate(const std::string& path, long long n) {
    std::mt19937_64 rng(20261123);
    std::ofstream out(path, std::ios::binary);
    for (long long i = 0; i < n; ++i) {
        std::string e;
        if (i % 5 != 4) {
            int spid = 51 + static_cast<int>(rng() % 200);
            e = "<event name=\"blocked_process_report\" package=\"sqlserver\" timestamp=\"" + timestamp(i) + "\">"
                "<data name=\"duration\"><value>" + std::to_string(rng() % 100000000) + "</value></data>"
                "<data name=\"database_id\"><value>7</value></data><data name=\"object_id\"><value>0</value></data>"
                "<data name=\"index_id\"><value>0</value></data><data name=\"lock_mode\"><value>4</value><text>U</text></data>"
                "<data name=\"transaction_id\"><value>" + std::to_string(rng() % 10000000) + "</value></data>"
                "<data name=\"resource_owner_type\"><value>0x00000001</value><text>LOCK</text></data>"
                "<data name=\"blocked_process\"><value><blocked-process-report monitorLoop=\"" + std::to_string(i / 3) +
                "\"><blocked-process>" + long_process(rng, spid, 0, false, "process" + std::to_string(i)) +
                "</blocked-process><blocking-process>" + short_process(rng, spid + 1) +
                "</blocking-process></blocked-process-report></value></data>"
                "<data name=\"database_name\"><value>Sales</value></data></event>";
        } else {
            int procs = 2 + static_cast<int>(rng() % 3);
            e = "<event name=\"xml_deadlock_report\" package=\"sqlserver\" timestamp=\"" + timestamp(i) +
                "\"><data name=\"xml_report\"><value><deadlock><victim-list><victimProcess id=\"p" +
                std::to_string(i) + "_0\"/></victim-list><process-list>";
            for (int p = 0; p < procs; ++p)
                e += long_process(rng, 60 + p, 0, true, "p" + std::to_string(i) + "_" + std::to_string(p));
            e += "</process-list><resource-list>";
            for (int p = 0; p < procs; ++p) {
                std::string owner = "p" + std::to_string(i) + "_" + std::to_string(p);
                std::string waiter = "p" + std::to_string(i) + "_" + std::to_string((p + 1) % procs);
                e += "<keylock hobtid=\"72057594045595648\" dbid=\"7\" objectname=\"Sales.dbo.Orders\" "
                     "indexname=\"PK_Orders\" id=\"lock" + std::to_string(i * 10 + p) +
                     "\" mode=\"X\" associatedObjectId=\"72057594045595648\"><owner-list><owner id=\"" + owner +
                     "\" mode=\"X\"/></owner-list><waiter-list><waiter id=\"" + waiter +
                     "\" mode=\"U\" requestType=\"wait\"/></waiter-list></keylock>";
            }
            e += "</resource-list></deadlock></value></data></event>";
        }
        out << e << '\n';
    }
}

// ------------------------------------------------------------------------------------------------ methods

// CPU time of this process: unlike the wall clock, not lengthened by another process (or virtual machine)
// taking the core for a while, so the ratios of CPU times hold when the machine is shared.
double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string s;
    in.seekg(0, std::ios::end);
    s.resize(static_cast<std::size_t>(in.tellg()));
    in.seekg(0);
    in.read(s.data(), static_cast<std::streamsize>(s.size()));
    return s;
}

Result run_pugixml(const std::string& path) {
    Result r;
    auto t0 = Clock::now();
    const double c0 = cpu_now();
    std::string bytes = slurp(path);
    pugi::xml_document doc;
    auto res = doc.load_buffer_inplace(bytes.data(), bytes.size(), pugi::parse_default | pugi::parse_fragment,
                                       pugi::encoding_utf8);
    for (auto n : doc.children("event")) {
        (void)n;
        ++r.events;
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    r.cpu_seconds = cpu_now() - c0;
    r.errors = res ? 0 : 1;
    r.ok = true;
    return r;
}

Result run_dmvlog(const std::string& path, bool json) {
    Result r;
    auto t0 = Clock::now();
    const double c0 = cpu_now();
    std::ifstream in(path, std::ios::binary);
    dmvlog::xe::EventReader reader(in);
    dmvlog::xe::Event e;
    std::size_t sink = 0;
    while (reader.next(e)) {
        if (json) {
            sink += dmvlog::xe::to_json_line(e).size();
        } else if (const auto* b = e.blocked_process_report(); b && e.type == dmvlog::xe::EventType::blocked_process_report) {
            sink += static_cast<std::size_t>(b->blocked.spid.value_or(0)) + b->blocked.frames.size();
        } else if (const auto* d = e.deadlock_report()) {
            sink += d->processes.size() + d->resources.size();
        }
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    r.cpu_seconds = cpu_now() - c0;
    r.events = static_cast<long long>(reader.stats().events);
    r.errors = static_cast<long long>(reader.stats().parse_errors);
    r.ok = sink > 0;
    return r;
}

// Runs fn in a child; its result comes back through a pipe and its peak RSS from wait4.
template <typename Fn>
Result in_child(Fn fn) {
    int fds[2];
    if (pipe(fds) != 0) return {};
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        Result r = fn();
        if (write(fds[1], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) _exit(1);
        _exit(0);
    }
    close(fds[1]);
    Result r;
    if (read(fds[0], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) r.ok = false;
    close(fds[0]);
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    r.max_rss_kb = ru.ru_maxrss;
    return r;
}

Result run_python(const std::string& python, const std::string& path) {
    Result r;
    std::string out_path = path + ".py.out";
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (!std::freopen(out_path.c_str(), "w", stdout)) _exit(127);
        execl(python.c_str(), python.c_str(), DMVLOG_XE_BASELINE_PY, path.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    r.max_rss_kb = ru.ru_maxrss;
    std::ifstream in(out_path);
    std::string line;
    std::getline(in, line);
    std::filesystem::remove(out_path);
    if (std::sscanf(line.c_str(), "events=%lld errors=%lld seconds=%lf cpu=%lf", &r.events, &r.errors, &r.seconds,
                    &r.cpu_seconds) == 4)
        r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    long long events = 100000;
    int runs = 3;
    std::string file, python = "/usr/bin/python3";
    bool keep = false;
    std::string only;   // one method, in this process (for a profiler): floor, dmvlog, json
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--events" && i + 1 < argc) events = std::atoll(argv[++i]);
        else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
        else if (a == "--file" && i + 1 < argc) file = argv[++i];
        else if (a == "--python" && i + 1 < argc) python = argv[++i];
        else if (a == "--keep") keep = true;
        else if (a == "--only" && i + 1 < argc) only = argv[++i];
        else {
            std::fprintf(stderr, "usage: xe_parse_bench [--events N] [--runs R] [--file PATH] [--keep] [--python PATH]"
                                 " [--only floor|dmvlog|json]\n");
            return 2;
        }
    }
    bool generated = false;
    if (file.empty()) {
        file = (std::filesystem::temp_directory_path() / ("xe_parse_bench_" + std::to_string(getpid()) + ".xml")).string();
        generated = true;
    }
    if (generated || !std::filesystem::exists(file)) {
        std::printf("generating %lld events into %s ...\n", events, file.c_str());
        generate(file, events);
    }
    const double mb = static_cast<double>(std::filesystem::file_size(file)) / (1024.0 * 1024.0);
    std::printf("input: %lld events, %.1f MiB (%.0f bytes/event)\n\n", events, mb, mb * 1048576.0 / static_cast<double>(events));

    if (!only.empty()) {   // e.g. perf record -g xe_parse_bench --file F --only dmvlog
        Result r = only == "floor" ? run_pugixml(file) : run_dmvlog(file, only == "json");
        std::printf("%s: %.3f s (CPU %.3f s), %lld events, %lld errors\n", only.c_str(), r.seconds, r.cpu_seconds,
                    r.events, r.errors);
        return r.ok ? 0 : 1;
    }
    // Every method R times, the methods taking turns (floor, dmvlog, dmvlog + JSON, Python, then again), so
    // that a slow moment of a shared machine falls on one run of some methods, not on every run of one; the
    // best run of each counts (the CPU time: the least of its runs; peak RSS: the most).
    auto keep_best = [](Result& b, const Result& r) {
        if (!r.ok) return;
        if (!b.ok) {
            b = r;
            return;
        }
        const double cpu = std::min(b.cpu_seconds, r.cpu_seconds);
        const long rss = std::max(b.max_rss_kb, r.max_rss_kb);
        if (r.seconds < b.seconds) b = r;
        b.cpu_seconds = cpu;
        b.max_rss_kb = rss;
    };
    Result floor, ours, ours_json, py;
    for (int i = 0; i < runs; ++i) {
        keep_best(floor, in_child([&] { return run_pugixml(file); }));
        keep_best(ours, in_child([&] { return run_dmvlog(file, false); }));
        keep_best(ours_json, in_child([&] { return run_dmvlog(file, true); }));
        keep_best(py, run_python(python, file));
    }

    auto row = [&](const char* name, const Result& r) {
        if (!r.ok) {
            std::printf("%-44s  failed\n", name);
            return;
        }
        std::printf("%-44s %8.3f s %8.3f s %10.0f ev/s %8.1f MiB/s %8.1f MiB peak RSS  (%lld events, %lld errors)\n",
                    name, r.seconds, r.cpu_seconds, static_cast<double>(r.events) / r.seconds, mb / r.seconds,
                    static_cast<double>(r.max_rss_kb) / 1024.0, r.events, r.errors);
    };
    std::printf("%-44s %10s %10s %15s %14s %24s\n", "method (best of runs)", "time", "CPU", "events/s",
                "MB/s", "");
    row("pugixml load_buffer_inplace, one tree (floor)", floor);
    row("dmvlog EventReader (streaming, model)", ours);
    row("dmvlog EventReader + JSON lines", ours_json);
    row("python3 xml.etree per event (baseline.py)", py);
    if (floor.ok && ours.ok)
        std::printf("\ndmvlog / bare pugixml speed: %.2f by the clock, %.2f by CPU time (target >= 0.5)\n",
                    floor.seconds / ours.seconds, floor.cpu_seconds / ours.cpu_seconds);
    if (py.ok && ours.ok)
        std::printf("dmvlog / python speed:       %.1fx by the clock, %.1fx by CPU time (target >= 10x)\n",
                    py.seconds / ours.seconds, py.cpu_seconds / ours.cpu_seconds);
    if (py.ok && ours_json.ok)
        std::printf("dmvlog+JSON / python speed:  %.1fx by the clock, %.1fx by CPU time\n", py.seconds / ours_json.seconds,
                    py.cpu_seconds / ours_json.cpu_seconds);
    std::printf("\nreproduce: %s --events %lld --runs %d\n", argv[0], events, runs);
    if (generated && !keep) std::filesystem::remove(file);
    else std::printf("file kept: %s\n", file.c_str());
    return floor.ok && ours.ok ? 0 : 1;
}
