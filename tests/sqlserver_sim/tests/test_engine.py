"""The engine in-process (no sockets): login, connect statements, check, requests, faults, restarts, control.

Every engine here runs on a frozen wall clock, so simulated time moves only with {"cmd": "advance"}.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
import unittest

from sim.engine import SimEngine
from sim.results import Delay, DropConnection, Error, Hang, ResultSet, RowCount, Session
from sim.scenario import scenario_from_dict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
START = dt.datetime(2026, 3, 2, 9, 0, 0)
REQUESTS_SQL = open(os.path.join(REPO, "sql", "collectors", "requests.sql"), encoding="utf-8").read()
CHECK_SQL = open(os.path.join(REPO, "sql", "agent", "check.sql"), encoding="utf-8").read()
CLOCK_LINE = ("SELECT SYSUTCDATETIME() AS collected_at, DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS utc_offset_minutes, "
              "(SELECT sqlserver_start_time FROM sys.dm_os_sys_info) AS sqlserver_start_time;")
CONNECT = ("SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED; SET LOCK_TIMEOUT 1000; SET DEADLOCK_PRIORITY LOW; "
           "SET NOCOUNT ON;")


def small_scenario(**extra) -> dict:
    """A small instance with a blocking chain at 60 s (so tests stay fast)."""
    d = {"name": "unit", "start": START.isoformat() + "Z",
         "server": {"databases": {"count": 4, "names": ["Sales", "Old"], "offline": ["Old"]}},
         "sessions": {"user": 60, "think": "10s", "batch": 1},
         "blocking": [{"at": 60, "duration": 120, "blocked": 8, "depth": 3, "database": "Sales"}],
         "plan_cache": {"queries": 150, "database_ids": [5, 7, 8]}}
    for k, v in extra.items():
        d[k] = {**d[k], **v} if isinstance(d.get(k), dict) and isinstance(v, dict) else v
    return d


def make_engine(seed: int = 1, **extra) -> SimEngine:
    return SimEngine(scenario_from_dict(small_scenario(**extra), "unit.toml"), seed=seed, wall=lambda: 0.0)


def requests_batch(tag: str = "requests_5s", lo: int = 1000, hi: int = 30000, top: int = 500) -> str:
    return (f"/* dmvlog:{tag} */\nDECLARE @min_elapsed_ms int = {lo}, @max_elapsed_ms int = {hi}, "
            f"@top_rows int = {top};\n{CLOCK_LINE}\n{REQUESTS_SQL}")


def agent_session(spid: int = 9001, login: str = "dmvlog") -> Session:
    return Session(spid=spid, login=login, app_name="dmvlog", host_name="agent01")


def declared_columns() -> list[tuple[str, str]]:
    with open(os.path.join(REPO, "collectors", "requests.toml"), "rb") as f:
        decl = tomllib.load(f)
    return [(c.split()[0], c.split()[1]) for c in decl["columns"]]


class EngineCase(unittest.TestCase):
    def setUp(self):
        self.e = make_engine()
        self.s = agent_session()
        self.assertIsNone(self.e.login(self.s, "dmvlog"))

    def advance(self, seconds: float) -> dict:
        r = self.e.control({"cmd": "advance", "seconds": seconds})
        self.assertTrue(r["ok"], r)
        return r

    def run_sql(self, sql: str, session: Session | None = None):
        return self.e.execute(session or self.s, sql, {})


class TestLoginAndConnect(EngineCase):
    def test_default_login_and_wrong_password(self):
        self.assertIsNone(self.e.login(agent_session(9002), "dmvlog"))
        err = self.e.login(agent_session(9003), "wrong")
        self.assertIsInstance(err, Error)
        self.assertEqual((err.number, err.severity), (18456, 14))
        self.assertEqual(err.message, "Login failed for user 'dmvlog'.")
        err = self.e.login(agent_session(9004, login="nobody"), "dmvlog")
        self.assertEqual(err.message, "Login failed for user 'nobody'.")

    def test_set_batch_gives_a_bare_done_and_remembers_options(self):
        out = self.run_sql(CONNECT)
        self.assertEqual(out, [RowCount(None)])
        self.assertEqual(self.s.options["LOCK_TIMEOUT"], 1000)
        self.assertEqual(self.s.options["TRANSACTION ISOLATION LEVEL"], "READ UNCOMMITTED")

    def test_scalar_probes(self):
        [rs] = self.run_sql("SELECT @@VERSION")
        self.assertEqual(rs.columns[0].type, "nvarchar(300)")
        self.assertIn("16.0.4135.4", rs.rows[0][0])
        [rs] = self.run_sql("SELECT SERVERPROPERTY('ProductVersion') AS v, SERVERPROPERTY('EngineEdition') AS ee")
        self.assertEqual(rs.rows[0], ("16.0.4135.4", 3))
        self.assertEqual([c.name for c in rs.columns], ["v", "ee"])
        [rs] = self.run_sql("SELECT DB_NAME()")
        self.assertEqual(rs.rows[0][0], "master")

    def test_sysutcdatetime_is_simulated_time(self):
        self.advance(125.5)
        [rs] = self.run_sql("SELECT SYSUTCDATETIME()")
        self.assertEqual(rs.columns[0].type, "datetime2(7)")
        self.assertEqual(rs.rows[0][0], START + dt.timedelta(seconds=125.5))

    def test_databases_listing(self):
        [rs] = self.run_sql("SELECT name, database_id, state_desc FROM sys.databases WHERE database_id > 4 "
                            "ORDER BY database_id")
        self.assertEqual([c.name for c in rs.columns], ["name", "database_id", "state_desc"])
        self.assertEqual(len(rs.rows), 4)
        self.assertEqual(rs.rows[0], ("Sales", 5, "ONLINE"))
        self.assertEqual(rs.rows[1], ("Old", 6, "OFFLINE"))

    def test_permission_probes(self):
        [rs] = self.run_sql("SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE') AS vss")
        self.assertEqual(rs.rows, [(1,)])
        [rs] = self.run_sql("SELECT permission_name FROM fn_my_permissions(NULL, 'SERVER')")
        self.assertIn(("VIEW SERVER STATE",), rs.rows)

    def test_unknown_sql(self):
        [err] = self.run_sql("SELECT a FROM dbo.NoSuchTable")
        self.assertEqual((err.number, err.message), (208, "Invalid object name 'dbo.NoSuchTable'."))
        [err] = self.run_sql("FLIBBER the database")
        self.assertEqual(err.number, 102)
        self.assertIn("FLIBBER", err.message)

    def test_unknown_collector_tag_is_208(self):
        [err] = self.run_sql("/* dmvlog:nonexistent_1m */\nSELECT x FROM sys.dm_does_not_exist;")
        self.assertEqual(err.number, 208)
        self.assertEqual(err.message, "Invalid object name 'sys.dm_does_not_exist'.")


class TestCheck(EngineCase):
    def check_columns(self) -> list[str]:
        """The first statement's aliases (the second, per database, is checked below)."""
        first = CHECK_SQL[:CHECK_SQL.index("utc_offset_minutes;") + len("utc_offset_minutes;")]
        return re.findall(r"\bAS\s+(\w+)\s*[,;]?\s*$", first, re.M)

    def test_check_answers_every_column_of_check_sql(self):
        [rs, dbs] = self.run_sql("/* dmvlog:check */\n" + CHECK_SQL)
        names = [c.name for c in rs.columns]
        self.assertEqual(names, self.check_columns())
        self.assertEqual([c.name for c in dbs.columns],
                         ["database_id", "name", "has_access", "has_view_database_state",
                          "has_view_database_performance_state"])
        by_name = {r[1]: r for r in dbs.rows}
        self.assertIn("master", by_name)
        self.assertEqual(tuple(by_name["master"][2:]), (1, 1, 1))
        row = dict(zip(names, rs.rows[0]))
        types = {c.name: c.type for c in rs.columns}
        self.assertEqual(types["server_utc_time"], "datetime2(7)")
        self.assertEqual(types["engine_edition"], "int")
        self.assertEqual(types["has_view_server_state"], "int")
        self.assertEqual(row["product_version"], "16.0.4135.4")
        self.assertEqual(row["login_name"], "dmvlog")
        self.assertEqual(row["has_view_server_state"], 1)
        self.assertEqual(row["utc_offset_minutes"], 0)

    def test_denied_login(self):
        e = make_engine(auth={"logins": [{"name": "dmvlog", "password": "dmvlog"},
                                         {"name": "weak", "password": "pw", "deny": ["VIEW SERVER STATE"]}]})
        s = agent_session(9010, login="weak")
        self.assertIsNone(e.login(s, "pw"))
        [rs, dbs] = e.execute(s, "/* dmvlog:check */\n" + CHECK_SQL, {})
        row = dict(zip([c.name for c in rs.columns], rs.rows[0]))
        self.assertTrue(dbs.rows)
        self.assertTrue(all(r[3] == 0 for r in dbs.rows), "no database state without server state")
        self.assertEqual(row["has_view_server_state"], 0)
        self.assertEqual(row["has_view_server_performance_state"], 0)
        self.assertEqual(row["has_alter_any_event_session"], 1)
        [err] = e.execute(s, requests_batch(), {})
        self.assertEqual((err.number, err.severity), (300, 14))

    def test_utc_offset(self):
        e = make_engine(server={"utc_offset_minutes": 540})
        s = agent_session()
        [rs, _dbs] = e.execute(s, "/* dmvlog:check */\n" + CHECK_SQL, {})
        row = dict(zip([c.name for c in rs.columns], rs.rows[0]))
        self.assertEqual(row["utc_offset_minutes"], 540)
        self.assertEqual(row["server_utc_time"], START)


