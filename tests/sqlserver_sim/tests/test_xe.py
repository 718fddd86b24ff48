"""Extended Events: report XML shapes, escaping, event_file bookmarks and rollover, ring buffer, the SQL answers."""
import datetime as dt
import types
import unittest
import xml.etree.ElementTree as ET

from sim.answers import xe as xe_answers
from sim.model.xe import XeStore
from sim.results import Error, Info, ResultSet, RowCount

T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
SEC = dt.timedelta(seconds=1)
HANDLE = bytes.fromhex("02000000259c02263c40846f7de70ea52f9c8f3d8fdfc07a") + bytes(20)


class FakeServer:
    def __init__(self, cfg=None, version=16):
        self.xe = XeStore(cfg or {})
        self.t = T0
        self.version = version

    def now(self):
        return self.t


def run(server, sql, params=None):
    res = xe_answers.answer(server, types.SimpleNamespace(spid=60), sql, None, params)
    assert res is not None, sql
    return res


def blocked(spid=55, **kw):
    d = {"spid": spid, "waitresource": "KEY: 7:72057594045333504 (8194443284a0)", "waittime": 12111,
         "lockMode": "U", "xactid": 255870166, "transactionname": "UPDATE", "lasttranstarted": T0 - 20 * SEC,
         "lastbatchstarted": T0 - 20 * SEC, "lastbatchcompleted": T0 - 21 * SEC, "clientapp": "OrderService",
         "hostname": "app01", "hostpid": 2864, "loginname": "app", "isolationlevel": 2, "currentdb": 7,
         "currentdbname": "SalesDB", "frames": [{"line": 1, "stmtstart": 50, "stmtend": 194, "sqlhandle": HANDLE}],
         "inputbuf": "UPDATE dbo.Orders SET Status = 2 WHERE OrderID = @id"}
    d.update(kw)
    return d


def blocking(spid=66, **kw):
    d = {"spid": spid, "status": "sleeping", "trancount": 1, "xactid": 255868238, "lastbatchstarted": T0 - 30 * SEC,
         "lastbatchcompleted": T0 - 29 * SEC, "clientapp": "SSMS", "hostname": "dba-pc", "loginname": "dba",
         "currentdb": 7, "currentdbname": "SalesDB", "inputbuf": "BEGIN TRAN; UPDATE dbo.Orders SET Status = 1"}
    d.update(kw)
    return d


def with_session(server, name="dmvlog_blocking", size_mb=1, rollover=4, latency=5, extra=""):
    run(server, f"""CREATE EVENT SESSION [{name}] ON SERVER
        ADD EVENT sqlserver.blocked_process_report(ACTION(sqlserver.sql_text))
        ADD TARGET package0.event_file(SET filename = N'{name}.xel', max_file_size = ({size_mb}),
                                       max_rollover_files = ({rollover})){extra}
        WITH (MAX_MEMORY = 4096 KB, MAX_DISPATCH_LATENCY = {latency} SECONDS, STARTUP_STATE = ON);
        ALTER EVENT SESSION [{name}] ON SERVER STATE = START;""")


def enable_threshold(server, seconds=5):
    res = run(server, "EXEC sp_configure 'show advanced options', 1; RECONFIGURE; "
                      f"EXEC sp_configure 'blocked process threshold (s)', {seconds}; RECONFIGURE;")
    assert not any(isinstance(r, Error) for r in res), res


