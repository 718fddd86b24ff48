"""Server-level counters: growth, resets (restart, DBCC SQLPERF CLEAR, database offline), wait truth."""
import datetime as dt
import random
import unittest

from sim.model.counters import (PERF_AVERAGE, PERF_BASE, PERF_BULK, PERF_FRACTION, PERF_RAW, ServerCounters)

T0 = dt.datetime(2026, 3, 2, 0, 0, 0)
MIN = dt.timedelta(minutes=1)
DBS = [{"database_id": 5, "name": "SalesDB", "state": "ONLINE"},
       {"database_id": 6, "name": "在庫管理", "state": "ONLINE"},
       {"database_id": 7, "name": "Archive", "state": "ONLINE"}]


def make(seed=1, cfg=None):
    sc = ServerCounters(random.Random(seed), cfg or {}, [dict(d) for d in DBS])
    sc.advance(T0, T0)
    return sc


def step(sc, t, minutes=1):
    sc.advance(t, t + minutes * MIN)
    return t + minutes * MIN


def by(rows, *keys):
    if len(keys) == 1:
        return {r[keys[0]]: r for r in rows}
    return {tuple(r[k] for k in keys): r for r in rows}


class GrowthTest(unittest.TestCase):
    def test_cumulative_views_only_grow(self):
        sc = make()
        t = T0
        prev = None
        for _ in range(30):
            t = step(sc, t)
            snap = {
                "wait": by(sc.wait_stats(), "wait_type"),
                "latch": by(sc.latch_stats(), "latch_class"),
                "spin": by(sc.spinlock_stats(), "name"),
                "io": by(sc.virtual_file_stats(), "database_id", "file_id"),
                "usage": by(sc.index_usage_stats(), "database_id", "object_id", "index_id"),
                "ops": by(sc.index_operational_stats(), "database_id", "object_id", "index_id"),
                "perf": by([r for r in sc.performance_counters() if r["cntr_type"] in (PERF_BULK, PERF_AVERAGE)],
                           "object_name", "counter_name", "instance_name"),
            }
            if prev:
                for view, cols in (("wait", ("waiting_tasks_count", "wait_time_ms", "max_wait_time_ms",
                                             "signal_wait_time_ms")),
                                   ("latch", ("waiting_requests_count", "wait_time_ms")),
                                   ("spin", ("collisions", "spins", "backoffs")),
                                   ("io", ("num_of_reads", "num_of_bytes_read", "io_stall_read_ms", "num_of_writes",
                                           "num_of_bytes_written", "io_stall_write_ms", "io_stall")),
                                   ("usage", ("user_seeks", "user_scans", "user_lookups", "user_updates")),
                                   ("ops", ("leaf_insert_count", "leaf_allocation_count", "range_scan_count",
                                            "row_lock_wait_count", "row_lock_wait_in_ms")),
                                   ("perf", ("cntr_value",))):
                    for k, r in snap[view].items():
                        p = prev[view].get(k)
                        if p is None:
                            continue
                        for c in cols:
                            self.assertGreaterEqual(r[c], p[c], (view, k, c))
            prev = snap
        w = prev["wait"]
        for name in ("PAGEIOLATCH_SH", "LCK_M_X", "CXPACKET", "WRITELOG", "RESOURCE_SEMAPHORE", "SOS_SCHEDULER_YIELD"):
            self.assertIn(name, w)
        self.assertGreater(w["PAGEIOLATCH_SH"]["wait_time_ms"], 0)
        for r in w.values():
            self.assertLessEqual(r["signal_wait_time_ms"], r["wait_time_ms"])
            self.assertLessEqual(r["max_wait_time_ms"], r["wait_time_ms"])
        self.assertTrue(any(r["user_seeks"] > 0 for r in prev["usage"].values()))
        self.assertTrue(any(r["leaf_allocation_count"] > 0 for r in prev["ops"].values()))

    def test_every_counter_type_with_its_base(self):
        sc = make()
        step(sc, T0, 5)
        rows = sc.performance_counters()
        self.assertEqual({r["cntr_type"] for r in rows}, {PERF_RAW, PERF_BULK, PERF_FRACTION, PERF_AVERAGE, PERF_BASE})
        for r in rows:
            for c in ("object_name", "counter_name", "instance_name"):
                self.assertEqual(len(r[c]), 128)      # nchar(128), blank padded
        names = {(r["object_name"].rstrip(), r["counter_name"].rstrip(), r["instance_name"].rstrip()): r for r in rows}
        self.assertEqual(names[("SQLServer:SQL Statistics", "Batch Requests/sec", "")]["cntr_type"], PERF_BULK)
        self.assertEqual(names[("SQLServer:Buffer Manager", "Buffer cache hit ratio", "")]["cntr_type"], PERF_FRACTION)
        self.assertEqual(names[("SQLServer:Locks", "Average Wait Time (ms)", "_Total")]["cntr_type"], PERF_AVERAGE)
        self.assertEqual(names[("SQLServer:Databases", "Transactions/sec", "在庫管理")]["cntr_type"], PERF_BULK)
        lower = {(o, c.lower(), i): r for (o, c, i), r in names.items()}
        for (o, c, i), r in names.items():
            if r["cntr_type"] in (PERF_FRACTION, PERF_AVERAGE):
                base = lower.get((o, c.replace(" (ms)", "").lower() + " base", i))
                self.assertIsNotNone(base, c)
                self.assertEqual(base["cntr_type"], PERF_BASE)
                if r["cntr_type"] == PERF_FRACTION:
                    self.assertLessEqual(r["cntr_value"], base["cntr_value"])
        hit = names[("SQLServer:Buffer Manager", "Buffer cache hit ratio", "")]["cntr_value"]
        base = names[("SQLServer:Buffer Manager", "Buffer cache hit ratio base", "")]["cntr_value"]
        self.assertGreater(hit / base, 0.8)
        named = ServerCounters(random.Random(1), {"instance_name": "PROD1"}, DBS)
        self.assertTrue(named.performance_counters()[0]["object_name"].startswith("MSSQL$PROD1:"))

    def test_files_and_sizes(self):
        sc = make(cfg={"tempdb_files": 4})
        t = step(sc, T0, 60)
        mf = sc.master_files()
        for dbid in (1, 2, 3, 4, 5, 6, 7):
            kinds = {r["type_desc"] for r in mf if r["database_id"] == dbid}
            self.assertEqual(kinds, {"ROWS", "LOG"})
        self.assertEqual(len([r for r in mf if r["database_id"] == 2 and r["type"] == 0]), 4)
        self.assertTrue(all(r["physical_name"].endswith((".mdf", ".ndf", ".ldf")) for r in mf))
        vfs = by(sc.virtual_file_stats(), "database_id", "file_id")
        self.assertEqual(set(vfs), {(r["database_id"], r["file_id"]) for r in mf})
        for r in mf:
            self.assertEqual(vfs[(r["database_id"], r["file_id"])]["size_on_disk_bytes"], r["size"] * 8192)
        for r in sc.file_space():
            self.assertLessEqual(r["space_used"], r["size"])
        # the log fills and is truncated by log backups: used log space goes down at least once
        used = []
        for _ in range(40):
            t = step(sc, t)
            used.append({r["database_id"]: r["used_log_space_in_bytes"] for r in sc.log_space_usage()}[5])
        self.assertTrue(any(b < a for a, b in zip(used, used[1:])))
        self.assertTrue(sc.tempdb_space_usage())
        self.assertEqual(len(sc.schedulers()), 8 + 2)
        self.assertTrue(any(r["type"] == "MEMORYCLERK_SQLBUFFERPOOL" for r in sc.memory_clerks()))

    def test_statistics_are_updated_over_time(self):
        sc = make()
        before = by(sc.stats(), "database_id", "object_id", "stats_id")
        t = step(sc, T0, 120)
        after = by(sc.stats(), "database_id", "object_id", "stats_id")
        self.assertEqual(set(before), set(after))
        updated = [k for k in after if after[k]["last_updated"] > before[k]["last_updated"]]
        self.assertTrue(updated)
        self.assertTrue(any(after[k]["last_updated"] > T0 for k in updated))
        self.assertTrue(any(r["auto_created"] and r["name"].startswith("_WA_Sys_") for r in after.values()))
        for r in after.values():
            self.assertLessEqual(r["rows_sampled"], r["rows"])
            self.assertLessEqual(r["last_updated"], t)

    def test_same_seed_same_counters(self):
        def snap(seed):
            sc = make(seed)
            step(sc, T0, 10)
            return sc.wait_stats(), sc.index_usage_stats()
        self.assertEqual(snap(3), snap(3))
        self.assertNotEqual(snap(3), snap(4))