class TestRequests(EngineCase):
    def snapshot(self, **kw):
        out = self.run_sql(requests_batch(**kw))
        self.assertEqual(len(out), 2)
        clock, rows = out
        self.assertIsInstance(clock, ResultSet)
        self.assertIsInstance(rows, ResultSet)
        return clock, rows

    def test_clock_result_set(self):
        self.advance(90)
        clock, _ = self.snapshot()
        self.assertEqual([(c.name, c.type) for c in clock.columns],
                         [("collected_at", "datetime2(7)"), ("utc_offset_minutes", "int"),
                          ("sqlserver_start_time", "datetime")])
        self.assertEqual(clock.rows, [(START + dt.timedelta(seconds=90), 0, START - dt.timedelta(days=3))])

    def test_columns_and_types_match_the_declaration(self):
        self.advance(90)
        _, rows = self.snapshot()
        self.assertEqual([(c.name, c.type) for c in rows.columns], declared_columns())
        self.assertGreater(len(rows.rows), 0)
        for r in rows.rows:
            self.assertEqual(len(r), len(rows.columns))

    def test_value_types(self):
        self.advance(100)
        _, rows = self.snapshot(hi=36000000)
        py = {"smallint": int, "int": int, "bigint": int, "datetime": dt.datetime, "binary(8)": bytes,
              "varbinary(64)": bytes}
        for r in rows.rows:
            for col, v in zip(rows.columns, r):
                if v is None:
                    continue
                want = py.get(col.type, str)
                self.assertIsInstance(v, want, f"{col.name}={v!r}")
                if col.type == "binary(8)":
                    self.assertEqual(len(v), 8, col.name)
                if col.type == "varbinary(64)":
                    self.assertLessEqual(len(v), 64, col.name)
                if col.type == "smallint":
                    self.assertLess(v, 32768, col.name)

    def test_elapsed_filters_order_and_top(self):
        self.advance(150)
        _, wide = self.snapshot(lo=0, hi=36000000, top=100000)
        el = [r[15] for r in wide.rows]
        self.assertEqual(el, sorted(el, reverse=True))
        self.assertTrue(any(x < 1000 for x in el))   # lo=0 lets sub-second requests in
        _, mid = self.snapshot(lo=5000, hi=60000, top=100000)
        self.assertTrue(mid.rows)
        self.assertTrue(all(5000 <= r[15] < 60000 for r in mid.rows))
        self.assertEqual(len(mid.rows), sum(1 for x in el if 5000 <= x < 60000))
        _, top3 = self.snapshot(lo=0, hi=36000000, top=3)
        self.assertEqual([r[15] for r in top3.rows], el[:3])

    def test_own_session_is_excluded(self):
        self.advance(100)
        _, rows = self.snapshot(lo=0, hi=36000000, top=100000)
        victim = rows.rows[0][0]
        other = agent_session(spid=victim)
        _, rows2 = self.e.execute(other, requests_batch(lo=0, hi=36000000, top=100000), {})
        self.assertNotIn(victim, [r[0] for r in rows2.rows])
        self.assertEqual(len(rows2.rows), len(rows.rows) - 1)

    def test_elapsed_grows_between_snapshots(self):
        self.advance(100)
        _, a = self.snapshot(lo=0, hi=36000000, top=100000)
        self.advance(3)
        _, b = self.snapshot(lo=0, hi=36000000, top=100000)
        key = lambda r: (r[0], r[1], r[2])
        before = {key(r): r[15] for r in a.rows}
        common = [(before[key(r)], r[15]) for r in b.rows if key(r) in before]
        self.assertTrue(common)
        for x, y in common:
            self.assertEqual(y - x, 3000)


