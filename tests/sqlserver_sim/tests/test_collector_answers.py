"""Every collector of collectors/*.toml answered by the engine in-process, from the simulated state.

Each batch is assembled as the agent assembles it (docs/design.md): the tag, a DECLARE line with the
declared params and the runtime params (@since_ms: two intervals, as on a first run), `USE [db];` for
per-database collectors (once per online user database the `databases` answer lists), the clock, the query
file (the version variant where one applies). The answer modules state their columns themselves; the
declarations are read here only to compare: a difference is a test failure.

Engines run on a frozen wall clock (simulated time moves only with `advance`), with a fixed seed and start,
so every run is the same.
"""
from __future__ import annotations

import datetime as dt
import glob
import os
import re
import time
import tomllib
import unittest
from typing import Optional

from sim.answers import registered
from sim.engine import SimEngine
from sim.results import Error, ResultSet, Session
from sim.scenario import scenario_from_dict

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.normpath(os.path.join(HERE, ".."))
REPO = os.path.normpath(os.path.join(SIM, "..", ".."))
START = dt.datetime(2026, 3, 2, 9, 0, 0)
CLOCK_LINE = ("SELECT SYSUTCDATETIME() AS collected_at, DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS utc_offset_minutes, "
              "(SELECT sqlserver_start_time FROM sys.dm_os_sys_info) AS sqlserver_start_time;")
DATABASES_SQL = open(os.path.join(REPO, "sql", "agent", "databases.sql"), encoding="utf-8").read()
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}

# Moments with activity: incident at 2:30 (the blocking chain is 90 s old, grants are pending, the runaway
# query is 30 s in); steady-oltp at 7:20 (its first blocking chain started at 7:00).
MOMENTS = {"incident": 150, "steady-oltp": 440}

# Collectors that may legitimately return no row at those moments, and why. Every other one must have rows.
MAY_BE_EMPTY = {
    "stats_updates": "statistics update themselves only when enough rows changed: a two-minute window may "
                     "hold no update in a database (steady-oltp's Sales at 7:20 has none; both scenarios have "
                     "some over all their databases)",
    "blocking_events": "reads dmvlog's event session, which these scenarios do not create (`dmvlog xe setup` "
                       "does; tests/test_blocking_events.py reads it)",
    "blocking_events_ring_buffer": "reads a ring_buffer session a DBA set up, which these scenarios do not have "
                                   "(tests/test_xe_fallbacks.py adds one)",
    "deadlocks_system_health": "system_health holds the incident's deadlock only from 3:20 + its 120 s dispatch "
                               "latency (tests/test_xe_fallbacks.py reads it)",
}