class ReportXmlTest(unittest.TestCase):
    def setUp(self):
        self.server = FakeServer({"utc_offset_minutes": 540})
        enable_threshold(self.server)
        with_session(self.server)

    def read_all(self, now=None):
        return self.server.xe.read_file("dmvlog_blocking*.xel", None, None, now)

    def test_blocked_process_report_shape(self):
        xe = self.server.xe
        self.assertEqual(xe.blocked_process_threshold, 5)
        self.assertEqual(xe.emit_blocked_process_report(T0, 181962, blocked(), blocking()), 1)
        rows = self.read_all()
        self.assertEqual(len(rows), 1)
        r = rows[0]
        self.assertEqual(r["object_name"], "blocked_process_report")
        ev = ET.fromstring(r["event_data"])
        self.assertEqual((ev.tag, ev.get("name"), ev.get("package")), ("event", "blocked_process_report", "sqlserver"))
        self.assertEqual(ev.get("timestamp"), "2026-03-02T09:00:00.000Z")
        data = {d.get("name"): d for d in ev.findall("data")}
        self.assertEqual(list(data), ["duration", "database_id", "object_id", "index_id", "lock_mode", "transaction_id",
                                      "resource_owner_type", "blocked_process", "database_name"])
        self.assertEqual(data["duration"].findtext("value"), "12111000")
        self.assertEqual((data["lock_mode"].findtext("value"), data["lock_mode"].findtext("text")), ("4", "U"))
        self.assertEqual(data["database_name"].findtext("value"), "SalesDB")
        self.assertIsNone(data["duration"].find("type"))       # event_file data carries no <type>
        rep = data["blocked_process"].find("value/blocked-process-report")
        self.assertEqual(rep.get("monitorLoop"), "181962")
        p = rep.find("blocked-process/process")
        for a in ("id", "taskpriority", "logused", "waitresource", "waittime", "ownerId", "transactionname",
                  "lasttranstarted", "XDES", "lockMode", "schedulerid", "kpid", "status", "spid", "sbid", "ecid",
                  "priority", "trancount", "lastbatchstarted", "lastbatchcompleted", "lastattention", "clientapp",
                  "hostname", "hostpid", "loginname", "isolationlevel", "xactid", "currentdb", "currentdbname",
                  "lockTimeout", "clientoption1", "clientoption2"):
            self.assertIsNotNone(p.get(a), a)
        self.assertEqual(list(p.attrib)[:4], ["id", "taskpriority", "logused", "waitresource"])
        self.assertTrue(p.get("id").startswith("process"))
        self.assertEqual((p.get("spid"), p.get("status"), p.get("waittime")), ("55", "suspended", "12111"))
        self.assertEqual(p.get("isolationlevel"), "read committed (2)")
        self.assertTrue(p.get("XDES").startswith("0x"))
        # report times are local (UTC+9 here), the event timestamp is UTC
        self.assertEqual(p.get("lasttranstarted"), "2026-03-02T17:59:40.000")
        self.assertEqual(p.get("lastattention"), "1900-01-01T00:00:00.000")
        frame = p.find("executionStack/frame")
        self.assertEqual(frame.attrib, {"line": "1", "stmtstart": "50", "stmtend": "194", "sqlhandle": "0x" + HANDLE.hex()})
        self.assertIn("UPDATE dbo.Orders", p.findtext("inputbuf"))
        b = rep.find("blocking-process/process")
        self.assertEqual(list(b.attrib)[:2], ["status", "spid"])
        self.assertEqual((b.get("status"), b.get("spid")), ("sleeping", "66"))
        self.assertIsNone(b.get("waitresource"))
        self.assertEqual(len(b.find("executionStack")), 0)

    def test_frame_offsets_omitted_like_sql_server(self):
        xe = self.server.xe
        xe.emit_blocked_process_report(T0, 1, blocked(frames=[{"line": 3, "stmtstart": 0, "stmtend": -1,
                                                               "sqlhandle": HANDLE}]), blocking())
        ev = ET.fromstring(self.read_all()[0]["event_data"])
        frame = ev.find(".//blocked-process/process/executionStack/frame")
        self.assertEqual(set(frame.attrib), {"line", "sqlhandle"})

    def test_japanese_and_escapes_round_trip(self):
        xe = self.server.xe
        text = "UPDATE [dbo].[顧客] SET [名前] = N'東京 & <大阪>', memo = N'𠮷野 \"quoted\"' WHERE a < 5 AND b <> 'x'"
        app = 'App "A" & <B> 日本'
        xe.emit_blocked_process_report(T0, 7, blocked(inputbuf=text, clientapp=app, currentdbname="在庫DB"),
                                       blocking(inputbuf="SELECT 1 -- ＆"))
        row = self.read_all()[0]
        self.assertIn("&lt;大阪&gt;", row["event_data"])
        ev = ET.fromstring(row["event_data"])
        p = ev.find(".//blocked-process/process")
        self.assertEqual(p.findtext("inputbuf").strip(), text)
        self.assertEqual(p.get("clientapp"), app)
        self.assertEqual(p.get("currentdbname"), "在庫DB")
        self.assertEqual(ev.find("data[@name='database_name']/value").text, "在庫DB")
        # the event also survives the UTF-16 the wire carries
        self.assertEqual(ET.fromstring(row["event_data"].encode("utf-16").decode("utf-16")).get("name"),
                         "blocked_process_report")

    def test_no_reports_while_threshold_is_zero(self):
        server = FakeServer()
        with_session(server, "t0")
        self.assertEqual(server.xe.emit_blocked_process_report(T0, 1, blocked(), blocking()), 0)
        self.assertEqual(server.xe.read_file("t0*.xel"), [])
        self.assertEqual(server.xe.emitted, [])
        # sp_configure without RECONFIGURE does not install the value
        run(server, "EXEC sp_configure 'show advanced options', 1; RECONFIGURE;")
        res = run(server, "EXEC sp_configure 'blocked process threshold', 10")
        self.assertIsInstance(res[0], Info)
        self.assertEqual(res[0].number, 15457)
        self.assertEqual(server.xe.blocked_process_threshold, 0)
        run(server, "RECONFIGURE WITH OVERRIDE")
        self.assertEqual(server.xe.blocked_process_threshold, 10)

    def test_deadlock_report(self):
        xe = self.server.xe
        procs = [blocked(spid=54, lockMode="U", waitresource="KEY: 5:72057594045792256 (8194443284a0)",
                         frames=[{"procname": "SalesDB.dbo.usp_注文登録", "line": 12, "stmtstart": 342,
                                  "stmtend": 998, "sqlhandle": HANDLE, "text": "UPDATE dbo.Orders SET x = 1 WHERE id < 3"}]),
                 blocked(spid=51, lockMode="U", waitresource="KEY: 5:72057594045726720 (8194443284a0)")]
        res = [{"type": "keylock", "hobtid": 72057594045792256, "dbid": 5, "objectname": "SalesDB.dbo.Orders",
                "indexname": "PK_Orders", "mode": "X", "associatedObjectId": 72057594045792256,
                "owners": [{"id": 51, "mode": "X"}], "waiters": [{"id": 54, "mode": "U", "requestType": "wait"}]},
               {"type": "keylock", "hobtid": 72057594045726720, "dbid": 5, "objectname": "SalesDB.dbo.Accounts",
                "indexname": "PK_Accounts", "mode": "X", "associatedObjectId": 72057594045726720,
                "owners": [{"id": 54, "mode": "X"}], "waiters": [{"id": 51, "mode": "U", "requestType": "wait"}]}]
        self.assertEqual(xe.emit_deadlock(T0 + SEC, [54], procs, res), 1)        # system_health only
        rows = xe.read_file("system_health*.xel")
        self.assertEqual([r["object_name"] for r in rows], ["xml_deadlock_report"])
        ev = ET.fromstring(rows[0]["event_data"])
        dl = ev.find("data[@name='xml_report']/value/deadlock")
        ids = [p.get("id") for p in dl.findall("process-list/process")]
        self.assertEqual(len(ids), 2)
        victim = dl.find("victim-list/victimProcess").get("id")
        self.assertEqual(victim, ids[0])
        kl = dl.findall("resource-list/keylock")
        self.assertEqual(len(kl), 2)
        for a in ("hobtid", "dbid", "objectname", "indexname", "id", "mode", "associatedObjectId"):
            self.assertIsNotNone(kl[0].get(a), a)
        self.assertEqual(kl[0].find("owner-list/owner").get("id"), ids[1])
        self.assertEqual(kl[0].find("waiter-list/waiter").attrib, {"id": ids[0], "mode": "U", "requestType": "wait"})
        frame = dl.find("process-list/process/executionStack/frame")
        self.assertEqual(frame.get("procname"), "SalesDB.dbo.usp_注文登録")
        self.assertIn("id < 3", frame.text)
        # the ring buffer has it too, with <type> elements
        rb = ET.fromstring(xe.ring_buffer_xml("system_health"))
        self.assertEqual(rb.tag, "RingBufferTarget")
        e = rb.find("event[@name='xml_deadlock_report']")
        self.assertEqual(e.find("data/type").attrib, {"name": "xml", "package": "package0"})
        self.assertEqual(len(xe.truth_events(T0, T0 + 2 * SEC, "xml_deadlock_report")), 1)


