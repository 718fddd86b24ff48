"""The workload model through the requests answer: blocking chains, memory grants, parallelism, texts,
blocked-process and deadlock reports, executions recorded in the plan cache. Uses the incident scenario."""
from __future__ import annotations

import datetime as dt
import os
import unittest

from sim.engine import SimEngine
from sim.model.queries import statement_text
from tests.test_engine import agent_session, declared_columns, requests_batch

SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios")
COLS = [n for n, _ in declared_columns()]


class Recorder:
    """Stands in for the XE store to see exactly what the model emits."""

    def __init__(self, threshold: int):
        self.blocked_process_threshold = threshold
        self.diagnostics_s = 0          # no system_health diagnostics events
        self.reports, self.deadlocks = [], []

    def emit_blocked_process_report(self, event_time, monitor_loop, blocked, blocking):
        self.reports.append((event_time, monitor_loop, blocked, blocking))

    def emit_deadlock(self, event_time, victims, processes, resources):
        self.deadlocks.append((event_time, victims, processes, resources))


_SHARED = {}


def _incident() -> dict:
    """One incident run shared by every test here: snapshots at a few times, the XE calls, the truth."""
    if not _SHARED:
        e = SimEngine(os.path.join(SCENARIOS, "incident.toml"), seed=3, wall=lambda: 0.0,
                      now=dt.datetime(2026, 3, 2, 9, 0))     # the file has no start: pin it
        xe = Recorder(threshold=5)
        e.server.xe = xe
        s = agent_session()
        snaps, open_tran = {}, {}
        for t in (100, 130, 160, 230, 330, 400):
            e.control({"cmd": "advance", "seconds": t - e.clock.elapsed()})
            _, rs = e.execute(s, requests_batch("requests_1m", lo=0, hi=10 ** 9, top=10 ** 6), {})
            snaps[t] = [dict(zip(COLS, r)) for r in rs.rows]
            open_tran[t] = {spid: x.open_tran for spid, x in e.server.workload.sessions.items()}
        truth = e.control({"cmd": "truth", "from": e.scenario.start.isoformat(), "to": "2100-01-01T00:00:00"})
        _SHARED.update(e=e, xe=xe, s=s, snaps=snaps, open_tran=open_tran, truth=truth)
    return _SHARED


class IncidentCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for k, v in _incident().items():
            setattr(cls, k, v)


class TestBlockingChain(IncidentCase):
    def test_twenty_blocked_behind_a_sleeping_head(self):
        rows = self.snaps[130]
        blocked = [r for r in rows if r["blocking_session_id"]]
        self.assertEqual(len(blocked), 20)
        by_spid = {r["session_id"]: r for r in rows}
        blocked_spids = {r["session_id"] for r in blocked}
        heads = {r["blocking_session_id"] for r in blocked} - blocked_spids
        self.assertEqual(len(heads), 1)
        head = heads.pop()
        self.assertNotIn(head, by_spid, "a head blocker sleeping with an open transaction has no request")
        sess = self.e.server.workload.sessions[head]
        self.assertEqual(self.open_tran[130][head], 1)
        self.assertEqual(self.open_tran[330][head], 0)
        self.assertEqual((sess.login, sess.host, sess.program), ("etl_loader", "BATCH01", "Nightly Loader"))
        for r in blocked:
            self.assertEqual(r["status"], "suspended")
            self.assertEqual(r["wait_type"], "LCK_M_U")
            self.assertTrue(r["wait_resource"].startswith("KEY: 5:"), r["wait_resource"])
            self.assertGreater(r["wait_time"], 0)
            self.assertEqual(r["database_name"], "Sales")

    def test_chain_is_several_levels_deep(self):
        rows = {r["session_id"]: r for r in self.snaps[130]}

        def depth(spid):
            d = 0
            while spid in rows and rows[spid]["blocking_session_id"]:
                spid, d = rows[spid]["blocking_session_id"], d + 1
            return d
        self.assertEqual(max(depth(s) for s in rows), 4)

    def test_chain_is_gone_after_the_episode(self):
        self.assertFalse([r for r in self.snaps[330] if r["wait_type"] == "LCK_M_U"])

    def test_wait_times_grow(self):
        w1 = {r["session_id"]: r["wait_time"] for r in self.snaps[100] if r["blocking_session_id"]}
        w2 = {r["session_id"]: r["wait_time"] for r in self.snaps[130] if r["blocking_session_id"]}
        for spid, w in w1.items():
            self.assertEqual(w2[spid] - w, 30000)

    def test_ground_truth(self):
        [ep] = self.truth["blocking"]
        start = self.e.scenario.start
        self.assertEqual(start, dt.datetime(2026, 3, 2, 9, 0))
        self.assertEqual(ep["start"], "2026-03-02T09:01:00Z")
        self.assertEqual(ep["duration_s"], 180.0)
        self.assertEqual(ep["sessions_blocked_max"], 20)
        self.assertEqual(ep["max_wait_ms"], 180000)
        self.assertEqual(ep["head_blocker"]["login"], "etl_loader")
        self.assertIn("UPDATE dbo.Orders", ep["head_blocker"]["statement"])

    def test_blocked_process_reports(self):
        self.assertTrue(self.xe.reports)
        for when, loop, blocked, blocking in self.xe.reports:
            self.assertGreaterEqual(blocked["waittime"], 5000)
            self.assertEqual(blocked["status"], "suspended")
            self.assertTrue(blocked["waitresource"].startswith("KEY: "))
            self.assertEqual(blocked["lockMode"], "U")
            self.assertTrue(blocked["frames"])
        heads = [b for _, _, _, b in self.xe.reports if b["status"] == "sleeping"]
        self.assertTrue(heads)
        self.assertEqual({h["loginname"] for h in heads}, {"etl_loader"})
        self.assertEqual({h["trancount"] for h in heads}, {1})
        # reports of one pass share the monitor loop and the time
        loops = {}
        for when, loop, _, _ in self.xe.reports:
            loops.setdefault(loop, set()).add(when)
        self.assertTrue(all(len(v) == 1 for v in loops.values()))