class TestTimeAndDeterminism(unittest.TestCase):
    def test_same_seed_same_answers_however_time_is_stepped(self):
        a, b = make_engine(seed=7), make_engine(seed=7)
        s = agent_session()
        a.control({"cmd": "advance", "seconds": 250})
        for step in (13, 0.5, 100, 36.5, 100):
            b.control({"cmd": "advance", "seconds": step})
            b.execute(s, requests_batch(), {})     # reading does not change the model
        ra = a.execute(s, requests_batch(lo=0, hi=36000000, top=100000), {})
        rb = b.execute(s, requests_batch(lo=0, hi=36000000, top=100000), {})
        self.assertEqual(ra[0].rows, rb[0].rows)
        self.assertEqual(ra[1].rows, rb[1].rows)
        self.assertGreater(len(ra[1].rows), 3)

    def test_other_seed_other_answers(self):
        a, b = make_engine(seed=1), make_engine(seed=2)
        s = agent_session()
        for e in (a, b):
            e.control({"cmd": "advance", "seconds": 200})
        self.assertNotEqual(a.execute(s, requests_batch(lo=0, hi=10 ** 8, top=10 ** 5), {})[1].rows,
                            b.execute(s, requests_batch(lo=0, hi=10 ** 8, top=10 ** 5), {})[1].rows)

    def test_speed_pause_resume(self):
        wall = [100.0]
        e = SimEngine(scenario_from_dict(small_scenario(), "unit.toml"), speed=10, seed=1, wall=lambda: wall[0])
        wall[0] += 2
        self.assertEqual(e.control({"cmd": "now"})["offset_seconds"], 20.0)
        e.control({"cmd": "pause"})
        wall[0] += 5
        self.assertEqual(e.control({"cmd": "now"})["offset_seconds"], 20.0)
        r = e.control({"cmd": "advance", "seconds": 7})
        self.assertEqual(r["offset_seconds"], 27.0)
        self.assertEqual(r["now"], "2026-03-02T09:00:27Z")
        e.control({"cmd": "resume"})
        wall[0] += 1
        self.assertEqual(e.control({"cmd": "now"})["offset_seconds"], 37.0)


