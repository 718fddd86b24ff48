"""Extended events end to end through the engine: the incident scenario's blocking chain and deadlock, caught
by a dmvlog-style event session, read back with sys.fn_xe_file_target_read_file (also with RPC parameters),
and the threshold set with sp_configure. The engines run on a frozen wall clock (no sockets)."""
from __future__ import annotations

import datetime as dt
import os
import unittest
import xml.etree.ElementTree as ET

from sim.engine import SimEngine
from sim.results import Error, ResultSet
from tests.test_engine import agent_session, make_engine

SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios")

# what dmvlog would create: both reports into one event_file, written at most 5 s after they fire
SESSION_DDL = """
IF NOT EXISTS (SELECT 1 FROM sys.server_event_sessions WHERE name = N'dmvlog_blocking')
CREATE EVENT SESSION [dmvlog_blocking] ON SERVER
    ADD EVENT sqlserver.blocked_process_report,
    ADD EVENT sqlserver.xml_deadlock_report
    ADD TARGET package0.event_file(SET filename = N'dmvlog_blocking.xel', max_file_size = (64), max_rollover_files = (4))
    WITH (MAX_MEMORY = 4096 KB, MAX_DISPATCH_LATENCY = 5 SECONDS, STARTUP_STATE = ON);
ALTER EVENT SESSION [dmvlog_blocking] ON SERVER STATE = START;
"""
READ_ALL = ("SELECT object_name, event_data, file_name, file_offset, timestamp_utc "
            "FROM sys.fn_xe_file_target_read_file(N'dmvlog_blocking*.xel', NULL, NULL, NULL)")
READ_FROM = ("SELECT object_name, event_data, file_name, file_offset, timestamp_utc "
             "FROM sys.fn_xe_file_target_read_file(@path, NULL, @file, @offset)")


def ok(out: list) -> list:
    errors = [r for r in out if isinstance(r, Error)]
    assert not errors, errors
    return out


def rows_of(out: list) -> list[dict]:
    [rs] = [r for r in out if isinstance(r, ResultSet)]
    return [dict(zip([c.name for c in rs.columns], r)) for r in rs.rows]