class TestGrantsParallelAndText(IncidentCase):
    def test_pending_and_granted_memory(self):
        # at 100 s all 16 reports (submitted from 90 s) are in, and none of the 8 granted has finished
        rows = [r for r in self.snaps[100] if r["requested_memory_kb"] == 6 * 1024 * 1024]
        pending = [r for r in rows if r["granted_memory_kb"] is None]
        granted = [r for r in rows if r["granted_memory_kb"] is not None]
        self.assertEqual(len(granted), 8)
        self.assertEqual(len(pending), 8)
        for r in pending:
            self.assertEqual(r["wait_type"], "RESOURCE_SEMAPHORE")
            self.assertEqual(r["granted_query_memory"], 0)
            self.assertIsNotNone(r["grant_wait_time_ms"])
            self.assertGreater(r["grant_wait_time_ms"], 0)
        for r in granted:
            self.assertEqual(r["granted_memory_kb"], r["requested_memory_kb"])
            self.assertEqual(r["granted_query_memory"], r["granted_memory_kb"] // 8)
            self.assertLessEqual(r["used_memory_kb"], r["granted_memory_kb"])
        self.assertTrue(self.truth["grant_pressure"][0]["max_pending"] >= 8)

    def test_runaway_is_parallel_and_burns_cpu(self):
        [r] = [r for r in self.snaps[160] if r["login_name"] == "analyst"]
        self.assertEqual(r["dop"], 8)
        self.assertGreater(r["parallel_worker_count"], 8)
        self.assertEqual(r["total_elapsed_time"], 40000)
        self.assertGreater(r["cpu_time"], 5 * r["total_elapsed_time"])
        self.assertIn("限定", r["batch_text"])

    def test_serial_requests_have_dop_1(self):
        serial = [r for r in self.snaps[130] if r["dop"] == 1]
        self.assertTrue(serial)
        self.assertTrue(all(r["parallel_worker_count"] == 0 for r in serial))

    def test_statement_offsets_slice_the_batch(self):
        for rows in self.snaps.values():
            for r in rows:
                st = statement_text(r["batch_text"], r["statement_start_offset"], r["statement_end_offset"])
                self.assertTrue(st.strip(), r["session_id"])
                self.assertLessEqual(r["statement_start_offset"], len(r["batch_text"].encode("utf-16-le")))

    def test_long_and_japanese_batches_appear(self):
        texts = [r["batch_text"] for rows in self.snaps.values() for r in rows]
        self.assertTrue(any(len(t) > 8000 for t in texts))
        self.assertTrue(any(any("\u3040" <= c <= "\u9fff" for c in t) for t in texts))

    def test_user_sessions_only(self):
        for rows in self.snaps.values():
            self.assertNotIn(self.s.spid, [r["session_id"] for r in rows])
            self.assertTrue(all(r["session_status"] == "running" for r in rows))


class TestDeadlockAndExecutions(IncidentCase):
    def test_one_deadlock_with_one_victim(self):
        self.assertEqual(len(self.xe.deadlocks), 1)
        when, victims, procs, resources = self.xe.deadlocks[0]
        self.assertEqual(len(victims), 1)
        self.assertEqual(len(procs), 2)
        self.assertIn(victims[0], [p["id"] for p in procs])
        self.assertEqual(len(resources), 2)
        # each resource carries every attribute the XE model writes for its type (none left to defaults)
        from sim.model.xe import _RESOURCE_ATTRS
        for r in resources:
            self.assertEqual(set(_RESOURCE_ATTRS[r["type"]]) - set(r), set(), r)
            self.assertEqual({r["owners"][0]["id"], r["waiters"][0]["id"]}, {p["id"] for p in procs})
        self.assertEqual({r["objectname"] for r in resources}, {"Sales.dbo.Inventory", "Sales.dbo.Orders"})
        [d] = self.truth["deadlocks"]
        self.assertEqual(len(d["victims"]), 1)
        self.assertIn(d["victims"][0], d["processes"])

    def test_completed_runaway_recorded_in_plan_cache_truth(self):
        [run] = self.truth["runaways"]
        self.assertIsNotNone(run["end"])
        q = self.truth["queries"].get(run["query_hash"])
        self.assertIsNotNone(q, "the runaway's execution is in the plan-cache truth")
        self.assertEqual(q["executions"], 1)
        self.assertGreaterEqual(q["cpu_us"], run["cpu_ms"] * 1000 - 1000)


if __name__ == "__main__":
    unittest.main()