class TestFaults(EngineCase):
    def fault(self, **kw) -> dict:
        r = self.e.control({"cmd": "fault", **kw})
        self.assertTrue(r["ok"], r)
        return r

    def test_refuse_and_never_answer(self):
        self.assertTrue(self.e.accept_connections())
        self.fault(kind="refuse", for_seconds=10)
        self.assertFalse(self.e.accept_connections())
        self.advance(10)
        self.assertTrue(self.e.accept_connections())
        self.assertTrue(self.e.answer_on_connect())
        self.fault(kind="never_answer")
        self.assertFalse(self.e.answer_on_connect())
        self.e.control({"cmd": "clear_faults"})
        self.assertTrue(self.e.answer_on_connect())

    def test_delay(self):
        self.fault(kind="delay", tag="requests_5s", seconds=6)
        out = self.run_sql(requests_batch())
        self.assertEqual(out[0], Delay(6.0))
        self.assertIsInstance(out[1], ResultSet)
        self.assertNotIsInstance(self.run_sql(requests_batch("requests_1m"))[0], Delay)

    def test_hang(self):
        self.fault(kind="hang", tag="requests_1m")
        self.assertEqual(self.run_sql(requests_batch("requests_1m")), [Hang()])
        self.assertIsInstance(self.run_sql(requests_batch("requests_5s"))[0], ResultSet)

    def test_drop_in_the_middle_of_the_rows(self):
        self.advance(100)
        self.fault(kind="drop", tag="requests_5s", after_rows=2)
        out = self.run_sql(requests_batch())
        self.assertEqual(len(out), 3)
        self.assertIsInstance(out[0], ResultSet)            # the clock
        self.assertEqual(out[1], DropConnection(after_rows=2))
        self.assertIsInstance(out[2], ResultSet)            # the rows, cut after 2 by the protocol layer

    def test_login_fail(self):
        self.fault(kind="login_fail", login="dmvlog", for_seconds=5)
        err = self.e.login(agent_session(9100), "dmvlog")
        self.assertEqual(err.number, 18456)
        self.advance(5)
        self.assertIsNone(self.e.login(agent_session(9101), "dmvlog"))

    def test_deny_one_collector(self):
        self.fault(kind="deny", tag="requests_1m")
        [err] = self.run_sql(requests_batch("requests_1m"))
        self.assertEqual((err.number, err.severity), (300, 14))
        self.assertIn("VIEW SERVER STATE permission was denied", err.message)
        self.assertIsInstance(self.run_sql(requests_batch("requests_5s"))[1], ResultSet)
        self.assertIsInstance(self.run_sql("/* dmvlog:check */\n" + CHECK_SQL)[0], ResultSet)

    def test_scenario_faults_and_permissions(self):
        e = make_engine(fault=[{"kind": "hang", "tag": "requests_5s", "at": 30, "until": 40},
                               {"kind": "refuse", "at": 50, "until": 55}],
                        permissions={"deny": ["requests_1m"]})
        s = agent_session()
        self.assertIsInstance(e.execute(s, requests_batch(), {})[0], ResultSet)
        e.control({"cmd": "advance", "seconds": 30})
        self.assertEqual(e.execute(s, requests_batch(), {}), [Hang()])
        self.assertEqual(e.execute(s, requests_batch("requests_1m"), {})[0].number, 300)
        e.control({"cmd": "advance", "seconds": 10})
        self.assertIsInstance(e.execute(s, requests_batch(), {})[0], ResultSet)
        self.assertTrue(e.accept_connections())
        e.control({"cmd": "advance", "seconds": 12})
        self.assertFalse(e.accept_connections())

    def test_bad_fault_commands(self):
        self.assertFalse(self.e.control({"cmd": "fault", "kind": "explode"})["ok"])
        self.assertFalse(self.e.control({"cmd": "fault", "kind": "delay", "tag": "x"})["ok"])
        self.assertFalse(self.e.control({"cmd": "nonsense"})["ok"])