class IncidentEvents(unittest.TestCase):
    """incident.toml sets [xe] blocked_process_threshold = 5: the 3-minute chain from 1:00 is reported
    every 5 s, the deadlock at 3:20 once."""

    @classmethod
    def setUpClass(cls):
        e = SimEngine(os.path.join(SCENARIOS, "incident.toml"), seed=1, wall=lambda: 0.0,
                      now=dt.datetime(2026, 3, 2, 9, 0))     # the file has no start: pin it
        s = agent_session()
        assert e.login(s, "dmvlog") is None
        cls.config = rows_of(e.execute(s, "SELECT value, value_in_use FROM sys.configurations "
                                          "WHERE name = N'blocked process threshold (s)'", {}))
        ok(e.execute(s, SESSION_DDL, {}))
        e.control({"cmd": "advance", "seconds": 400})
        cls.e, cls.s = e, s
        cls.rows = rows_of(ok(e.execute(s, READ_ALL, {})))
        cls.start = e.scenario.start

    def reports(self) -> list[tuple[dt.datetime, int, ET.Element]]:
        """(event time, monitorLoop, <blocked-process-report>) of every blocked_process_report read."""
        out = []
        for r in self.rows:
            if r["object_name"] != "blocked_process_report":
                continue
            ev = ET.fromstring(r["event_data"])
            rep = ev.find("data[@name='blocked_process']/value/blocked-process-report")
            out.append((r["timestamp_utc"], int(rep.get("monitorLoop")), rep))
        return out

    def test_threshold_comes_from_the_scenario(self):
        self.assertEqual(self.config, [{"value": 5, "value_in_use": 5}])

    def test_reports_every_threshold_seconds_with_increasing_monitor_loop(self):
        reps = self.reports()
        self.assertTrue(reps)
        passes: dict[dt.datetime, set] = {}
        for when, loop, _ in reps:
            passes.setdefault(when, set()).add(loop)
        times = sorted(passes)
        self.assertTrue(all(len(v) == 1 for v in passes.values()), "one monitor loop per pass")
        loops = [passes[t].pop() for t in times]
        # the first blocked session arrives at 1:00; the head commits at 4:00
        self.assertEqual(times[0], self.start + dt.timedelta(seconds=65))
        self.assertEqual(times[-1], self.start + dt.timedelta(seconds=240))
        self.assertEqual([(b - a).total_seconds() for a, b in zip(times, times[1:])], [5.0] * (len(times) - 1))
        self.assertEqual([b - a for a, b in zip(loops, loops[1:])], [1] * (len(loops) - 1))
        # every blocked session is reported once per pass once it has waited 5 s: all 20 by 1:35
        per_pass = {t: 0 for t in times}
        for when, _, _ in reps:
            per_pass[when] += 1
        self.assertEqual(per_pass[times[0]], 1)
        self.assertEqual(max(per_pass.values()), 20)
        self.assertEqual(per_pass[times[-1]], 20)
        # every report fired was captured by the session and read back
        emitted = [x for x in self.e.server.xe.emitted if x["event"] == "blocked_process_report"]
        self.assertEqual(len(emitted), len(reps))

    def test_report_contents(self):
        waits: dict[str, list[int]] = {}
        for when, _, rep in self.reports():
            blocked = rep.find("blocked-process/process")
            blocking = rep.find("blocking-process/process")
            self.assertEqual(blocked.get("status"), "suspended")
            self.assertEqual(blocked.get("lockMode"), "U")
            self.assertGreaterEqual(int(blocked.get("waittime")), 5000)
            self.assertEqual(blocked.get("currentdbname"), "Sales")
            self.assertIn("UPDATE dbo.Orders", blocked.findtext("inputbuf"))
            waits.setdefault(blocked.get("spid"), []).append(int(blocked.get("waittime")))
            self.assertIn(blocking.get("status"), ("sleeping", "suspended"))
        heads = {rep.find("blocking-process/process").get("loginname") for _, _, rep in self.reports()
                 if rep.find("blocking-process/process").get("status") == "sleeping"}
        self.assertEqual(heads, {"etl_loader"})
        self.assertEqual(len(waits), 20)
        for spid, w in waits.items():
            self.assertEqual([b - a for a, b in zip(w, w[1:])], [5000] * (len(w) - 1), spid)

    def test_wait_resource_names_the_table_of_the_scenario(self):
        """The blocked sessions wait for a row of dbo.Orders in Sales: the hobt of its clustered index as
        sys.dm_db_partition_stats shows it (or, if the counters model made dbo.Orders a heap, a RID)."""
        lock = self.e.server.lock_object(self.e.server.database_id("Sales"), "dbo", "Orders")
        hobts = {(r["database_id"], r["partition_id"]): r for r in self.e.server.counters.partition_stats()}
        [(_, _, rep)] = self.reports()[:1]
        res = rep.find("blocked-process/process").get("waitresource")
        if lock["type"] == "keylock":
            self.assertTrue(res.startswith(f"KEY: 5:{lock['hobtid']} ("), res)
            self.assertEqual(hobts[(5, lock["hobtid"])]["index_id"], 1)
        else:
            self.assertTrue(res.startswith(f"RID: 5:{lock['fileid']}:{lock['pageid']}:"), res)

    def test_deadlock_report_names_the_objects_and_indexes(self):
        dl = [r for r in self.rows if r["object_name"] == "xml_deadlock_report"]
        self.assertEqual(len(dl), 1)
        self.assertEqual(dl[0]["timestamp_utc"], self.start + dt.timedelta(seconds=200))
        graph = ET.fromstring(dl[0]["event_data"]).find("data[@name='xml_report']/value/deadlock")
        self.assertEqual(len(graph.findall("victim-list/victimProcess")), 1)
        procs = {p.get("id"): p for p in graph.findall("process-list/process")}
        self.assertEqual(len(procs), 2)
        self.assertIn(graph.find("victim-list/victimProcess").get("id"), procs)
        counters = self.e.server.counters
        parts = {(r["database_id"], r["partition_id"]): r for r in counters.partition_stats()}
        names = {(r["database_id"], r["object_id"], r["index_id"]): r for r in counters.indexes_catalog()}
        resources = list(graph.find("resource-list"))
        self.assertEqual(len(resources), 2)
        seen = set()
        for res in resources:
            self.assertIn(res.tag, ("keylock", "ridlock"))
            self.assertEqual(res.get("dbid"), "5")
            self.assertEqual(res.get("mode"), "X")
            self.assertTrue(res.get("id").startswith("lock"))
            hobt = int(res.get("associatedObjectId"))
            part = parts[(5, hobt)]                      # the hobt is one sys.dm_db_partition_stats shows
            ix = names[(5, part["object_id"], part["index_id"])]
            self.assertEqual(res.get("objectname"), f"Sales.{ix['schema_name']}.{ix['object_name']}")
            seen.add(ix["object_name"])
            if res.tag == "keylock":
                self.assertEqual(int(res.get("hobtid")), hobt)
                self.assertEqual(res.get("indexname"), ix["name"])
                self.assertEqual(part["index_id"], 1)
            else:
                self.assertEqual(part["index_id"], 0)     # a heap: row locks are RID locks
            # the waiter's waitresource is this lock; the owner is the other process
            [owner] = res.findall("owner-list/owner")
            [waiter] = res.findall("waiter-list/waiter")
            self.assertNotEqual(owner.get("id"), waiter.get("id"))
            wr = procs[waiter.get("id")].get("waitresource")
            if res.tag == "keylock":
                self.assertTrue(wr.startswith(f"KEY: 5:{hobt} ("), wr)
            else:
                self.assertTrue(wr.startswith(f"RID: 5:{res.get('fileid')}:{res.get('pageid')}:"), wr)
        # the default deadlock statements update dbo.Inventory and dbo.Orders
        self.assertEqual(seen, {"Inventory", "Orders"})

    def test_read_file_with_rpc_parameters(self):
        """sp_executesql-style parameters reach the XE answer: a bookmark (file, offset) reads what follows."""
        first = self.rows[0]
        params = {"@path": "dmvlog_blocking*.xel", "@file": first["file_name"], "@offset": first["file_offset"]}
        rest = rows_of(ok(self.e.execute(self.s, READ_FROM, params)))
        want = [(r["file_name"], r["file_offset"], r["event_data"]) for r in self.rows
                if (r["file_name"], r["file_offset"]) != (first["file_name"], first["file_offset"])]
        self.assertTrue(want)
        self.assertEqual([(r["file_name"], r["file_offset"], r["event_data"]) for r in rest], want)
        # a bookmark at the last buffer: nothing new
        last = self.rows[-1]
        tail = rows_of(ok(self.e.execute(self.s, READ_FROM, {"@path": "dmvlog_blocking*.xel",
                                                             "@file": last["file_name"],
                                                             "@offset": last["file_offset"]})))
        self.assertEqual(tail, [])
        # only one of the pair: error 25719, as SQL Server raises it
        [err] = [r for r in self.e.execute(self.s, READ_FROM, {"@path": "dmvlog_blocking*.xel", "@file": None,
                                                                  "@offset": last["file_offset"]})
                 if isinstance(r, Error)]
        self.assertEqual(err.number, 25719)


