"""Plan cache model: lifetimes, eviction / recompile / restart, exact ground truth, determinism, speed."""
import datetime as dt
import random
import time
import unittest
from collections import defaultdict

from sim.model.plancache import METRICS, PlanCache
from sim.model.queries import QueryCatalog, hex_binary, statement_text, utf16_units

T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
MIN = dt.timedelta(minutes=1)
SEC = dt.timedelta(seconds=1)


def make(seed=11, queries=300, cache_cfg=None, cat_cfg=None):
    rng = random.Random(seed)
    cat = QueryCatalog(rng, dict({"queries": queries}, **(cat_cfg or {})))
    return cat, PlanCache(rng, cat, cache_cfg or {})


def run(pc, start, minutes, step=MIN, observe=None):
    t = start
    end = start + minutes * MIN
    while t < end:
        pc.advance(t, t + step)
        t += step
        if observe:
            observe(t, pc.query_stats_rows())
    return t


def key(r):
    return (r["sql_handle"], r["plan_handle"], r["statement_start_offset"], r["statement_end_offset"], r["creation_time"])


class CatalogTest(unittest.TestCase):
    def test_handles_offsets_and_texts(self):
        cat = QueryCatalog(random.Random(3), {"queries": 600, "long_batch_share": 0.3, "japanese_share": 0.4})
        kinds = {q.kind for q in cat.queries}
        self.assertEqual(kinds, {"adhoc", "prepared", "proc"})
        for q in cat.queries:
            self.assertEqual(len(q.sql_handle), 44)
            self.assertEqual(len(q.plan_handle), 64)
            self.assertEqual(len(q.query_hash), 8)
            self.assertEqual(len(q.query_plan_hash), 8)
            self.assertEqual(q.sql_handle[:1], b"\x03" if q.kind == "proc" else b"\x02")
            self.assertEqual(q.plan_handle[:1], b"\x05" if q.kind == "proc" else b"\x06")
            self.assertEqual((q.object_id is not None), q.kind == "proc")
            st = statement_text(q.text, q.statement_start_offset, q.statement_end_offset)
            self.assertEqual(st, q.statement)
            self.assertEqual(st, st.strip())
            self.assertTrue(st.split()[0] in ("SELECT", "UPDATE", "INSERT", "DELETE"), st)
            if q.statement_end_offset != -1:
                self.assertEqual((q.statement_end_offset - q.statement_start_offset) // 2 + 1, utf16_units(st))
            self.assertEqual(q.statement_start_offset % 2, 0)
        longs = [q for q in cat.queries if q.long_batch]
        self.assertTrue(longs)
        self.assertTrue(all(len(q.text) > 8000 for q in longs))
        self.assertTrue(any(q.statement_start_offset > 16000 for q in longs))
        # a surrogate pair makes UTF-16 offsets differ from Python indexes; slicing still lands on the statement
        sur = [q for q in cat.queries if "𠮷" in q.text and q.statement_start_offset > 0]
        self.assertTrue(sur)
        self.assertTrue(any("N'東京'" in q.text for q in cat.queries))
        # procedures: several statements share one sql_handle / plan_handle, distinct offsets
        by_handle = defaultdict(list)
        for q in cat.queries:
            by_handle[q.sql_handle].append(q)
        multi = [v for v in by_handle.values() if len(v) > 1]
        self.assertTrue(multi)
        for v in multi:
            self.assertEqual(len({q.statement_start_offset for q in v}), len(v))
            self.assertEqual(len({q.plan_handle for q in v}), 1)
        # literal variants: different handles, same query_hash
        by_hash = defaultdict(set)
        for q in cat.queries:
            by_hash[q.query_hash].add(q.sql_handle)
        self.assertTrue(any(len(v) > 1 for v in by_hash.values()))

    def test_add_batch_registers_the_workloads_own_statements(self):
        cat = QueryCatalog(random.Random(3), {"queries": 100})
        n_batches, n_queries = len(cat.batches), len(cat.queries)
        text = ("/* 夜間 */\nSET XACT_ABORT ON;\nUPDATE dbo.[顧客] SET [名前] = N'𠮷野' WHERE id = @id;\n"
                "SELECT @@ROWCOUNT AS n;")
        stmts = cat.add_batch(text, 5)
        self.assertEqual(len(stmts), 3)
        self.assertEqual((len(cat.batches), len(cat.queries)), (n_batches + 1, n_queries + 3))
        self.assertEqual(cat.batches[-1], stmts)
        self.assertEqual([q.statement_index for q in stmts], [0, 1, 2])
        self.assertEqual({q.batch_id for q in stmts}, {n_batches})
        self.assertEqual([statement_text(text, q.statement_start_offset, q.statement_end_offset) for q in stmts],
                         ["/* 夜間 */\nSET XACT_ABORT ON;", "UPDATE dbo.[顧客] SET [名前] = N'𠮷野' WHERE id = @id;",
                          "SELECT @@ROWCOUNT AS n;"])
        self.assertEqual(stmts[-1].statement_end_offset, -1)
        self.assertEqual(len({(q.sql_handle, q.plan_handle) for q in stmts}), 1)
        self.assertEqual(stmts[0].sql_handle[:1], b"\x02")
        self.assertEqual(cat.text_for_handle(stmts[0].sql_handle), text)
        self.assertTrue(all(q.weight == 0 and q.rate_per_s == 0 and q.database_id == 5 for q in stmts))
        # the same text in the same database is the same batch; in another database another plan
        self.assertEqual(cat.add_batch(text, 5), stmts)
        other = cat.add_batch(text, 6)
        self.assertEqual(len(cat.batches), n_batches + 2)
        self.assertEqual(other[0].sql_handle, stmts[0].sql_handle)
        self.assertNotEqual(other[0].plan_handle, stmts[0].plan_handle)
        single = cat.add_batch("UPDATE dbo.Orders SET Status = 3 WHERE OrderId = @id", 5)
        self.assertEqual([(q.statement_start_offset, q.statement_end_offset) for q in single], [(0, -1)])
        # never picked, never run in the background; what the workload reports is recorded
        rng = random.Random(1)
        self.assertFalse({cat.pick(rng).batch_id for _ in range(5000)} & {n_batches, n_batches + 1, n_batches + 2})
        pc = PlanCache(random.Random(2), cat, {})
        run(pc, T0, 30)
        self.assertEqual([r for r in pc.query_stats_rows() if r["sql_handle"] == stmts[0].sql_handle], [])
        pc.execute(stmts[1], T0 + 31 * MIN, 5000, 9000, 40, 1, 2, 1)
        [row] = [r for r in pc.query_stats_rows() if r["sql_handle"] == stmts[0].sql_handle]
        self.assertEqual((row["statement_start_offset"], row["execution_count"], row["total_worker_time"]),
                         (stmts[1].statement_start_offset, 1, 5000))

    def test_fast_padding_draws_what_randint_draws(self):
        from sim.model.queries import _randints_1_to_10m
        a, b = random.Random(8), random.Random(8)
        self.assertEqual(_randints_1_to_10m(a, 3000), [b.randint(1, 10 ** 7) for _ in range(3000)])
        self.assertEqual(a.random(), b.random())

    def test_pick_prefers_hot_queries(self):
        cat = QueryCatalog(random.Random(5), {"queries": 400, "hot_queries": 3, "hot_share": 0.6})
        rng = random.Random(1)
        counts = defaultdict(int)
        for _ in range(20000):
            counts[cat.pick(rng).batch_id] += 1
        top3 = sum(sorted(counts.values(), reverse=True)[:3])
        self.assertGreater(top3 / 20000, 0.45)
        self.assertGreater(len(counts), 100)


class LifetimeTest(unittest.TestCase):
    def test_counters_only_grow_within_a_lifetime(self):
        _, pc = make(cache_cfg={"lifetime_median_s": 600, "recompile_per_hour": 2})
        seen = {}
        lifetimes = set()

        def observe(t, rows):
            for r in rows:
                k = key(r)
                lifetimes.add(k)
                self.assertLessEqual(r["min_worker_time"], r["last_worker_time"])
                self.assertLessEqual(r["last_worker_time"], r["max_worker_time"])
                n = r["execution_count"]
                for m in METRICS:
                    self.assertLessEqual(r["min_" + m] * n, r["total_" + m], m)
                    self.assertLessEqual(r["total_" + m], r["max_" + m] * n, m)
                self.assertLessEqual(r["creation_time"], r["last_execution_time"])
                self.assertLessEqual(r["last_execution_time"], t)
                prev = seen.get(k)
                if prev:
                    self.assertGreaterEqual(n, prev["execution_count"])
                    for m in METRICS:
                        self.assertGreaterEqual(r["total_" + m], prev["total_" + m], m)
                        self.assertLessEqual(r["min_" + m], prev["min_" + m], m)
                        self.assertGreaterEqual(r["max_" + m], prev["max_" + m], m)
                    self.assertGreaterEqual(r["last_execution_time"], prev["last_execution_time"])
                seen[k] = r
        run(pc, T0, 120, observe=observe)
        # several lifetimes of one statement were seen (eviction or recompile)
        per_stmt = defaultdict(set)
        for k in lifetimes:
            per_stmt[k[:4]].add(k[4])
        self.assertTrue(any(len(v) > 1 for v in per_stmt.values()))

    def test_churn_between_one_minute_snapshots(self):
        _, pc = make(queries=800, cache_cfg={"lifetime_median_s": 20, "hot_lifetime_factor": 1.5, "warm_start": False},
                     cat_cfg={"background_exec_per_s": 80})
        snapshots = []
        run(pc, T0, 10, observe=lambda t, rows: snapshots.append({key(r) for r in rows}))
        c = pc.churn(T0, T0 + 10 * MIN)
        self.assertGreater(c["created"], 1000)
        self.assertGreater(c["ended"], 1000)
        # most lifetimes that existed were never seen by any one-minute snapshot
        seen = set().union(*snapshots)
        self.assertLess(len(seen), c["created"] / 2)

    def test_with_evict_idle_a_plan_goes_only_after_that_long_unused(self):
        idle = 90

        def evictions(cfg):
            _, pc = make(queries=400, cache_cfg=dict({"warm_start": False, "lifetime_median_s": 60,
                                                      "recompile_per_hour": 0}, **cfg),
                         cat_cfg={"background_exec_per_s": 80})
            # plan lifetime -> (its last execution, most executions of a statement); for each eviction of a
            # plan used more than once: now - last use; of a plan used once: the same, apart
            live, gaps, once = {}, [], []
            t = T0
            for _ in range(360):     # an hour in 10 s steps
                pc.advance(t, t + 10 * SEC)
                t += 10 * SEC
                now = {}
                for r in pc.query_stats_rows():
                    k = (r["plan_handle"], r["creation_time"])
                    last, n = now.get(k, (r["last_execution_time"], 0))
                    now[k] = (max(last, r["last_execution_time"]), max(n, r["execution_count"]))
                for k, (last, n) in live.items():
                    if k not in now:
                        (gaps if n > 1 else once).append((t - last).total_seconds())
                live = now
            return pc, gaps, once

        pc, gaps, once = evictions({"evict_idle_s": idle})
        self.assertGreater(len(gaps), 100)
        # SQL Server's clock: a plan in use is not evicted; it goes after idle seconds without an execution
        # (seen here from 10 s steps, so the gap to the step after the eviction is at least that long)
        self.assertGreaterEqual(min(gaps), idle)
        # an ad hoc plan used once keeps its zero cost: it may go at the end of its lifetime
        self.assertGreater(len(once), 10)
        self.assertLess(min(once), idle)
        # background executions stopped at the end of the drawn lifetime: the truth is what the rows held
        self.assertTrue(pc.truth(T0, T0 + 60 * MIN))
        # without it, plans are evicted in the middle of use (the pessimistic model)
        _, gaps0, once0 = evictions({})
        gaps0 += once0
        self.assertGreater(len(gaps0), 100)
        self.assertLess(min(gaps0), idle)
        self.assertGreater(sum(1 for g in gaps0 if g < 20), len(gaps0) / 10)

    def test_recompile_starts_counters_over(self):
        _, pc = make(queries=100, cache_cfg={"recompile_per_hour": 30, "lifetime_median_s": 1e9, "keep_ended": True})
        run(pc, T0, 60)
        rows = pc.query_stats_rows()
        gen = [r for r in rows if r["plan_generation_num"] > 1]
        self.assertTrue(gen)
        ended = {(r["sql_handle"], r["statement_start_offset"], r["plan_generation_num"]): r for r in pc.ended_rows}
        checked = 0
        for r in gen:
            old = ended.get((r["sql_handle"], r["statement_start_offset"], r["plan_generation_num"] - 1))
            if old is None:
                continue
            self.assertEqual(r["plan_handle"], old["plan_handle"])
            self.assertGreater(r["creation_time"], old["creation_time"])
            self.assertGreaterEqual(r["creation_time"], old["last_execution_time"])
            checked += 1
        self.assertGreater(checked, 0)
        self.assertGreater(pc.churn(T0, T0 + 60 * MIN)["recompiles"], 0)

    def test_restart_empties_the_cache(self):
        _, pc = make(queries=200)
        t = run(pc, T0, 30)
        self.assertGreater(len(pc.query_stats_rows()), 50)
        before = pc.truth(T0, t)
        pc.restart(t)
        self.assertEqual(pc.query_stats_rows(), [])
        self.assertEqual(pc.procedure_stats_rows(), [])
        t2 = run(pc, t, 10)
        rows = pc.query_stats_rows()
        self.assertTrue(rows)
        self.assertTrue(all(r["creation_time"] >= t - dt.timedelta(milliseconds=4) for r in rows))
        self.assertEqual(pc.truth(T0, t), before)   # history survives the restart
        self.assertTrue(pc.truth(t, t2))

    def test_no_executions_during_an_outage(self):
        _, pc = make(queries=200)
        t = run(pc, T0, 10)
        pc.restart(t, up_at=t + 5 * MIN)
        t2 = run(pc, t, 5)
        self.assertEqual(pc.query_stats_rows(), [])
        self.assertEqual(pc.truth(t, t2), {})
        run(pc, t2, 5)
        self.assertTrue(pc.query_stats_rows())
        self.assertTrue(all(r["creation_time"] >= t2 for r in pc.query_stats_rows()))

    def test_foreground_execution_creates_and_updates_an_entry(self):
        cat, pc = make(queries=50, cache_cfg={"warm_start": False, "rate_scale": 0})
        pc.advance(T0, T0 + MIN)
        q = next(q for q in cat.queries if q.kind == "adhoc")
        now = T0 + 90 * SEC
        e = pc.execute(q, now, cpu_us=5000, elapsed_us=20000, logical_reads=40, physical_reads=2, writes=1, rows=3,
                       grant_kb=1024, used_grant_kb=512, spills=0, dop=1)
        r = e.row()
        self.assertEqual(r["execution_count"], 1)
        self.assertEqual(r["creation_time"], r["last_execution_time"])
        self.assertLess(r["creation_time"], now)
        self.assertEqual((r["total_worker_time"], r["min_logical_reads"], r["max_grant_kb"]), (5000, 40, 1024))
        pc.execute(q, now + SEC, 1000, 2000, 10, 0, 0, 1)
        r = pc.execute(q, now + 2 * SEC, 3000, 4000, 20, 0, 0, 1).row()
        self.assertEqual(r["execution_count"], 3)
        self.assertEqual(r["total_worker_time"], 9000)
        self.assertEqual((r["min_worker_time"], r["max_worker_time"], r["last_worker_time"]), (1000, 5000, 3000))
        self.assertEqual(len(pc.query_stats_rows()), 1)


class TruthTest(unittest.TestCase):
    def test_truth_matches_a_ledger_of_foreground_executions_across_evictions(self):
        cat, pc = make(queries=120, cache_cfg={"warm_start": False, "rate_scale": 0, "lifetime_median_s": 30,
                                                "hot_lifetime_factor": 1, "recompile_per_hour": 60})
        rng = random.Random(99)
        ledger = defaultdict(lambda: [0] * 6)
        window = (T0 + 10 * MIN, T0 + 40 * MIN)
        t = T0
        pc.advance(t, t)
        for step in range(3000):
            t_next = t + SEC
            pc.advance(t, t_next)
            t = t_next
            for _ in range(rng.randint(0, 3)):
                q = cat.pick(rng)
                v = (rng.randint(1, 9000), rng.randint(0, 500), rng.randint(0, 9), rng.randint(0, 3), 1,
                     rng.randint(9000, 20000))
                pc.execute(q, t, cpu_us=v[0], elapsed_us=v[5], logical_reads=v[1], physical_reads=v[2], writes=v[3],
                           rows=1)
                if window[0] <= t < window[1]:
                    acc = ledger[hex_binary(q.query_hash)]
                    for i in range(6):
                        acc[i] += v[i]
            if step == 1500:
                pc.restart(t)
        truth = pc.truth(*window)
        want = {k: dict(zip(("cpu_us", "logical_reads", "physical_reads", "writes", "executions", "elapsed_us"), v))
                for k, v in ledger.items()}
        self.assertEqual(truth, want)
        self.assertGreater(pc.churn(*window)["ended"], 50)

    def test_truth_equals_counters_of_every_lifetime_including_evicted_ones(self):
        _, pc = make(queries=400, cache_cfg={"warm_start": False, "lifetime_median_s": 60, "recompile_per_hour": 5,
                                             "keep_ended": True})
        # irregular snapshot times: syncs split executions over buckets
        t = T0
        pc.advance(t, t)
        rng = random.Random(4)
        end = T0 + 90 * MIN
        while t < end:
            t_next = min(end, t + dt.timedelta(seconds=rng.randint(1, 400)))
            pc.advance(t, t_next)
            t = t_next
            if rng.random() < 0.5:
                pc.query_stats_rows()
        truth = pc.truth(T0, end)
        sums = defaultdict(lambda: defaultdict(int))
        for r in list(pc.ended_rows) + pc.query_stats_rows():
            s = sums[hex_binary(r["query_hash"])]
            s["cpu_us"] += r["total_worker_time"]
            s["logical_reads"] += r["total_logical_reads"]
            s["physical_reads"] += r["total_physical_reads"]
            s["writes"] += r["total_logical_writes"]
            s["executions"] += r["execution_count"]
            s["elapsed_us"] += r["total_elapsed_time"]
        self.assertGreater(len(pc.ended_rows), 100)
        self.assertEqual(truth, {k: dict(v) for k, v in sums.items()})
        # windows partition the total exactly
        halves = [pc.truth(T0, T0 + 45 * MIN), pc.truth(T0 + 45 * MIN, end)]
        for k, v in truth.items():
            got = sum(h.get(k, {}).get("executions", 0) for h in halves)
            self.assertEqual(got, v["executions"])
        self.assertEqual(pc.truth(end, end + MIN), {})
        # lifetimes of any length: all the CPU; of a minimum length: the CPU of those lifetimes only
        all_lives = pc.truth_long_lived(T0, end, 0)
        self.assertEqual(all_lives, {k: v["cpu_us"] for k, v in truth.items() if v["cpu_us"]})
        long_lives = pc.truth_long_lived(T0, end, 120)
        self.assertLess(sum(long_lives.values()), sum(all_lives.values()))
        self.assertGreater(sum(long_lives.values()), 0)
        for k, v in long_lives.items():
            self.assertLessEqual(v, all_lives[k])
        self.assertEqual(pc.truth_long_lived(T0, end, 10 * 3600), {})   # nothing lived longer than the run

    def test_procedure_stats_add_up_their_statements(self):
        cat, pc = make(queries=300, cache_cfg={"recompile_per_hour": 0, "lifetime_median_s": 1e9})
        run(pc, T0, 30)
        procs = pc.procedure_stats_rows()
        self.assertTrue(procs)
        stmts = defaultdict(list)
        for r in pc.query_stats_rows():
            if r["object_id"] is not None:
                stmts[r["plan_handle"]].append(r)
        for p in procs:
            self.assertEqual(p["type_desc"], "SQL_STORED_PROCEDURE")
            self.assertEqual(p["sql_handle"][:1], b"\x03")
            rows = stmts[p["plan_handle"]]
            self.assertTrue(rows)
            self.assertEqual(p["total_worker_time"], sum(r["total_worker_time"] for r in rows))
            self.assertEqual(p["total_logical_reads"], sum(r["total_logical_reads"] for r in rows))
            self.assertEqual(p["execution_count"], max(r["execution_count"] for r in rows))
            self.assertLessEqual(p["cached_time"], p["last_execution_time"])


class DeterminismAndSpeedTest(unittest.TestCase):
    def test_same_seed_same_cache(self):
        def snap(seed):
            _, pc = make(seed=seed, queries=200, cache_cfg={"lifetime_median_s": 300})
            run(pc, T0, 20)
            return sorted((key(r), r["execution_count"], r["total_worker_time"]) for r in pc.query_stats_rows())
        a, b, c = snap(5), snap(5), snap(6)
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)

    def test_one_simulated_hour_with_5000_entries_is_cheap(self):
        _, pc = make(seed=2, queries=5000)
        pc.advance(T0, T0)
        self.assertGreater(len(pc), 3000)
        start = time.process_time()
        t = T0
        for _ in range(3600):
            pc.advance(t, t + SEC)
            t += SEC
        elapsed = time.process_time() - start
        self.assertLess(elapsed, 1.0)
        start = time.process_time()
        rows = pc.query_stats_rows()
        truth = pc.truth(T0, t)
        self.assertLess(time.process_time() - start, 2.0)
        self.assertGreater(len(rows), 2000)
        self.assertGreater(sum(v["executions"] for v in truth.values()), 100000)

    def test_large_cache(self):
        """A quarter of the 'large' scenario's catalog (25,000 statements, plans living for a week; the whole
        scenario is loaded by test_scenarios): the warm start fills the cache, after that time costs only
        events, and the per-minute filter reads a small part of it. Limits are CPU seconds, ~3x a laptop."""
        _, pc = make(seed=3, queries=25000, cat_cfg={"background_exec_per_s": 100},
                     cache_cfg={"lifetime_median_s": 7 * 86400})
        start = time.process_time()
        pc.advance(T0, T0)
        self.assertLess(time.process_time() - start, 4.0, "warm start")
        self.assertGreater(len(pc), 20000)
        start = time.process_time()
        t = run(pc, T0, 3)
        self.assertLess(time.process_time() - start, 0.5, "three simulated minutes of a warm cache are events only")
        start = time.process_time()
        recent = pc.query_stats_rows(since=t - MIN)
        everything = pc.query_stats_rows()
        self.assertLess(time.process_time() - start, 4.0)
        self.assertGreater(len(everything), 20000)
        self.assertTrue(0 < len(recent) < len(everything) // 4, (len(recent), len(everything)))


if __name__ == "__main__":
    unittest.main()