class TestRestart(EngineCase):
    def test_restart_changes_start_time_refuses_then_drops_old_connections(self):
        self.advance(100)
        clock, _ = self.run_sql(requests_batch())
        before = clock.rows[0][2]
        r = self.e.control({"cmd": "restart", "outage_seconds": 20})
        self.assertTrue(r["ok"])
        self.assertFalse(self.e.accept_connections())
        self.assertEqual(self.run_sql(requests_batch()), [DropConnection()])
        self.advance(20)
        self.assertTrue(self.e.accept_connections())
        s2 = agent_session(9200)
        self.assertIsNone(self.e.login(s2, "dmvlog"))
        clock, rows = self.e.execute(s2, requests_batch(lo=0, hi=10 ** 8, top=10 ** 5), {})
        after = clock.rows[0][2]
        self.assertNotEqual(before, after)
        self.assertEqual(after, START + dt.timedelta(seconds=120))
        # every request running before the restart is gone
        self.assertTrue(all(r[2] >= after for r in rows.rows))
        # the plan cache was emptied when the instance stopped
        epoch = dt.datetime(1970, 1, 1)
        stopped = [x if isinstance(x, dt.datetime) else epoch + dt.timedelta(seconds=x)
                   for x in self.e.server.plancache.restarts]
        self.assertIn(START + dt.timedelta(seconds=100), stopped)
        truth = self.e.control({"cmd": "truth", "from": "2026-03-02T09:00:00Z", "to": "2026-03-02T10:00:00Z"})
        self.assertEqual(truth["restarts"], [{"down": "2026-03-02T09:01:40Z", "up": "2026-03-02T09:02:00Z"}])

    def test_nothing_runs_and_nothing_grows_during_an_outage(self):
        """A scripted restart at 5:00 with a 2-minute outage (windows aligned to the 60 s truth buckets)."""
        e = make_engine(restart=[{"at": "5m", "outage": "2m"}], blocking=[])
        down, up = START + dt.timedelta(minutes=5), START + dt.timedelta(minutes=7)
        e.control({"cmd": "advance", "seconds": 299.5})
        self.assertTrue(e.accept_connections())
        self.assertGreater(sum(r["wait_time_ms"] for r in e.server.counters.wait_stats()), 0)
        e.control({"cmd": "advance", "seconds": 0.5})         # 5:00: it stops
        self.assertFalse(e.accept_connections())
        completed = e.server.workload.completed
        self.assertGreater(completed, 0)
        self.assertEqual(e.server.workload.active, {})
        e.control({"cmd": "advance", "seconds": 119.5})       # 6:59.5: still down
        self.assertFalse(e.accept_connections())
        self.assertEqual(e.server.workload.completed, completed, "no request completes while it is down")
        self.assertEqual(e.server.workload.active, {})
        e.control({"cmd": "advance", "seconds": 60.5})        # 8:00: up for a minute
        self.assertTrue(e.accept_connections())

        def truth(t0, t1):
            return e.control({"cmd": "truth", "from": t0.isoformat() + "Z", "to": t1.isoformat() + "Z"})

        outage = truth(down, up)
        self.assertEqual(outage["queries"], {}, "no execution is in the truth of the outage")
        self.assertEqual(outage["restarts"], [{"down": "2026-03-02T09:05:00Z", "up": "2026-03-02T09:07:00Z"}])
        self.assertEqual(e.server.counters.truth(down, up), {}, "no wait while it is down")
        # a window containing the outage holds what ran before and after it, nothing else
        whole = truth(down - dt.timedelta(minutes=1), up + dt.timedelta(minutes=1))
        before = truth(down - dt.timedelta(minutes=1), down)["queries"]
        after = truth(up, up + dt.timedelta(minutes=1))["queries"]
        self.assertTrue(before)
        self.assertTrue(after)
        for qh, v in whole["queries"].items():
            self.assertEqual(v["executions"], before.get(qh, {}).get("executions", 0)
                             + after.get(qh, {}).get("executions", 0), qh)
        # the counters started from 0 when it came back: at 8:00 they hold exactly the minute since 7:00
        self.assertEqual(e.server.counters.sqlserver_start_time, up)
        got = sum(r["wait_time_ms"] for r in e.server.counters.wait_stats())
        want = sum(v["wait_time_ms"] for v in e.server.counters.truth(up, up + dt.timedelta(minutes=1)).values())
        self.assertEqual(got, want)
        self.assertGreater(got, 0)
        # and the clock result set says so too
        s = agent_session(9300)
        self.assertIsNone(e.login(s, "dmvlog"))
        clock, rows = e.execute(s, requests_batch(lo=0, hi=10 ** 8, top=10 ** 5), {})
        self.assertEqual(clock.rows[0][2], up)
        self.assertTrue(rows.rows)
        self.assertTrue(all(r[2] >= up for r in rows.rows), "every request started after the restart")
        # the plan cache holds only entries created since it came back
        self.assertTrue(all(r["creation_time"] >= up - dt.timedelta(milliseconds=4)
                            for r in e.server.plancache.query_stats_rows()))