def seconds(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def normal_type(t: str) -> str:
    """Spellings of one SQL Server type: datetime2 is datetime2(7), sysname is nvarchar(128)."""
    t = t.lower().replace(" ", "")
    return {"datetime2": "datetime2(7)", "sysname": "nvarchar(128)"}.get(t, t)


class Decl:
    """One [[collector]] of a declaration file."""

    def __init__(self, path: str, top: dict, c: dict):
        self.file = os.path.basename(path)
        self.name = c["name"]
        self.scope = top.get("scope", "server")
        self.interval_s = seconds(c["interval"])
        self.timeout_s = seconds(c["timeout"])
        self.params = dict(c.get("params", {}))
        self.runtime = list(top.get("runtime_params", []))
        self.sql = top["sql"]
        self.kind = top.get("kind", "rows")
        self.variants = list(top.get("variants", []))
        # bound through ODBC by the agent (kind "xe_file": the session's file path and the bookmark); here
        # literals stand for them: the path of dmvlog's session, no bookmark
        self.bound = [b.split()[0] for b in top.get("bound_params", [])]
        self.columns = []
        self.keys, self.counters = [], []
        for spec in top["columns"]:
            parts = spec.split()
            self.columns.append((parts[0], parts[1]))
            if "key" in parts[2:]:
                self.keys.append(parts[0])
            if "counter" in parts[2:]:
                self.counters.append(parts[0])

    def query(self, major: int) -> str:
        name = next((v["sql"] for v in self.variants if major <= int(v["max_version"])), self.sql)
        with open(os.path.join(REPO, "sql", "collectors", name), encoding="utf-8") as f:
            return f.read()

    def batch(self, major: int, database: Optional[str] = None, **override: int) -> str:
        values = dict(self.params)
        for name in self.runtime:
            values[name] = int(2 * self.interval_s * 1000)      # first run: two intervals
        values.update(override)
        out = f"/* dmvlog:{self.name} */\n"
        if values:
            out += "DECLARE " + ", ".join(f"@{k} int = {v}" for k, v in values.items()) + ";\n"
        if self.bound:
            sample = {"path": "N'dmvlog_blocking*.xel'", "session_name": "N'blocked_process'"}
            out += "DECLARE " + ", ".join(f"@{b} nvarchar(260) = {sample.get(b, 'NULL')}" for b in self.bound) + ";\n"
        if database is not None:
            out += "USE [" + database.replace("]", "]]") + "];\n"
        return out + CLOCK_LINE + "\n" + self.query(major)


def load_declarations() -> list[Decl]:
    out = []
    for path in sorted(glob.glob(os.path.join(REPO, "collectors", "*.toml"))):
        with open(path, "rb") as f:
            top = tomllib.load(f)
        out += [Decl(path, top, c) for c in top["collector"]]
    return out


DECLS = load_declarations()
BY_NAME = {d.name: d for d in DECLS}


def engine(scenario: str, seed: int = 11) -> SimEngine:
    return SimEngine(os.path.join(SIM, "scenarios", f"{scenario}.toml"), seed=seed, wall=lambda: 0.0, now=START)


class Agent:
    """What the agent does against one engine: list the databases, run a collector (per database when its
    scope says so) and return the clock and the rows (per-database rows carry the database name first)."""

    def __init__(self, e: SimEngine, spid: int = 9001):
        self.e = e
        self.session = Session(spid=spid, login="dmvlog", app_name="dmvlog", host_name="agent01")

    def run(self, sql: str) -> list:
        return self.e.execute(self.session, sql, {})

    def databases(self) -> list[tuple]:
        out = self.run("/* dmvlog:databases */\n" + DATABASES_SQL)
        assert isinstance(out[-1], ResultSet), out
        return out[-1].rows

    def to_visit(self) -> list[str]:
        return [name for dbid, name, state, access, has in self.databases()
                if dbid > 4 and state == "ONLINE" and has and access != "SINGLE_USER"]

    def collect(self, d: Decl, **override: int) -> tuple[list[ResultSet], list[tuple], list]:
        """(the result sets of the first batch, every row, every answer list)."""
        answers = []
        rows: list[tuple] = []
        first: Optional[list[ResultSet]] = None
        for db in (self.to_visit() if d.scope == "database" else [None]):
            out = self.run(d.batch(self.e.server.major, db, **override))
            answers.append(out)
            sets = [r for r in out if isinstance(r, ResultSet)]
            if first is None:
                first = sets
            if len(sets) == 2:
                rows += [((db,) if db is not None else ()) + tuple(r) for r in sets[1].rows]
        return first or [], rows, answers

    def keyed(self, d: Decl, rows: list[tuple], epoch: Optional[str] = None) -> dict:
        names = (["database"] if d.scope == "database" else []) + [c for c, _ in d.columns]
        idx = [names.index(k) for k in (["database"] if d.scope == "database" else []) + d.keys]
        if epoch:
            idx.append(names.index(epoch))
        return {tuple(r[i] for i in idx): dict(zip(names, r)) for r in rows}


# Key columns that SQL Server itself leaves NULL: a task waiting on something that is not another task (a
# lock held by a sleeping session, I/O, a log flush, a memory grant) has no blocking_task_address.
NULLABLE_KEYS = {("waiting_tasks", "blocking_task_address")}

# the column that starts a row's counters again within one instance epoch
EPOCH_COLUMN = {"query_stats": "creation_time", "query_stats_full": "creation_time",
                "procedure_stats": "cached_time", "stats_updates": "last_updated", "stats_full": "last_updated"}


class AnswersAtActiveMoments(unittest.TestCase):
    """Both scenarios at their active moment: shapes, rows, caps, since filters, speed."""

    @classmethod
    def setUpClass(cls):
        cls.agents = {}
        cls.results = {}
        cls.cpu = {}
        for name, at in MOMENTS.items():
            e = engine(name)
            e.control({"cmd": "advance", "seconds": at})
            a = Agent(e)
            cls.agents[name] = a
            for d in DECLS:
                t0 = time.process_time()
                cls.results[(name, d.name)] = a.collect(d)
                cls.cpu[(name, d.name)] = time.process_time() - t0

    def test_every_collector_is_registered_by_tag(self):
        tags = registered()
        for d in DECLS:
            self.assertIn(d.name, tags, f"{d.name} ({d.file}) has no answer module")
        self.assertIn("databases", tags)

    def test_two_result_sets_with_exactly_the_declared_columns(self):
        for (scenario, name), (first, rows, answers) in self.results.items():
            d = BY_NAME[name]
            with self.subTest(scenario=scenario, collector=name):
                for out in answers:
                    errors = [r for r in out if isinstance(r, Error)]
                    self.assertEqual(errors, [])
                    self.assertEqual(sum(isinstance(r, ResultSet) for r in out), 2)
                self.assertEqual([(c.name, c.type) for c in first[0].columns],
                                 [("collected_at", "datetime2(7)"), ("utc_offset_minutes", "int"),
                                  ("sqlserver_start_time", "datetime")])
                self.assertEqual(len(first[0].rows), 1)
                got = [(c.name, normal_type(c.type)) for c in first[1].columns]
                want = [(n, normal_type(t)) for n, t in d.columns]
                self.assertEqual(got, want, f"declared in collectors/{d.file}")
                for r in rows:
                    self.assertEqual(len(r), len(want) + (1 if d.scope == "database" else 0))

    def test_rows_for_every_collector_that_should_have_them(self):
        for (scenario, name), (first, rows, answers) in self.results.items():
            with self.subTest(scenario=scenario, collector=name):
                if name in MAY_BE_EMPTY:
                    continue
                self.assertGreater(len(rows), 0)

    def test_key_columns_are_never_null_and_unique(self):
        for (scenario, name), (first, rows, answers) in self.results.items():
            d = BY_NAME[name]
            if d.kind != "rows":
                continue    # extended events: no key columns, the agent keeps each event once by its content hash
            with self.subTest(scenario=scenario, collector=name):
                keyed = self.agents[scenario].keyed(d, rows, EPOCH_COLUMN.get(name))
                self.assertEqual(len(keyed), len(rows), "duplicate keys")
                names = (["database"] if d.scope == "database" else []) + [c for c, _ in d.columns]
                for r in rows:
                    for k in d.keys:
                        if (name, k) in NULLABLE_KEYS:
                            continue
                        self.assertIsNotNone(r[names.index(k)], f"NULL in key column {k}")

    def test_per_database_collectors_visit_only_online_user_databases(self):
        for scenario, a in self.agents.items():
            dbs = a.databases()
            offline = [r for r in dbs if r[2] == "OFFLINE"]
            self.assertTrue(offline, f"{scenario} has an offline database")
            self.assertTrue(all(r[4] == 0 for r in offline), "HAS_DBACCESS is 0 for an offline database")
            visited = set(a.to_visit())
            for (sc, name), (first, rows, answers) in self.results.items():
                if sc != scenario or BY_NAME[name].scope != "database":
                    continue
                self.assertEqual(len(answers), len(visited))
                self.assertTrue({r[0] for r in rows} <= visited)
                self.assertFalse({r[1] for r in offline} & {r[0] for r in rows})

    def test_top_caps_are_honoured(self):
        for scenario, a in self.agents.items():
            for d in DECLS:
                if "top_rows" not in d.params:
                    continue
                with self.subTest(scenario=scenario, collector=d.name):
                    full = self.results[(scenario, d.name)]
                    _, capped, answers = a.collect(d, top_rows=2)
                    per_db: dict = {}
                    for r in capped:
                        per_db[r[0] if d.scope == "database" else None] = per_db.get(
                            r[0] if d.scope == "database" else None, 0) + 1
                    self.assertTrue(all(n <= 2 for n in per_db.values()), per_db)
                    self.assertEqual(len(capped), sum(min(2, n) for n in self._per_db(d, full[1]).values()))
                    _, none, _ = a.collect(d, top_rows=0)
                    self.assertEqual(none, [])

    @staticmethod
    def _per_db(d: Decl, rows: list[tuple]) -> dict:
        out: dict = {}
        for r in rows:
            k = r[0] if d.scope == "database" else None
            out[k] = out.get(k, 0) + 1
        return out

    def test_since_filters_return_fewer_rows_than_the_full_variants(self):
        pairs = [("query_stats", "query_stats_full"), ("index_usage", "index_usage_full"),
                 ("stats_updates", "stats_full")]
        for scenario, a in self.agents.items():
            for since, full in pairs:
                with self.subTest(scenario=scenario, since=since):
                    r_since = self.results[(scenario, since)][1]
                    r_full = self.results[(scenario, full)][1]
                    self.assertLess(len(r_since), len(r_full))
                    ks = a.keyed(BY_NAME[since], r_since)
                    kf = a.keyed(BY_NAME[full], r_full)
                    if since != "query_stats":      # query_stats: the TOP 1000 of the window may reach past the full TOP
                        self.assertTrue(set(ks) <= set(kf))
            with self.subTest(scenario=scenario, since="procedure_stats"):
                d = BY_NAME["procedure_stats"]
                _, short, _ = a.collect(d, since_ms=2000)
                _, long, _ = a.collect(d, since_ms=2_000_000_000)
                self.assertLess(len(short), len(long))
                self.assertLess(len(short), len(self.results[(scenario, "procedure_stats")][1]) + 1)

    def test_query_stats_text_switch(self):
        a = self.agents["incident"]
        rows = self.results[("incident", "query_stats")][1]
        self.assertTrue(all(r[-1] for r in rows), "with_text = 1: every row has its batch text")
        full = self.results[("incident", "query_stats_full")][1]
        self.assertTrue(all(r[-1] is None for r in full), "with_text = 0: batch_text is NULL")
        _, texts, _ = a.collect(BY_NAME["query_stats_full"], with_text=1, top_rows=50)
        self.assertTrue(all(r[-1] for r in texts))

    def test_incident_moment_shows_the_incident(self):
        res = self.results
        waits = res[("incident", "waiting_tasks")][1]
        names = [c for c, _ in BY_NAME["waiting_tasks"].columns]
        lck = [dict(zip(names, r)) for r in waits if r[names.index("wait_type")] == "LCK_M_U"]
        self.assertGreaterEqual(len(lck), 19, "the blocked chain waits on LCK_M_U")
        self.assertTrue(all(w["blocking_session_id"] for w in lck))
        self.assertTrue(any(w["blocking_task_address"] is None for w in lck), "the head blocker sleeps: no task")
        grants = res[("incident", "memory_grants")][1]
        gnames = [c for c, _ in BY_NAME["memory_grants"].columns]
        waiting = [r for r in grants if r[gnames.index("grant_time")] is None]
        self.assertGreaterEqual(len(waiting), 1)
        self.assertTrue(all(r[gnames.index("granted_memory_kb")] is None for r in waiting))
        self.assertEqual(grants[:len(waiting)], waiting, "waiting grants come first")
        sems = res[("incident", "resource_semaphores")][1]
        snames = [c for c, _ in BY_NAME["resource_semaphores"].columns]
        self.assertEqual(sum(r[snames.index("waiter_count")] for r in sems), len(waiting))
        tasks = res[("incident", "tasks")][1]
        self.assertGreaterEqual(tasks[0][1], 9, "the DOP-8 runaway query has the most tasks")
        dbs = {r[0] for r in res[("incident", "database_size")][1]}
        self.assertNotIn("Archive2019", dbs)
        perf = {(r[0], r[1], r[2]): r[3] for r in res[("incident", "perf_counters")][1]}
        self.assertGreaterEqual(perf[("SQLServer:General Statistics", "Processes blocked", "")], 19)
        self.assertEqual(perf[("SQLServer:Memory Manager", "Memory Grants Pending", "")], len(waiting))

    def test_every_answer_is_fast(self):
        """CPU seconds of this process per collector run (all databases): steady-oltp well under 1 s."""
        slow = {k: round(v, 3) for k, v in self.cpu.items() if v > 0.5}
        self.assertEqual(slow, {})


class AnswersOverTime(unittest.TestCase):
    """Counters across snapshots of one engine: monotonic within an epoch, reset by a restart."""

    def snapshot(self, a: Agent) -> dict:
        out = {}
        for d in DECLS:
            first, rows, answers = a.collect(d)
            out[d.name] = (first[0].rows[0], rows)
        return out

    def test_counters_never_decrease_within_an_epoch(self):
        e = engine("incident")
        e.control({"cmd": "advance", "seconds": 120})
        a = Agent(e)
        before = self.snapshot(a)
        e.control({"cmd": "advance", "seconds": 60})
        after = self.snapshot(a)
        compared = 0
        for d in DECLS:
            if not d.counters:
                continue
            with self.subTest(collector=d.name):
                self.assertEqual(before[d.name][0][2], after[d.name][0][2], "same sqlserver_start_time")
                b = a.keyed(d, before[d.name][1], EPOCH_COLUMN.get(d.name))
                k = a.keyed(d, after[d.name][1], EPOCH_COLUMN.get(d.name))
                common = set(b) & set(k)
                if d.name not in MAY_BE_EMPTY and d.name not in ("procedure_stats", "query_stats"):
                    self.assertTrue(common, "rows present in both snapshots")
                for key in common:
                    for c in d.counters:
                        old, new = b[key][c], k[key][c]
                        if old is not None and new is not None:
                            compared += 1
                            self.assertGreaterEqual(new, old, f"{c} of {key}")
        self.assertGreater(compared, 1000)

    def test_a_restart_resets_counters_and_changes_sqlserver_start_time(self):
        e = engine("incident")
        e.control({"cmd": "advance", "seconds": 300})
        before = self.snapshot(Agent(e))
        e.control({"cmd": "restart", "outage_seconds": 0})
        e.control({"cmd": "advance", "seconds": 30})
        a = Agent(e, spid=9002)                   # the old connection was dropped by the restart
        after = self.snapshot(a)
        for name in ("wait_stats", "latch_stats", "spinlock_stats", "file_io", "schedulers", "query_stats_full",
                     "index_usage_full", "index_operational", "perf_counters"):
            d = BY_NAME[name]
            with self.subTest(collector=name):
                self.assertGreater(after[name][0][2], before[name][0][2], "sqlserver_start_time moved on")
                self.assertLessEqual(after[name][0][2], after[name][0][0])
                cols = d.counters or ["cntr_value"]
                names = (["database"] if d.scope == "database" else []) + [c for c, _ in d.columns]

                def total(rows):
                    return sum(r[names.index(c)] or 0 for r in rows for c in cols)
                self.assertLess(total(after[name][1]), total(before[name][1]))
        # an index not used since the restart has NULL usage columns again
        names = ["database"] + [c for c, _ in BY_NAME["index_usage_full"].columns]
        self.assertTrue(any(r[names.index("user_seeks")] is None for r in after["index_usage_full"][1]))


class Errors(unittest.TestCase):
    """What SQL Server answers when a batch cannot run."""

    def small(self, **server) -> SimEngine:
        d = {"name": "unit", "start": START.isoformat() + "Z",
             "server": {"databases": {"count": 3, "names": ["Sales", "Old"], "offline": ["Old"]}, **server},
             "sessions": {"user": 20, "think": "10s", "batch": 1},
             "plan_cache": {"queries": 100, "database_ids": [5, 7]},
             "permissions": {"deny": ["latch_stats"]},
             "auth": {"logins": [{"name": "dmvlog", "password": "dmvlog"},
                                 {"name": "limited", "password": "pw", "deny": ["VIEW SERVER STATE"]}]}}
        e = SimEngine(scenario_from_dict(d, "unit.toml"), seed=1, wall=lambda: 0.0)
        e.control({"cmd": "advance", "seconds": 90})
        return e

    def test_use_of_an_offline_or_unknown_database(self):
        a = Agent(self.small())
        d = BY_NAME["index_usage"]
        out = a.run(d.batch(16, "Old"))
        self.assertEqual([r.number for r in out if isinstance(r, Error)], [942])
        self.assertFalse(any(isinstance(r, ResultSet) for r in out))
        out = a.run(d.batch(16, "Nowhere"))
        self.assertEqual([r.number for r in out if isinstance(r, Error)], [911])
        out = a.run(d.batch(16, "Sales"))
        self.assertEqual(sum(isinstance(r, ResultSet) for r in out), 2)
        self.assertEqual(a.session.database, "Sales")

    def test_a_per_database_collector_without_a_database_gets_only_the_clock(self):
        a = Agent(self.small())
        out = a.run("/* dmvlog:index_usage */\n" + CLOCK_LINE)
        sets = [r for r in out if isinstance(r, ResultSet)]
        self.assertEqual(len(sets), 1)
        self.assertEqual(sets[0].columns[0].name, "collected_at")

    def test_an_undeclared_parameter_is_error_137(self):
        a = Agent(self.small())
        out = a.run(BY_NAME["query_stats"].batch(16).replace("@with_text int = 1, ", ""))
        self.assertEqual([(r.number, r.message) for r in out if isinstance(r, Error)],
                         [(137, 'Must declare the scalar variable "@with_text".')])
        self.assertFalse(any(isinstance(r, ResultSet) for r in out))

    def test_denied_tags_and_logins_without_view_server_state(self):
        e = self.small()
        a = Agent(e)
        out = a.run(BY_NAME["latch_stats"].batch(16))
        self.assertEqual([r.number for r in out if isinstance(r, Error)], [300], "[permissions] deny")
        out = a.run(BY_NAME["wait_stats"].batch(16))
        self.assertFalse(any(isinstance(r, Error) for r in out))
        e.control({"cmd": "fault", "kind": "deny", "tag": "wait_stats"})
        out = a.run(BY_NAME["wait_stats"].batch(16))
        self.assertEqual([r.number for r in out if isinstance(r, Error)], [300], "deny fault")
        e.control({"cmd": "fault", "kind": "deny", "tag": "*"})
        self.assertTrue(a.databases(), "the agent's database list is not a collector")
        limited = Agent(e, spid=9003)
        limited.session.login = "limited"
        self.assertTrue(limited.databases(), "sys.databases needs no VIEW SERVER STATE")
        e.control({"cmd": "clear_faults"})
        out = limited.run(BY_NAME["wait_stats"].batch(16))
        self.assertEqual([r.number for r in out if isinstance(r, Error)], [300])

    def test_version_variants(self):
        e = self.small(version="13.0.5026.0", host_platform="Windows")
        a = Agent(e)
        d = BY_NAME["server_info"]
        out = a.run(d.batch(13))
        self.assertIn("server_info_2016", d.variants[0]["sql"])
        rs = [r for r in out if isinstance(r, ResultSet)]
        self.assertEqual(len(rs), 2, out)
        names = [c.name for c in rs[1].columns]
        row = dict(zip(names, rs[1].rows[0]))
        self.assertEqual((row["host_platform"], row["host_distribution"], row["product_major_version"]),
                         ("Windows", None, 13))
        out = a.run(d.batch(16))       # the main query names sys.dm_os_host_info, which 2016 lacks
        self.assertEqual([r.number for r in out if isinstance(r, Error)], [208])
        old = Agent(self.small(version="13.0.4001.0"))
        out = old.run(BY_NAME["query_stats"].batch(13))
        self.assertEqual([r.number for r in out if isinstance(r, Error)], [207], "no *_spills before 2016 SP2")
        new = Agent(self.small(version="16.0.4135.4"))
        row = dict(zip(names, [r for r in new.run(d.batch(16)) if isinstance(r, ResultSet)][1].rows[0]))
        self.assertEqual((row["host_platform"], row["product_major_version"]), ("Linux", 16))

    def test_same_query_times_give_the_same_answers(self):
        def run():
            e = engine("incident", seed=3)
            a = Agent(e)
            outs = []
            for at in (100, 45):
                e.control({"cmd": "advance", "seconds": at})
                for d in DECLS:
                    outs.append(a.collect(d)[1])
            return outs
        self.assertEqual(run(), run())


if __name__ == "__main__":
    unittest.main()