class ThresholdBySpConfigure(unittest.TestCase):
    def test_sp_configure_through_the_engine_turns_reports_on(self):
        """The small scenario of test_engine (a chain of 8 from 1:00 to 3:00) has no threshold: no report
        until sp_configure sets one; then a pass every 10 s."""
        e = make_engine()
        s = agent_session()
        self.assertIsNone(e.login(s, "dmvlog"))
        ok(e.execute(s, SESSION_DDL, {}))
        e.control({"cmd": "advance", "seconds": 90})
        self.assertEqual(e.server.xe.emitted, [])
        out = ok(e.execute(s, "EXEC sp_configure 'show advanced options', 1; RECONFIGURE;\n"
                              "EXEC sp_configure 'blocked process threshold (s)', 10; RECONFIGURE;", {}))
        self.assertTrue(out)
        e.control({"cmd": "advance", "seconds": 120})
        rows = [r for r in rows_of(ok(e.execute(s, READ_ALL, {}))) if r["object_name"] == "blocked_process_report"]
        start = e.scenario.start
        times = sorted({r["timestamp_utc"] for r in rows})
        self.assertEqual(times[0], start + dt.timedelta(seconds=100))
        self.assertEqual(times[-1], start + dt.timedelta(seconds=180))
        self.assertEqual(len(times), 9)
        self.assertEqual(len(rows), 9 * 8)


if __name__ == "__main__":
    unittest.main()