class TestControl(EngineCase):
    def test_stats_count_every_query(self):
        self.run_sql(CONNECT)
        self.run_sql(requests_batch())
        self.run_sql(requests_batch())
        self.run_sql(requests_batch("requests_1m"))
        st = self.e.control({"cmd": "stats"})
        self.assertEqual(st["by_tag"], {"(untagged)": 1, "requests_5s": 2, "requests_1m": 1})
        self.assertEqual(st["total"], 4)
        self.assertEqual(st["queries"][-1]["tag"], "requests_1m")
        self.assertEqual(st["queries"][-1]["at"], "2026-03-02T09:00:00Z")

    def test_truth_of_the_blocking_episode(self):
        self.advance(300)
        t = self.e.control({"cmd": "truth", "from": "2026-03-02T09:00:00Z", "to": "2026-03-02T09:05:00Z"})
        self.assertTrue(t["ok"])
        [ep] = t["blocking"]
        self.assertEqual(ep["start"], "2026-03-02T09:01:00Z")
        self.assertEqual(ep["end"], "2026-03-02T09:03:00Z")
        self.assertEqual(ep["duration_s"], 120.0)
        self.assertEqual(ep["sessions_blocked_max"], 8)
        self.assertEqual(ep["max_wait_ms"], 120000)
        self.assertTrue(t["queries"])
        some = next(iter(t["queries"].values()))
        self.assertLessEqual({"cpu_us", "logical_reads", "executions"}, set(some))
        # a window that ends before the episode does not contain it
        t2 = self.e.control({"cmd": "truth", "from": "2026-03-02T09:00:00Z", "to": "2026-03-02T09:01:00Z"})
        self.assertEqual(t2["blocking"], [])


if __name__ == "__main__":
    unittest.main()
