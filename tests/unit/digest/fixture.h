// A real store with the built-in collector tables (query::testing::StoreFixture) plus blocked-process
// reports and deadlocks written the way the blocking_events collector writes them (SqliteStore::write_xe).
#pragma once

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "../query/fixture.h"
#include "agent/digest/digest.h"
#include "agent/store/xe_store.h"
#include "agent/xe/envelope.h"

namespace dmvlog::digest::testing {

using query::testing::i;
using query::testing::ticks;
using query::testing::ts;

struct Bpr {
    std::string at;          // UTC, "2026-11-23 10:00:05"
    int loop = 1;
    int blocked = 60, blocking = 55;
    std::int64_t wait_ms = 5000;
    std::string resource = "KEY: 7:72057594045595648 (8194443284a0)";
    std::string blocked_sql = "UPDATE dbo.Orders SET Status = 2 WHERE OrderId = @id";
    std::string head_login = "etl_loader", head_host = "BATCH01", head_app = "Nightly Loader";
    std::string head_sql = "BEGIN TRAN; UPDATE dbo.Orders SET Status = 1";
    std::string head_tran_started = "2026-11-23T09:59:00.000";
};

inline std::string iso_z(const std::string& store_text) {
    std::string s = store_text;
    s[10] = 'T';
    return s + ".000Z";
}

inline std::string bpr_xml(const Bpr& b) {
    return fmt::format(
        R"x(<event name="blocked_process_report" package="sqlserver" timestamp="{0}"><data name="duration"><value>{4}000</value></data>)x"
        R"x(<data name="database_id"><value>7</value></data><data name="lock_mode"><value>4</value><text>U</text></data>)x"
        R"x(<data name="blocked_process"><value><blocked-process-report monitorLoop="{1}"><blocked-process>)x"
        R"x(<process id="process{2}" waitresource="{5}" waittime="{4}" spid="{2}" sbid="0" ecid="0" )x"
        R"x(status="suspended" lockMode="U" loginname="app_oltp" hostname="WEB01" clientapp="Shop" isolationlevel="read committed (2)" )x"
        R"x(currentdb="7"><executionStack><frame line="1" stmtstart="0" sqlhandle="0x0200"/></executionStack>)x"
        R"x(<inputbuf>{6}</inputbuf></process></blocked-process>)x"
        R"x(<blocking-process><process status="sleeping" spid="{3}" sbid="0" ecid="0" trancount="1" {11})x"
        R"x(loginname="{7}" hostname="{8}" clientapp="{9}" transactionname="user_transaction" currentdb="7">)x"
        R"x(<executionStack/><inputbuf>{10}</inputbuf></process></blocking-process>)x"
        R"x(</blocked-process-report></value></data></event>)x",
        iso_z(b.at), b.loop, b.blocked, b.blocking, b.wait_ms, b.resource, b.blocked_sql, b.head_login, b.head_host,
        b.head_app, b.head_sql,
        b.head_tran_started.empty() ? std::string("lastbatchcompleted=\"2026-11-23T09:58:30.000\" ")
                                    : "lasttranstarted=\"" + b.head_tran_started + "\" ");
}

inline std::string deadlock_xml(const std::string& at) {
    std::ifstream in(std::string(DMVLOG_SOURCE_DIR) + "/tests/xe/corpus/deadlock_keylock.xml", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return fmt::format(R"(<event name="xml_deadlock_report" package="sqlserver" timestamp="{}"><data name="xml_report"><value>{}</value></data></event>)",
                       iso_z(at), ss.str());
}

class DigestFixture : public query::testing::StoreFixture {
protected:
    // Writes events as one blocking_events run (any order).
    void write_events(const std::vector<std::string>& xml, const std::string& instance = "prod1") {
        store::XeBatch b;
        b.instance = instance;
        b.source = "dmvlog_blocking";
        b.collected_at = *parse_timestamp("2026-11-23 12:00:00");
        for (const auto& x : xml) {
            store::XeEventRow r;
            r.raw_xml = x;
            r.file_name = "dmvlog_blocking_0_1.xel";
            r.file_offset = ++offset_;
            r.event = xe::parse_event(x);
            ASSERT_TRUE(r.event.ok()) << x.substr(0, 200);
            r.object_name = r.event.name;
            b.events.push_back(std::move(r));
        }
        b.bookmark.file_name = "dmvlog_blocking_0_1.xel";
        b.bookmark.file_offset = offset_;
        store::RunRecord run;
        run.instance = instance;
        run.collector = "blocking_events";
        run.started_at = b.collected_at;
        run.status = "ok";
        store->write_xe(b, run);
    }
    // A wait of `blocked` behind `blocking` from `began` until `until` (UTC store text), reported every 5 s.
    void wait_reports(std::vector<std::string>& out, Bpr base, const std::string& began, const std::string& until) {
        const auto b = ticks(began), u = ticks(until);
        for (auto t = b + 5 * kTicksPerSecond; t <= u; t += 5 * kTicksPerSecond) {
            Bpr x = base;
            x.at = format_timestamp(Timestamp{t, 0, false}).substr(0, 19);
            x.loop = static_cast<int>((t / kTicksPerSecond) % 100000);
            x.wait_ms = (t - b) / 10'000;
            out.push_back(bpr_xml(x));
        }
    }
    void threshold(int seconds, const std::string& at = "2026-11-23 08:00:00", const std::string& instance = "prod1") {
        write("server_info", at, {{{"blocked_process_threshold_s", i(seconds)}}}, "2026-01-01 00:00:00", 0, instance);
    }
    Digest digest(const std::string& from, const std::string& to, const query::Zone* zone = nullptr, int buckets = 60) {
        Options o;
        o.window.from = ticks(from);
        o.window.to = ticks(to);
        o.zone = zone;
        o.buckets = buckets;
        o.now = ticks("2026-11-23 12:00:00");
        return build(store->handle(), o);
    }
    std::int64_t offset_ = 0;
};

}  // namespace dmvlog::digest::testing