class EventFileTest(unittest.TestCase):
    def emit(self, server, n, start, step=SEC):
        t = start
        for i in range(n):
            server.xe.emit_blocked_process_report(t, 1000 + i, blocked(spid=60 + i % 20, waittime=5000 + i),
                                                  blocking())
            t += step
        return t

    def test_bookmark_reads_only_new_events(self):
        server = FakeServer()
        enable_threshold(server)
        with_session(server, latency=5)
        xe = server.xe
        t = self.emit(server, 3, T0)
        # buffered: nothing on disk before the dispatch latency
        self.assertEqual(xe.read_file("dmvlog_blocking*.xel", None, None, T0 + 2 * SEC), [])
        rows = xe.read_file("dmvlog_blocking*.xel", None, None, T0 + 6 * SEC)
        self.assertEqual(len(rows), 3)
        self.assertEqual(len({r["file_offset"] for r in rows}), 1)        # one buffer, one offset
        self.assertTrue(rows[0]["file_name"].startswith("/var/opt/mssql/log/dmvlog_blocking_0_"))
        self.assertTrue(rows[0]["file_name"].endswith(".xel"))
        self.assertEqual(len(rows[0]["file_name"].rsplit("_", 1)[1]), len("133456789012345678.xel"))
        last = (rows[-1]["file_name"], rows[-1]["file_offset"])
        self.assertEqual(xe.read_file("dmvlog_blocking*.xel", *last, now=T0 + 7 * SEC), [])
        t = self.emit(server, 4, T0 + 10 * SEC)
        new = xe.read_file("dmvlog_blocking*.xel", *last, now=t + 10 * SEC)
        self.assertEqual([r["timestamp_utc"] for r in new], [T0 + (10 + i) * SEC for i in range(4)])
        self.assertGreater(new[0]["file_offset"], last[1])
        self.assertTrue(all(r["timestamp_utc"] > rows[-1]["timestamp_utc"] for r in new))
        self.assertEqual(len(xe.read_file("dmvlog_blocking*.xel", None, None)), 7)

    def test_rollover_deletes_old_files_and_a_stale_bookmark_fails(self):
        server = FakeServer()
        enable_threshold(server)
        with_session(server, size_mb=0.02, rollover=3, latency=1)
        xe = server.xe
        self.emit(server, 4, T0, step=2 * SEC)
        first = xe.read_file("dmvlog_blocking*.xel", None, None, T0 + 20 * SEC)
        bookmark = (first[-1]["file_name"], first[-1]["file_offset"])
        self.emit(server, 60, T0 + 20 * SEC, step=2 * SEC)
        xe.flush()
        files = xe.files("dmvlog_blocking*.xel")
        self.assertEqual(len(files), 3)
        self.assertNotIn(bookmark[0], files)
        with self.assertRaises(Exception) as cm:
            xe.read_file("dmvlog_blocking*.xel", *bookmark)
        self.assertEqual(cm.exception.number, 25718)
        res = run(server, "SELECT object_name, file_name, file_offset FROM "
                          "sys.fn_xe_file_target_read_file(N'dmvlog_blocking*.xel', NULL, @f, @o)",
                  {"@f": bookmark[0], "@o": bookmark[1]})
        self.assertIsInstance(res[0], Error)
        self.assertEqual(res[0].number, 25718)
        rest = xe.read_file("dmvlog_blocking*.xel", None, None)
        self.assertTrue(0 < len(rest) < 64)
        self.assertEqual([r["file_name"] for r in rest], sorted((r["file_name"] for r in rest), key=files.index))
        for f in files:
            sizes = [r["file_offset"] for r in rest if r["file_name"] == f]
            self.assertEqual(sizes, sorted(sizes))
            self.assertLessEqual(max(sizes), 0.02 * 1024 * 1024)
        # a bookmark inside a file that still exists resumes across later files
        mid = [r for r in rest if r["file_name"] == files[1]][0]
        after = xe.read_file("dmvlog_blocking*.xel", mid["file_name"], mid["file_offset"])
        self.assertEqual(len(after), len([r for r in rest if (files.index(r["file_name"]), r["file_offset"])
                                          > (1, mid["file_offset"])]))

    def test_argument_errors(self):
        server = FakeServer()
        enable_threshold(server)
        with_session(server, latency=1)
        xe = server.xe
        self.emit(server, 2, T0)
        rows = xe.read_file("dmvlog_blocking*.xel", None, None, T0 + 5 * SEC)
        with self.assertRaises(Exception) as cm:
            xe.read_file("dmvlog_blocking*.xel", rows[0]["file_name"], None)
        self.assertEqual(cm.exception.number, 25719)
        with self.assertRaises(Exception) as cm:
            xe.read_file("dmvlog_blocking*.xel", rows[0]["file_name"], rows[0]["file_offset"] + 7)
        self.assertEqual(cm.exception.number, 25722)
        with self.assertRaises(Exception) as cm:
            xe.read_file("/var/opt/mssql/log/nothing.xel", None, None)
        self.assertEqual(cm.exception.number, 25718)
        self.assertEqual(xe.read_file("nothing*.xel", None, None), [])

    def test_ring_buffer_keeps_the_newest_and_counts(self):
        server = FakeServer({"ring_buffer_xml_limit_bytes": 6000})
        enable_threshold(server)
        run(server, """CREATE EVENT SESSION rb ON SERVER ADD EVENT sqlserver.blocked_process_report
                       ADD TARGET package0.ring_buffer(SET max_events_limit = 5, max_memory = 1024);
                       ALTER EVENT SESSION rb ON SERVER STATE = START""")
        self.emit(server, 12, T0)
        doc = ET.fromstring(server.xe.ring_buffer_xml("rb"))
        self.assertEqual((doc.get("totalEventsProcessed"), doc.get("eventCount")), ("12", "5"))
        self.assertEqual(doc.get("truncated"), "1")           # 5 reports do not fit in 6,000 bytes of XML
        evs = doc.findall("event")
        self.assertTrue(0 < len(evs) < 5)
        self.assertEqual(evs[0].find(".//blocked-process-report").get("monitorLoop"), "1007")   # oldest kept
        res = run(server, "SELECT s.name, t.target_name, CAST(t.target_data AS xml) AS target_data "
                          "FROM sys.dm_xe_sessions AS s JOIN sys.dm_xe_session_targets AS t "
                          "ON s.address = t.event_session_address WHERE s.name = N'rb'")
        self.assertEqual(res[0].rows[0][:2], ("rb", "ring_buffer"))
        self.assertEqual([c.type for c in res[0].columns], ["nvarchar(256)", "nvarchar(60)", "xml"])
        self.assertTrue(res[0].rows[0][2].startswith("<RingBufferTarget"))

    def test_restart_reopens_startup_sessions(self):
        server = FakeServer()
        enable_threshold(server)
        with_session(server, latency=1)
        self.emit(server, 2, T0)
        server.xe.flush()
        before = server.xe.files("dmvlog_blocking*.xel")
        server.xe.restart(T0 + 60 * SEC)
        self.assertEqual(len(server.xe.files("dmvlog_blocking*.xel")), len(before) + 1)
        self.assertTrue(any(s["name"] == "dmvlog_blocking" for s in server.xe.session_rows()))