class ResetTest(unittest.TestCase):
    def test_restart_starts_everything_over(self):
        sc = make()
        t = step(sc, T0, 30)
        waits = by(sc.wait_stats(), "wait_type")
        usage = sc.index_usage_stats()
        stats_before = by(sc.stats(), "database_id", "object_id", "stats_id")
        batch = by(sc.performance_counters(), "counter_name")["Batch Requests/sec".ljust(128)]["cntr_value"]
        self.assertTrue(usage)
        sc.restart(t)
        self.assertEqual(sc.sqlserver_start_time, t)
        self.assertTrue(all(r["wait_time_ms"] == 0 for r in sc.wait_stats()))
        self.assertEqual(sc.index_usage_stats(), [])
        self.assertTrue(all(r["num_of_reads"] == 0 for r in sc.virtual_file_stats()))
        t = step(sc, t)
        w2 = by(sc.wait_stats(), "wait_type")
        self.assertLess(w2["PAGEIOLATCH_SH"]["wait_time_ms"], waits["PAGEIOLATCH_SH"]["wait_time_ms"])
        self.assertGreater(w2["PAGEIOLATCH_SH"]["wait_time_ms"], 0)
        self.assertLess(by(sc.performance_counters(), "counter_name")["Batch Requests/sec".ljust(128)]["cntr_value"],
                        batch)
        self.assertTrue(sc.index_usage_stats())
        # statistics live on disk: a restart keeps them
        after = by(sc.stats(), "database_id", "object_id", "stats_id")
        for k, r in stats_before.items():
            self.assertGreaterEqual(after[k]["last_updated"], r["last_updated"])

    def test_nothing_grows_during_an_outage(self):
        sc = make()
        t = step(sc, T0, 10)
        sc.shutdown(t)
        waits = by(sc.wait_stats(), "wait_type")
        t_up = step(sc, t, 10)
        self.assertEqual(by(sc.wait_stats(), "wait_type"), waits)
        self.assertEqual(sc.truth(t, t_up), {})
        sc.restart(t_up)
        self.assertEqual(sc.sqlserver_start_time, t_up)
        step(sc, t_up)
        self.assertGreater(by(sc.wait_stats(), "wait_type")["WRITELOG"]["wait_time_ms"], 0)
        self.assertTrue(sc.truth(t_up, t_up + MIN))

    def test_dbcc_sqlperf_clear(self):
        sc = make()
        t = step(sc, T0, 10)
        latches = by(sc.latch_stats(), "latch_class")
        lock_avg = by(sc.performance_counters(), "counter_name")["Average Wait Time (ms)".ljust(128)]["cntr_value"]
        sc.dbcc_sqlperf_clear("sys.dm_os_wait_stats")
        self.assertTrue(all(r["waiting_tasks_count"] == 0 and r["wait_time_ms"] == 0 and r["max_wait_time_ms"] == 0
                            for r in sc.wait_stats()))
        self.assertEqual(by(sc.latch_stats(), "latch_class"), latches)     # the other views keep counting
        self.assertGreaterEqual(
            by(sc.performance_counters(), "counter_name")["Average Wait Time (ms)".ljust(128)]["cntr_value"], lock_avg)
        t = step(sc, t)
        self.assertGreater(by(sc.wait_stats(), "wait_type")["WRITELOG"]["wait_time_ms"], 0)
        sc.dbcc_sqlperf_clear("sys.dm_os_latch_stats")
        self.assertTrue(all(r["wait_time_ms"] == 0 for r in sc.latch_stats()))
        self.assertGreater(by(sc.wait_stats(), "wait_type")["WRITELOG"]["wait_time_ms"], 0)
        with self.assertRaises(ValueError):
            sc.dbcc_sqlperf_clear("sys.dm_exec_query_stats")

    def test_database_offline_and_back(self):
        sc = make()
        t = step(sc, T0, 20)
        usage = by(sc.index_usage_stats(), "database_id", "object_id", "index_id")
        io6 = by(sc.virtual_file_stats(), "database_id", "file_id")[(6, 1)]
        self.assertTrue(any(k[0] == 6 for k in usage))
        sc.set_database_state(6, "OFFLINE", t)
        t = step(sc, t, 5)
        self.assertFalse(any(r["database_id"] == 6 for r in sc.index_usage_stats()))
        self.assertFalse(any(r["database_id"] == 6 for r in sc.virtual_file_stats()))
        self.assertTrue(any(r["database_id"] == 5 for r in sc.index_usage_stats()))
        self.assertTrue(any(r["database_id"] == 6 and r["state_desc"] == "OFFLINE" for r in sc.master_files()))
        sc.set_database_state(6, "ONLINE", t)
        t = step(sc, t)
        back = by(sc.index_usage_stats(), "database_id", "object_id", "index_id")
        for k, r in back.items():
            if k[0] == 6 and k in usage:
                self.assertLessEqual(r["user_seeks"], usage[k]["user_seeks"])
        self.assertLess(by(sc.virtual_file_stats(), "database_id", "file_id")[(6, 1)]["num_of_reads"],
                        io6["num_of_reads"])

    def test_wait_truth_survives_resets(self):
        sc = make()
        t = T0
        total = {}
        prev = by(sc.wait_stats(), "wait_type")
        window = (T0 + 5 * MIN, T0 + 65 * MIN)
        for i in range(80):
            t = step(sc, t)
            if i == 30:
                sc.add_wait("LCK_M_U", 45000, t - dt.timedelta(seconds=10))
            cur = by(sc.wait_stats(), "wait_type")
            if window[0] < t <= window[1]:
                for k, r in cur.items():
                    p = prev.get(k, {"wait_time_ms": 0})
                    d = r["wait_time_ms"] - p["wait_time_ms"]
                    total[k] = total.get(k, 0) + (d if d >= 0 else r["wait_time_ms"])   # a decrease is a reset
            prev = cur
            # resets exactly at snapshot times: the pairwise sum stays exact
            if i == 20:
                sc.dbcc_sqlperf_clear("sys.dm_os_wait_stats")
                prev = by(sc.wait_stats(), "wait_type")
            if i == 40:
                sc.restart(t)
                prev = by(sc.wait_stats(), "wait_type")
        truth = sc.truth(*window)
        self.assertEqual({k: v["wait_time_ms"] for k, v in truth.items() if v["wait_time_ms"]},
                         {k: v for k, v in total.items() if v})
        self.assertGreaterEqual(truth["LCK_M_U"]["wait_time_ms"], 45000)
        self.assertEqual(sc.truth(T0 + 200 * MIN, T0 + 300 * MIN), {})


if __name__ == "__main__":
    unittest.main()