class AnswerTest(unittest.TestCase):
    def test_session_ddl_and_errors(self):
        server = FakeServer()
        with_session(server, "s1")
        res = run(server, "CREATE EVENT SESSION s1 ON SERVER ADD EVENT sqlserver.blocked_process_report "
                          "ADD TARGET package0.ring_buffer")
        self.assertEqual((res[0].number, res[0].message),
                         (25631, 'The event session, "s1", already exists. Choose a unique name for the event session.'))
        self.assertEqual(run(server, "ALTER EVENT SESSION s1 ON SERVER STATE = START")[0].number, 25705)
        self.assertIsInstance(run(server, "ALTER EVENT SESSION [s1] ON SERVER STATE = STOP")[0], RowCount)
        self.assertEqual(run(server, "ALTER EVENT SESSION s1 ON SERVER STATE = STOP")[0].number, 25704)
        self.assertEqual(run(server, "DROP EVENT SESSION nope ON SERVER")[0].number, 15151)
        rows = run(server, "SELECT name, startup_state FROM sys.server_event_sessions WHERE name = 's1'")[0].rows
        self.assertEqual(rows, [("s1", 1)])
        self.assertEqual(run(server, "SELECT name FROM sys.dm_xe_sessions WHERE name = N's1'")[0].rows, [])
        run(server, "IF EXISTS (SELECT * FROM sys.server_event_sessions WHERE name = N's1') "
                    "DROP EVENT SESSION [s1] ON SERVER;")
        self.assertEqual(run(server, "SELECT name FROM sys.server_event_sessions WHERE name = N's1'")[0].rows, [])
        self.assertEqual(run(server, "IF EXISTS (SELECT * FROM sys.server_event_sessions WHERE name = N's1') "
                                     "DROP EVENT SESSION [s1] ON SERVER;"), [])
        session = server.xe.sessions
        self.assertIn("system_health", session)

    def test_event_file_target_data_names_the_current_file(self):
        server = FakeServer()
        with_session(server, "dmvlog_blocking", size_mb=5, rollover=2)
        s = server.xe.sessions["dmvlog_blocking"]
        ef = s.targets["event_file"]
        self.assertEqual((ef.max_file_size, ef.max_rollover_files), (5 * 1024 * 1024, 2))
        self.assertEqual((s.dispatch_latency, s.startup_state), (5, True))
        res = run(server, "SELECT CAST(t.target_data AS xml) FROM sys.dm_xe_session_targets t "
                          "JOIN sys.dm_xe_sessions s ON s.address = t.event_session_address "
                          "WHERE s.name = 'dmvlog_blocking' AND t.target_name = 'event_file'")
        doc = ET.fromstring(res[0].rows[0][0])
        self.assertEqual(doc.find("File").get("name"), server.xe.files("dmvlog_blocking*.xel")[-1])

    def test_configuration_reads(self):
        server = FakeServer()
        self.assertEqual(run(server, "EXEC sp_configure 'blocked process threshold (s)', 5")[0].number, 15123)
        enable_threshold(server, 15)
        res = run(server, "SELECT CAST(value_in_use AS int) AS threshold FROM sys.configurations "
                          "WHERE name = N'blocked process threshold (s)'")[0]
        self.assertEqual((res.columns[0].name, res.columns[0].type, res.rows), ("threshold", "int", [(15,)]))
        rs = run(server, "EXEC sp_configure 'blocked process threshold (s)'")[0]
        self.assertEqual(rs.rows, [("blocked process threshold (s)", 0, 86400, 15, 15)])
        self.assertEqual(run(server, "EXEC sp_configure 'blocked process threshold (s)', 99999")[0].number, 15129)

    def test_read_file_through_sql(self):
        server = FakeServer(version=16)
        enable_threshold(server)
        with_session(server, latency=1)
        for i in range(3):
            server.xe.emit_blocked_process_report(T0 + i * SEC, i, blocked(), blocking())
        server.t = T0 + 30 * SEC
        res = run(server, "SELECT object_name, CAST(event_data AS xml) AS event_data, file_name, file_offset, "
                          "timestamp_utc FROM sys.fn_xe_file_target_read_file(N'dmvlog_blocking*.xel', NULL, NULL, NULL) "
                          "WHERE object_name = N'blocked_process_report' ORDER BY timestamp_utc")[0]
        self.assertIsInstance(res, ResultSet)
        self.assertEqual([(c.name, c.type) for c in res.columns],
                         [("object_name", "nvarchar(256)"), ("event_data", "xml"), ("file_name", "nvarchar(260)"),
                          ("file_offset", "bigint"), ("timestamp_utc", "datetime2(7)")])
        self.assertEqual(len(res.rows), 3)
        f, off = res.rows[-1][2], res.rows[-1][3]
        server.xe.emit_blocked_process_report(T0 + 40 * SEC, 9, blocked(), blocking())
        server.t = T0 + 60 * SEC
        res2 = run(server, f"DECLARE @file nvarchar(260) = N'{f}', @offset bigint = {off};\n"
                           "SELECT * FROM sys.fn_xe_file_target_read_file('dmvlog_blocking*.xel', NULL, @file, @offset)")[0]
        self.assertEqual(len(res2.rows), 1)
        self.assertEqual([c.name for c in res2.columns], [n for n, _ in xe_answers.READ_FILE_COLUMNS])
        old = FakeServer(version=13)
        enable_threshold(old)
        with_session(old)
        cols = xe_answers.read_file_result(old, "dmvlog_blocking*.xel", None, None)[0].columns
        self.assertNotIn("timestamp_utc", [c.name for c in cols])

    def test_unrecognised_sql_is_left_alone(self):
        server = FakeServer()
        for sql in ("SELECT 1", "SELECT name FROM sys.databases", "SET NOCOUNT ON",
                    "ALTER EVENT SESSION s ON SERVER ADD EVENT sqlserver.lock_timeout",
                    "SELECT * FROM sys.fn_xe_file_target_read_file(N'x*.xel', NULL, NULL, NULL) WHERE CAST(event_data AS xml).exist('/x') = 1"):
            self.assertIsNone(xe_answers.answer(server, None, sql, None), sql)
        self.assertIsNone(xe_answers.answer(server, None, "EXEC sp_configure", "requests_5s"))


if __name__ == "__main__":
    unittest.main()
