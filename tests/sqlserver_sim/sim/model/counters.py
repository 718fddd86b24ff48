"""Server-level cumulative counters of the simulated server, with ground truth for wait statistics.

What it models (accessor -> the DMV / catalog view it answers; rows are dicts keyed by the view's columns):
  wait_stats()               sys.dm_os_wait_stats
  latch_stats()              sys.dm_os_latch_stats
  spinlock_stats()           sys.dm_os_spinlock_stats
  virtual_file_stats()       sys.dm_io_virtual_file_stats(NULL, NULL)   (ONLINE databases only)
  master_files()             sys.master_files
  performance_counters()     sys.dm_os_performance_counters  (nchar(128) columns padded with blanks, as sent)
  index_usage_stats()        sys.dm_db_index_usage_stats      (a row appears once an index is used)
  index_operational_stats()  sys.dm_db_index_operational_stats(NULL, NULL, NULL, NULL)
  indexes()                  sys.indexes (+ object / schema names) for user tables
  partition_stats()          sys.dm_db_partition_stats
  stats()                    sys.stats joined with sys.dm_db_stats_properties
  log_space_usage()          sys.dm_db_log_space_usage (one row per ONLINE database)
  file_space()               size / FILEPROPERTY(name, 'SpaceUsed') per file, in 8 KB pages
  memory_clerks()            sys.dm_os_memory_clerks
  schedulers()               sys.dm_os_schedulers
  tempdb_space_usage()       sys.dm_db_file_space_usage (tempdb)
Answering a collector query is a projection (and a WHERE) over these rows.

Cumulative values grow with per-item rates and restart from 0:
  - shutdown(now) then restart(up): nothing grows in between (an outage); restart(now) alone is a restart
    without outage.
  - restart(now): everything cumulative (sqlserver_start_time = now); index usage / operational rows vanish
    until used again; statistics and sizes persist (they are on disk).
  - dbcc_sqlperf_clear('sys.dm_os_wait_stats' | 'sys.dm_os_latch_stats' | 'sys.dm_os_spinlock_stats'):
    that view goes back to 0 (nothing else does, e.g. not the performance counters).
  - set_database_state(database_id, 'OFFLINE' | 'ONLINE', now): while offline, the database's file stats,
    index usage and operational stats are gone; back online they start from 0.

Work is lazy: advance() only moves the clock; the counters are materialised (grown over the elapsed time)
when read or reset, so thousands of indexes cost nothing between snapshots. Wait-stat growth is split
over truth buckets (cfg truth_bucket_s); truth(t0, t1) sums the buckets starting in [t0, t1): the true
waits in the window regardless of resets (exact for bucket-aligned windows). add_wait() feeds waits that
the workload model produces (e.g. LCK_M_U from a blocked request) into both.

cfg keys (all optional):
  truth_bucket_s        wait truth resolution (60)
  cpus                  visible schedulers (8)
  memory_gb             max server memory (32)
  wait_scale            multiplies every background wait rate (1.0)
  waits                 {wait_type: [tasks_per_s, mean_ms, signal_fraction]} added / overriding the defaults
  latch_scale, spinlock_scale, io_scale   multipliers (1.0)
  tables_per_db         user tables per user database (20); about 30 % of them (COLD_TABLE_PERCENT, chosen
                        by a hash of the table) are archive / lookup tables used every few hours at most
  indexes_per_table     maximum indexes per table, clustered included (3)
  index_ops_per_s       index operations per second per user database (200)
  log_backup_interval_s log truncation cadence, the sawtooth of log use (900)
  instance_name         'MSSQLSERVER' (counter objects 'SQLServer:...') or a named instance ('MSSQL$NAME:...')
  data_dir              directory of physical_name ('/var/opt/mssql/data/')
  tempdb_files          tempdb data files (4)
"""
from __future__ import annotations

import hashlib
import math
import random
from typing import Any, Optional

from .queries import poisson, sql_datetime, to_datetime, to_seconds

PAGE = 8192

CONFIG_KEYS = frozenset({"truth_bucket_s", "cpus", "memory_gb", "wait_scale", "waits", "latch_scale",
                         "spinlock_scale", "io_scale", "tables_per_db", "indexes_per_table", "index_ops_per_s",
                         "log_backup_interval_s", "instance_name", "data_dir", "tempdb_files"})

# wait_type: (tasks per second, mean wait ms, signal fraction)
DEFAULT_WAITS: dict[str, tuple[float, float, float]] = {
    "PAGEIOLATCH_SH": (40.0, 4.0, 0.02), "PAGEIOLATCH_EX": (6.0, 5.0, 0.02), "PAGEIOLATCH_UP": (0.5, 3.0, 0.02),
    "PAGELATCH_EX": (15.0, 0.3, 0.3), "PAGELATCH_SH": (10.0, 0.2, 0.3), "PAGELATCH_UP": (2.0, 0.4, 0.3),
    "LCK_M_S": (0.3, 120.0, 0.01), "LCK_M_U": (0.2, 300.0, 0.01), "LCK_M_X": (0.2, 250.0, 0.01),
    "LCK_M_IX": (0.1, 150.0, 0.01), "LCK_M_IS": (0.05, 80.0, 0.01), "LCK_M_SCH_M": (0.002, 2000.0, 0.0),
    "LCK_M_SCH_S": (0.01, 500.0, 0.0), "CXPACKET": (25.0, 12.0, 0.05), "CXCONSUMER": (30.0, 10.0, 0.02),
    "WRITELOG": (50.0, 1.5, 0.05), "LOGBUFFER": (0.2, 5.0, 0.1), "RESOURCE_SEMAPHORE": (0.02, 800.0, 0.0),
    "SOS_SCHEDULER_YIELD": (300.0, 0.05, 1.0), "ASYNC_NETWORK_IO": (20.0, 3.0, 0.05),
    "THREADPOOL": (0.001, 50.0, 0.0), "MEMORY_ALLOCATION_EXT": (400.0, 0.001, 0.0),
    "PREEMPTIVE_OS_WRITEFILEGATHER": (0.01, 40.0, 0.0), "PREEMPTIVE_OS_AUTHENTICATIONOPS": (1.0, 0.5, 0.0),
    "IO_COMPLETION": (3.0, 2.0, 0.02), "ASYNC_IO_COMPLETION": (0.02, 500.0, 0.0), "BACKUPIO": (0.01, 30.0, 0.0),
    "LATCH_EX": (2.0, 2.0, 0.1), "LATCH_SH": (1.0, 1.0, 0.1), "SLEEP_TASK": (20.0, 10.0, 0.05),
    "HADR_SYNC_COMMIT": (0.0, 2.0, 0.05), "SOS_WORK_DISPATCHER": (5.0, 600.0, 0.0),
    # benign waits that every server accumulates and tools filter out
    "LAZYWRITER_SLEEP": (1.0, 1000.0, 0.0), "SQLTRACE_INCREMENTAL_FLUSH_SLEEP": (0.25, 4000.0, 0.0),
    "XE_TIMER_EVENT": (0.2, 5000.0, 0.0), "REQUEST_FOR_DEADLOCK_SEARCH": (0.2, 5000.0, 1.0),
    "LOGMGR_QUEUE": (50.0, 19.0, 0.0), "CHECKPOINT_QUEUE": (0.02, 50000.0, 0.0),
    "BROKER_TO_FLUSH": (2.0, 500.0, 0.0), "DIRTY_PAGE_POLL": (10.0, 100.0, 0.0),
    "HADR_FILESTREAM_IOMGR_IOCOMPLETION": (2.0, 500.0, 0.0), "SP_SERVER_DIAGNOSTICS_SLEEP": (1.0, 1000.0, 0.0),
    "XE_DISPATCHER_WAIT": (0.02, 50000.0, 0.0), "WAITFOR": (0.01, 5000.0, 0.0),
    # present with zero counts, as on most servers
    "DBMIRROR_EVENTS_QUEUE": (0.0, 0.0, 0.0), "FT_IFTS_SCHEDULER_IDLE_WAIT": (0.0, 0.0, 0.0),
}

# latch_class: (requests per second, mean wait ms)
DEFAULT_LATCHES: dict[str, tuple[float, float]] = {
    "BUFFER": (60.0, 1.5), "ACCESS_METHODS_DATASET_PARENT": (3.0, 4.0), "ACCESS_METHODS_HOBT_VIRTUAL_ROOT": (1.5, 2.0),
    "ACCESS_METHODS_HOBT_COUNT": (0.3, 0.5), "LOG_MANAGER": (0.1, 30.0), "FGCB_ADD_REMOVE": (0.01, 20.0),
    "NESTING_TRANSACTION_FULL": (0.5, 0.4), "NESTING_TRANSACTION_READONLY": (0.2, 0.2),
    "DBCC_MULTIOBJECT_SCANNER": (0.0, 0.0), "TRACE_CONTROLLER": (0.0, 0.0), "SERVICE_BROKER_MAP_MANAGER": (0.0, 0.0),
    "VERSIONING_TRANSACTION_LIST": (0.05, 0.5), "ALLOC_FREESPACE_CACHE": (0.05, 1.0),
}

# spinlock name: (collisions per second, spins per collision, backoff share)
DEFAULT_SPINLOCKS: dict[str, tuple[float, float, float]] = {
    "LOCK_HASH": (400.0, 30.0, 0.01), "SOS_CACHESTORE": (80.0, 60.0, 0.02), "SOS_SUSPEND_QUEUE": (150.0, 25.0, 0.01),
    "XDESMGR": (60.0, 40.0, 0.01), "LOGCACHE_ACCESS": (120.0, 200.0, 0.05), "X_PACKET_LIST": (50.0, 15.0, 0.005),
    "SOS_OBJECT_STORE": (40.0, 35.0, 0.01), "MUTEX": (30.0, 20.0, 0.005), "SPL_XE_BUFFER_LIST": (5.0, 10.0, 0.0),
    "SOS_TASK": (70.0, 20.0, 0.01), "BLOCKER_ENUM": (1.0, 80.0, 0.0),
}

MEMORY_CLERKS = [  # (type, name, share of memory)
    ("MEMORYCLERK_SQLBUFFERPOOL", "Default", 0.78), ("CACHESTORE_SQLCP", "SQL Plans", 0.06),
    ("CACHESTORE_OBJCP", "Object Plans", 0.03), ("CACHESTORE_PHDR", "Bound Trees", 0.005),
    ("MEMORYCLERK_SQLQUERYEXEC", "Default", 0.01), ("OBJECTSTORE_LOCK_MANAGER", "Lock Manager : Node 0", 0.01),
    ("MEMORYCLERK_SQLGENERAL", "Default", 0.005), ("USERSTORE_TOKENPERM", "TokenAndPermUserStore", 0.004),
    ("MEMORYCLERK_SOSNODE", "SOS_Node", 0.004), ("MEMORYCLERK_XE", "XE Engine", 0.001),
    ("MEMORYCLERK_SQLSTORENG", "Default", 0.003), ("USERSTORE_SCHEMAMGR", "SchemaMgr Store", 0.003),
]

_TABLE_NAMES = ["Orders", "Customers", "OrderLines", "Products", "Inventory", "Invoices", "Payments", "Shipments",
                "AuditLog", "Sessions", "顧客", "注文明細", "売上", "商品マスタ", "Events", "Queue", "Prices",
                "Suppliers", "Returns", "Ledger"]

# share of user tables hardly ever used (their indexes have no usage row for hours after a restart)
COLD_TABLE_PERCENT = 30

# dm_os_performance_counters cntr_type values
PERF_RAW = 65792                 # PERF_COUNTER_LARGE_RAWCOUNT: point in time
PERF_BULK = 272696576            # PERF_COUNTER_BULK_COUNT: cumulative, per second by delta
PERF_FRACTION = 537003264        # PERF_LARGE_RAW_FRACTION: value / base
PERF_AVERAGE = 1073874176        # PERF_AVERAGE_BULK: delta value / delta base
PERF_BASE = 1073939712           # PERF_LARGE_RAW_BASE


def _hash32(a: int, b: int) -> int:
    """A fixed mixing of two integers (point-in-time values that must not draw from a random stream)."""
    x = (a * 0x9E3779B1 + b * 0x85EBCA77 + 0x165667B1) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    x ^= x >> 12
    return x


def _nchar(s: str, n: int = 128) -> str:
    return s.ljust(n)


class _Index:
    __slots__ = ("database_id", "object_id", "index_id", "name", "table", "schema", "type_desc", "is_unique",
                 "rates", "usage", "last", "ops", "rows", "pages", "stats_rows", "stats_sampled",
                 "stats_updated", "modifications", "hobt_id", "used")

    def __init__(self):
        self.usage = [0] * 8       # user_seeks, user_scans, user_lookups, user_updates, system_seeks..updates
        self.last: list[Optional[float]] = [None] * 8
        self.ops: dict[str, int] = {}
        self.used = False


_USAGE = ("user_seeks", "user_scans", "user_lookups", "user_updates",
          "system_seeks", "system_scans", "system_lookups", "system_updates")
_OPS = ("leaf_insert_count", "leaf_delete_count", "leaf_update_count", "leaf_ghost_count", "nonleaf_insert_count",
        "nonleaf_delete_count", "nonleaf_update_count", "leaf_allocation_count", "nonleaf_allocation_count",
        "leaf_page_merge_count", "nonleaf_page_merge_count", "range_scan_count", "singleton_lookup_count",
        "forwarded_fetch_count", "lob_fetch_in_pages", "lob_fetch_in_bytes", "lob_orphan_create_count",
        "lob_orphan_insert_count", "row_overflow_fetch_in_pages", "row_overflow_fetch_in_bytes",
        "column_value_push_off_row_count", "column_value_pull_in_row_count", "row_lock_count",
        "row_lock_wait_count", "row_lock_wait_in_ms", "page_lock_count", "page_lock_wait_count",
        "page_lock_wait_in_ms", "index_lock_promotion_attempt_count", "index_lock_promotion_count",
        "page_latch_wait_count", "page_latch_wait_in_ms", "page_io_latch_wait_count", "page_io_latch_wait_in_ms",
        "tree_page_latch_wait_count", "tree_page_latch_wait_in_ms", "tree_page_io_latch_wait_count",
        "tree_page_io_latch_wait_in_ms", "page_compression_attempt_count", "page_compression_success_count")


class ServerCounters:
    def __init__(self, rng: random.Random, cfg: Optional[dict] = None, databases: Optional[list[dict]] = None):
        cfg = dict(cfg or {})
        self.rng = rng
        self.cfg = cfg
        self.bucket = float(cfg.get("truth_bucket_s", 60.0))
        self.cpus = int(cfg.get("cpus", 8))
        self.memory_kb = int(float(cfg.get("memory_gb", 32)) * 1024 * 1024)
        inst = str(cfg.get("instance_name", "MSSQLSERVER"))
        self.prefix = "SQLServer:" if inst.upper() == "MSSQLSERVER" else f"MSSQL${inst}:"
        self.data_dir = str(cfg.get("data_dir", "/var/opt/mssql/data/"))
        self.log_backup_interval = float(cfg.get("log_backup_interval_s", 900.0))
        self.now: Optional[float] = None
        self.start_time: Optional[float] = None
        self._mat: Optional[float] = None        # materialised up to
        self.down = False

        ws = float(cfg.get("wait_scale", 1.0))
        waits = {k: tuple(v) for k, v in DEFAULT_WAITS.items()}
        for k, v in dict(cfg.get("waits", {})).items():
            waits[k] = tuple(float(x) for x in v)
        self.wait_def = {k: (v[0] * ws, v[1], v[2]) for k, v in waits.items()}
        self.waits = {k: [0, 0, 0, 0] for k in self.wait_def}      # tasks, wait_ms, max_ms, signal_ms
        ls = float(cfg.get("latch_scale", 1.0))
        self.latch_def = {k: (v[0] * ls, v[1]) for k, v in DEFAULT_LATCHES.items()}
        self.latches = {k: [0, 0, 0] for k in self.latch_def}      # requests, wait_ms, max_ms
        ss = float(cfg.get("spinlock_scale", 1.0))
        self.spin_def = {k: (v[0] * ss, v[1], v[2]) for k, v in DEFAULT_SPINLOCKS.items()}
        self.spins = {k: [0, 0, 0, 0] for k in self.spin_def}      # collisions, spins, sleep_time, backoffs
        self.io_scale = float(cfg.get("io_scale", 1.0))
        self._wait_truth: dict[int, dict[str, list[int]]] = {}

        # databases: system ones are always there
        dbs = {int(d["database_id"]): dict(d) for d in (databases or [])}
        for i, name in ((1, "master"), (2, "tempdb"), (3, "model"), (4, "msdb")):
            dbs.setdefault(i, {"database_id": i, "name": name, "state": "ONLINE"})
        self.databases = dict(sorted(dbs.items()))
        for d in self.databases.values():
            d.setdefault("state", "ONLINE")
        self._build_files(int(cfg.get("tempdb_files", 4)))
        self.log_used = {f["database_id"]: f["used"] for f in self.files if f["type"] == 1}
        self._build_indexes(int(cfg.get("tables_per_db", 20)), int(cfg.get("indexes_per_table", 3)),
                            float(cfg.get("index_ops_per_s", 200.0)))
        self._build_perf()
        self.gauges = {"user_connections": 40, "ple": 3600.0, "grants_pending": 0, "processes_blocked": 0,
                       "buffer_hit": 0.995, "tempdb_user": 2000, "tempdb_internal": 500, "tempdb_version": 100}
        self.sched = [[0, 0, 0, 0] for _ in range(self.cpus)]    # yields, context switches, idle switches, preemptive
        self.clerk_noise = [1.0] * len(MEMORY_CLERKS)

    # ------------------------------------------------------------------------------------------------
    # construction

    def _build_files(self, tempdb_files: int) -> None:
        self.files: list[dict] = []
        rng = self.rng
        for dbid, d in self.databases.items():
            name = d["name"]
            datafiles = [1] + (list(range(3, 2 + tempdb_files)) if dbid == 2 else [])
            big = dbid > 4
            for k, fid in enumerate(datafiles):
                lname = name if dbid != 2 else ("tempdev" if fid == 1 else f"temp{fid - 1}")
                if dbid == 1:
                    lname = "master"
                pname = f"{self.data_dir}{lname}{'.mdf' if fid == 1 else '.ndf'}"
                size = rng.randint(131072, 2621440) if big else (1024 if dbid != 2 else 8192 * 4)
                self.files.append({"database_id": dbid, "file_id": fid, "type": 0, "type_desc": "ROWS",
                                   "data_space_id": 1, "name": lname, "physical_name": pname, "size": size,
                                   "growth": 8192, "is_percent_growth": 0, "max_size": -1,
                                   "read_rate": (rng.uniform(20, 200) if big else rng.uniform(0.1, 2)),
                                   "write_rate": (rng.uniform(5, 60) if big else rng.uniform(0.05, 1)),
                                   "read_ms": rng.uniform(1.0, 8.0), "write_ms": rng.uniform(0.5, 4.0),
                                   "io": [0] * 6, "used": int(size * rng.uniform(0.5, 0.9))})
            lname = {1: "mastlog", 2: "templog", 3: "modellog", 4: "MSDBLog"}.get(dbid, f"{name}_log")
            size = rng.randint(65536, 1048576) if big else 1024
            self.files.append({"database_id": dbid, "file_id": 2, "type": 1, "type_desc": "LOG", "data_space_id": 0,
                               "name": lname, "physical_name": f"{self.data_dir}{lname}.ldf", "size": size,
                               "growth": 8192, "is_percent_growth": 0, "max_size": 268435456,
                               "read_rate": 0.05, "write_rate": (rng.uniform(30, 150) if big else 0.5),
                               "read_ms": 2.0, "write_ms": rng.uniform(0.3, 2.0), "io": [0] * 6,
                               "used": int(size * 0.1)})

    def _build_indexes(self, tables: int, per_table: int, ops: float) -> None:
        rng = self.rng
        self.indexes: list[_Index] = []
        for dbid, d in self.databases.items():
            if dbid <= 4:
                continue
            names = list(_TABLE_NAMES)
            rng.shuffle(names)
            weights = [1.0 / (i + 1) for i in range(tables)]
            wsum = sum(weights)
            for ti in range(tables):
                tname = names[ti % len(names)] + ("" if ti < len(names) else f"_{ti}")
                schema = "販売" if tname in ("売上",) else "dbo"
                object_id = int.from_bytes(hashlib.sha1(f"{dbid}:{tname}".encode()).digest()[:4], "little") % 2_000_000_000 + 1000
                rows = int(math.exp(rng.uniform(math.log(100), math.log(5e7))))
                heap = rng.random() < 0.1
                n_idx = rng.randint(1, per_table)
                table_rate = ops * weights[ti] / wsum
                if _hash32(dbid, object_id) % 100 < COLD_TABLE_PERCENT:
                    table_rate *= 1e-5     # an archive or lookup table: touched every few hours, if at all
                for k in range(n_idx):
                    ix = _Index()
                    ix.database_id, ix.object_id, ix.table, ix.schema = dbid, object_id, tname, schema
                    ix.index_id = (0 if heap else 1) if k == 0 else k + 1
                    if ix.index_id == 0:
                        ix.name, ix.type_desc, ix.is_unique = None, "HEAP", 0
                    elif ix.index_id == 1:
                        ix.name, ix.type_desc, ix.is_unique = f"PK_{tname}", "CLUSTERED", 1
                    else:
                        ix.name, ix.type_desc, ix.is_unique = f"IX_{tname}_{k}", "NONCLUSTERED", 0
                    share = rng.uniform(0.2, 1.0)
                    # per second: seeks, scans, lookups, updates
                    ix.rates = (table_rate * share * 0.7, table_rate * share * rng.uniform(0.001, 0.05),
                                table_rate * share * (0.2 if ix.index_id <= 1 else 0.0),
                                table_rate * rng.uniform(0.02, 0.3))
                    ix.rows = rows
                    row_bytes = 120 if ix.index_id <= 1 else 30
                    ix.pages = max(1, rows * row_bytes // 8000)
                    ix.hobt_id = 72057594037927936 + (object_id % 100000) * 65536 + ix.index_id
                    ix.stats_rows = rows
                    ix.stats_sampled = rows if rows < 1_000_000 else int(rows * rng.uniform(0.01, 0.1))
                    ix.stats_updated = None   # set at start: some time before
                    ix.modifications = rng.randint(0, max(1, rows // 50))
                    self.indexes.append(ix)
        # auto-created column statistics, one or two per table
        self.auto_stats: list[dict] = []
        seen = set()
        for ix in self.indexes:
            if (ix.database_id, ix.object_id) in seen:
                continue
            seen.add((ix.database_id, ix.object_id))
            for col in range(rng.randint(0, 2)):
                self.auto_stats.append({"ix": ix, "stats_id": 100 + col,
                                        "name": f"_WA_Sys_{col + 3:08X}_{ix.object_id:08X}"})

    def _build_perf(self) -> None:
        p = self.prefix
        # (object, counter, instance, type, kind); kind names the source of the value
        spec = [
            ("General Statistics", "User Connections", "", PERF_RAW, "user_connections"),
            ("General Statistics", "Processes blocked", "", PERF_RAW, "processes_blocked"),
            ("General Statistics", "Logins/sec", "", PERF_BULK, 3.0),
            ("General Statistics", "Logouts/sec", "", PERF_BULK, 3.0),
            ("SQL Statistics", "Batch Requests/sec", "", PERF_BULK, 800.0),
            ("SQL Statistics", "SQL Compilations/sec", "", PERF_BULK, 40.0),
            ("SQL Statistics", "SQL Re-Compilations/sec", "", PERF_BULK, 2.0),
            ("Buffer Manager", "Page life expectancy", "", PERF_RAW, "ple"),
            ("Buffer Manager", "Page reads/sec", "", PERF_BULK, 300.0),
            ("Buffer Manager", "Page writes/sec", "", PERF_BULK, 90.0),
            ("Buffer Manager", "Lazy writes/sec", "", PERF_BULK, 2.0),
            ("Buffer Manager", "Checkpoint pages/sec", "", PERF_BULK, 50.0),
            ("Buffer Manager", "Buffer cache hit ratio", "", PERF_FRACTION, "hit"),
            ("Buffer Manager", "Buffer cache hit ratio base", "", PERF_BASE, "hit_base"),
            ("Memory Manager", "Memory Grants Pending", "", PERF_RAW, "grants_pending"),
            ("Memory Manager", "Memory Grants Outstanding", "", PERF_RAW, "grants_outstanding"),
            ("Memory Manager", "Target Server Memory (KB)", "", PERF_RAW, "target_mem"),
            ("Memory Manager", "Total Server Memory (KB)", "", PERF_RAW, "total_mem"),
            ("Access Methods", "Page Splits/sec", "", PERF_BULK, "page_splits"),
            ("Access Methods", "Full Scans/sec", "", PERF_BULK, 5.0),
            ("Access Methods", "Index Searches/sec", "", PERF_BULK, 5000.0),
            ("Locks", "Lock Waits/sec", "_Total", PERF_BULK, "lock_waits"),
            ("Locks", "Lock Timeouts/sec", "_Total", PERF_BULK, 0.01),
            ("Locks", "Number of Deadlocks/sec", "_Total", PERF_BULK, "deadlocks"),
            ("Locks", "Average Wait Time (ms)", "_Total", PERF_AVERAGE, "lock_wait_ms"),
            ("Locks", "Average Wait Time Base", "_Total", PERF_BASE, "lock_waits"),
            ("Latches", "Average Latch Wait Time (ms)", "", PERF_AVERAGE, "latch_wait_ms"),
            ("Latches", "Average Latch Wait Time Base", "", PERF_BASE, "latch_waits"),
            ("Latches", "Latch Waits/sec", "", PERF_BULK, "latch_waits"),
            ("Plan Cache", "Cache Hit Ratio", "_Total", PERF_FRACTION, "plan_hit"),
            ("Plan Cache", "Cache Hit Ratio Base", "_Total", PERF_BASE, "plan_hit_base"),
            ("Plan Cache", "Cache Hit Ratio", "SQL Plans", PERF_FRACTION, "plan_hit"),
            ("Plan Cache", "Cache Hit Ratio Base", "SQL Plans", PERF_BASE, "plan_hit_base"),
            ("Errors", "Errors/sec", "User Errors", PERF_BULK, 0.2),
            ("Errors", "Errors/sec", "_Total", PERF_BULK, 0.25),
        ]
        for dbid, d in self.databases.items():
            spec.append(("Databases", "Transactions/sec", d["name"], PERF_BULK, 100.0 if dbid > 4 else 0.5))
            spec.append(("Databases", "Log Flushes/sec", d["name"], PERF_BULK, 60.0 if dbid > 4 else 0.2))
            spec.append(("Databases", "Log Bytes Flushed/sec", d["name"], PERF_BULK, 400000.0 if dbid > 4 else 100.0))
            spec.append(("Databases", "Data File(s) Size (KB)", d["name"], PERF_RAW, ("data_kb", dbid)))
            spec.append(("Databases", "Log File(s) Size (KB)", d["name"], PERF_RAW, ("log_kb", dbid)))
            spec.append(("Databases", "Log File(s) Used Size (KB)", d["name"], PERF_RAW, ("log_used_kb", dbid)))
            spec.append(("Databases", "Percent Log Used", d["name"], PERF_RAW, ("log_pct", dbid)))
        self.perf_spec = [(p + o, c, i, t, k) for o, c, i, t, k in spec]
        self.perf_cum: dict[tuple, int] = {}

    # ------------------------------------------------------------------------------------------------
    # time

    def _start(self, t: float) -> None:
        self.start_time = t
        self.now = t
        self._mat = t
        rng = self.rng
        for ix in self.indexes:
            ix.stats_updated = t - rng.uniform(3600, 30 * 86400)

    def advance(self, t0: Any, t1: Any) -> None:
        a, b = to_seconds(t0), to_seconds(t1)
        if self.now is None:
            self._start(a)
        self.now = max(self.now, b)
        if self.down:
            self._mat = self.now      # nothing grows while the instance is down

    def shutdown(self, now: Any) -> None:
        """The instance stopped at now: counters grow up to now and not again until restart()."""
        t = to_seconds(now)
        if self.now is None:
            self._start(t)
        if t > self.now:
            self.now = t
        if self._mat is not None and t > self._mat:
            keep = self.now
            self.now = t
            self._materialize()
            self.now = keep
        self._mat = max(self._mat or t, self.now)
        self.down = True

    def _inc(self, mean: float) -> int:
        return poisson(self.rng, mean) if mean < 1e7 else int(mean)

    def _materialize(self) -> None:
        """Grow everything from the last materialisation to now."""
        if self.now is None or self._mat is None or self.now <= self._mat:
            return
        a, b = self._mat, self.now
        self._mat = b
        B = self.bucket
        # waits, split over truth buckets
        for k in range(int(a // B), int(b // B) + 1):
            x, y = max(a, k * B), min(b, (k + 1) * B)
            if y > x:
                self._grow_waits(k, y - x)
        dt = b - a
        self._grow_latches(dt)
        self._grow_spins(dt)
        self._grow_files(a, b)
        self._grow_indexes(a, b)
        self._grow_perf(dt)
        self._grow_gauges(dt, b)

    def _grow_waits(self, bucket: int, dt: float) -> None:
        rng = self.rng
        tb = self._wait_truth.setdefault(bucket, {})
        for name, (rate, mean_ms, sig) in self.wait_def.items():
            n = self._inc(rate * dt)
            if not n:
                continue
            ms = max(0, int(round(mean_ms * n * max(0.1, rng.gauss(1.0, 0.5 / math.sqrt(n))))))
            self._add_wait(name, n, ms, int(ms * sig), int(mean_ms * rng.uniform(1.0, 8.0)), tb)

    def _add_wait(self, name: str, n: int, ms: int, signal_ms: int, max_ms: int, tb: dict) -> None:
        w = self.waits.setdefault(name, [0, 0, 0, 0])
        w[0] += n
        w[1] += ms
        w[3] += signal_ms
        cand = min(max_ms, ms)
        if cand > w[2]:
            w[2] = cand
        v = tb.get(name)
        if v is None:
            tb[name] = [n, ms, signal_ms]
        else:
            v[0] += n
            v[1] += ms
            v[2] += signal_ms
        if name.startswith("LCK_M_"):
            self._perf_add("lock_waits", n)
            self._perf_add("lock_wait_ms", ms)

    def add_wait(self, wait_type: str, wait_ms: int, now: Any, signal_ms: int = 0, tasks: int = 1) -> None:
        """A wait the workload model produced (e.g. a blocked request's LCK_M_U) ends at now."""
        t = to_seconds(now)
        if self.now is None:
            self._start(t)
        self._materialize()
        self.wait_def.setdefault(wait_type, (0.0, 0.0, 0.0))
        tb = self._wait_truth.setdefault(int(t // self.bucket), {})
        self._add_wait(wait_type, tasks, int(wait_ms), int(signal_ms), int(wait_ms), tb)

    def add_deadlock(self, now: Any) -> None:
        """A deadlock happened: Number of Deadlocks/sec grows."""
        self._materialize()
        self._perf_add("deadlocks", 1)

    def _grow_latches(self, dt: float) -> None:
        rng = self.rng
        for name, (rate, mean_ms) in self.latch_def.items():
            n = self._inc(rate * dt)
            if n:
                l = self.latches[name]
                ms = int(round(mean_ms * n * rng.uniform(0.7, 1.3)))
                l[0] += n
                l[1] += ms
                l[2] = max(l[2], min(ms, int(mean_ms * rng.uniform(1, 20))))
                self._perf_add("latch_waits", n)
                self._perf_add("latch_wait_ms", ms)

    def _grow_spins(self, dt: float) -> None:
        rng = self.rng
        for name, (rate, spc, backoff) in self.spin_def.items():
            n = self._inc(rate * dt)
            if n:
                s = self.spins[name]
                s[0] += n
                s[1] += int(n * spc * rng.uniform(0.8, 1.2))
                s[3] += self._inc(n * backoff)
                s[2] += self._inc(n * backoff * 0.1)

    def _grow_files(self, a: float, b: float) -> None:
        rng = self.rng
        dt = b - a
        for f in self.files:
            if self.databases[f["database_id"]]["state"] != "ONLINE":
                continue
            io = f["io"]   # reads, bytes read, read stall, writes, bytes written, write stall
            r = self._inc(f["read_rate"] * dt * self.io_scale)
            w = self._inc(f["write_rate"] * dt * self.io_scale)
            if r:
                io[0] += r
                io[1] += r * PAGE * rng.choice((1, 1, 1, 8))
                io[2] += int(r * f["read_ms"] * rng.uniform(0.6, 1.6))
            if w:
                io[3] += w
                io[4] += w * (PAGE if f["type"] == 0 else rng.choice((512, 4096, 61440)))
                io[5] += int(w * f["write_ms"] * rng.uniform(0.6, 1.6))
            if f["type"] == 1:
                dbid = f["database_id"]
                used = self.log_used.get(dbid, 0) + w * 4096 // PAGE
                # log backups truncate the log every interval
                if int(a // self.log_backup_interval) != int(b // self.log_backup_interval):
                    used = int(f["size"] * rng.uniform(0.01, 0.05))
                if used > f["size"] * 0.9:
                    f["size"] += f["growth"]
                self.log_used[dbid] = min(used, f["size"])

    def _grow_indexes(self, a: float, b: float) -> None:
        rng = self.rng
        dt = b - a
        states = {k: d["state"] for k, d in self.databases.items()}
        grown_db: dict[int, int] = {}
        for ix in self.indexes:
            if states[ix.database_id] != "ONLINE":
                continue
            seeks, scans, lookups, updates = (self._inc(r * dt) for r in ix.rates)
            if not (seeks or scans or lookups or updates):
                continue
            u = ix.usage
            for i, n in enumerate((seeks, scans, lookups, updates)):
                if n:
                    u[i] += n
                    ix.last[i] = b - rng.uniform(0, min(dt, 1.0 / max(ix.rates[i], 1e-9)))
            if not ix.used:
                ix.used = True
            if scans and rng.random() < 0.02:
                u[5] += 1
                ix.last[5] = b
            ops = ix.ops
            inserts = int(updates * 0.5)
            deletes = int(updates * 0.1)
            upd = updates - inserts - deletes
            splits = self._inc(inserts / 40.0)
            for name, v in (("leaf_insert_count", inserts), ("leaf_delete_count", deletes),
                            ("leaf_update_count", upd), ("leaf_ghost_count", deletes),
                            ("leaf_allocation_count", splits), ("nonleaf_insert_count", splits),
                            ("nonleaf_allocation_count", self._inc(splits / 200.0)),
                            ("range_scan_count", scans + self._inc(seeks * 0.1)),
                            ("singleton_lookup_count", seeks + lookups),
                            ("row_lock_count", seeks + updates + lookups),
                            ("row_lock_wait_count", self._inc(updates * 0.002)),
                            ("page_lock_count", scans * 4),
                            ("page_latch_wait_count", self._inc((inserts + upd) * 0.01)),
                            ("page_io_latch_wait_count", self._inc((seeks + scans) * 0.005)),
                            ("tree_page_latch_wait_count", self._inc(splits * 0.1))):
                if v:
                    ops[name] = ops.get(name, 0) + v
            for cnt, ms, mean in (("row_lock_wait_count", "row_lock_wait_in_ms", 150.0),
                                  ("page_latch_wait_count", "page_latch_wait_in_ms", 0.5),
                                  ("page_io_latch_wait_count", "page_io_latch_wait_in_ms", 5.0),
                                  ("tree_page_latch_wait_count", "tree_page_latch_wait_in_ms", 1.0)):
                c = ops.get(cnt, 0)
                want = int(c * mean)
                if want > ops.get(ms, 0):
                    ops[ms] = want
            if ix.index_id <= 1:
                ix.rows += inserts - deletes
                if ix.rows < 0:
                    ix.rows = 0
            ix.pages += splits
            grown_db[ix.database_id] = grown_db.get(ix.database_id, 0) + splits
            self._perf_add("page_splits", splits)
            # statistics: modifications, auto update past the dynamic threshold (SQL Server 2016+)
            ix.modifications += inserts + deletes + upd
            threshold = min(500 + 0.2 * ix.stats_rows, math.sqrt(1000.0 * max(ix.stats_rows, 1)))
            if ix.modifications > threshold:
                ix.stats_updated = b - rng.uniform(0, dt)
                ix.stats_rows = ix.rows
                ix.stats_sampled = ix.rows if ix.rows < 1_000_000 else int(ix.rows * rng.uniform(0.01, 0.1))
                ix.modifications = 0
        for f in self.files:
            if f["type"] == 0 and f["file_id"] == 1 and f["database_id"] in grown_db:
                f["used"] += grown_db[f["database_id"]]
                while f["used"] > f["size"] * 0.95:
                    f["size"] += f["growth"]

    def _perf_add(self, key: Any, n: int) -> None:
        self.perf_cum[key] = self.perf_cum.get(key, 0) + n

    def _grow_perf(self, dt: float) -> None:
        for obj, cnt, inst, typ, kind in self.perf_spec:
            if typ == PERF_BULK and isinstance(kind, float):
                self._perf_add((obj, cnt, inst), self._inc(kind * dt))
        self._perf_add("plan_hit_base", self._inc(50.0 * dt))

    def _grow_gauges(self, dt: float, t: float) -> None:
        rng = self.rng
        g = self.gauges
        g["user_connections"] = max(5, g["user_connections"] + rng.randint(-2, 2))
        g["ple"] = max(10.0, g["ple"] + dt * rng.uniform(0.5, 1.0) - (rng.random() < 0.02) * g["ple"] * 0.5)
        g["buffer_hit"] = min(1.0, max(0.8, g["buffer_hit"] + rng.gauss(0, 0.002)))
        g["tempdb_user"] = max(0, g["tempdb_user"] + rng.randint(-200, 220))
        g["tempdb_internal"] = max(0, g["tempdb_internal"] + rng.randint(-100, 100))
        g["tempdb_version"] = max(0, g["tempdb_version"] + rng.randint(-20, 22))
        self.clerk_noise = [min(1.3, max(0.7, c + rng.gauss(0, 0.01))) for c in self.clerk_noise]
        for s in self.sched:
            s[0] += self._inc(200.0 * dt)
            s[1] += self._inc(800.0 * dt)
            s[2] += self._inc(300.0 * dt)
            s[3] += self._inc(5.0 * dt)

    def set_gauge(self, name: str, value: Any) -> None:
        """Point-in-time values the workload model knows better: user_connections, processes_blocked,
        grants_pending, ple, buffer_hit."""
        self.gauges[name] = value

    # ------------------------------------------------------------------------------------------------
    # resets

    def restart(self, now: Any) -> None:
        """SQL Server restarted at now: all cumulative values start from 0, sqlserver_start_time = now."""
        t = to_seconds(now)
        if self.now is None:
            self._start(t)
        elif not self.down:
            self.now = max(self.now, t)
            self._materialize()
        self.down = False
        self.start_time = t
        self.now = t
        self._mat = t
        for w in self.waits.values():
            w[:] = [0, 0, 0, 0]
        for l in self.latches.values():
            l[:] = [0, 0, 0]
        for s in self.spins.values():
            s[:] = [0, 0, 0, 0]
        for f in self.files:
            f["io"] = [0] * 6
        for ix in self.indexes:
            self._reset_index(ix)
        self.perf_cum.clear()
        self.sched = [[0, 0, 0, 0] for _ in range(self.cpus)]
        self.gauges["ple"] = 0.0

    @staticmethod
    def _reset_index(ix: _Index) -> None:
        ix.usage = [0] * 8
        ix.last = [None] * 8
        ix.ops = {}
        ix.used = False

    def dbcc_sqlperf_clear(self, which: str) -> None:
        """DBCC SQLPERF('sys.dm_os_wait_stats' | 'sys.dm_os_latch_stats' | 'sys.dm_os_spinlock_stats', CLEAR)."""
        self._materialize()
        w = which.strip().strip("'\"").lower()
        if w.endswith("dm_os_wait_stats"):
            for v in self.waits.values():
                v[:] = [0, 0, 0, 0]
        elif w.endswith("dm_os_latch_stats"):
            for v in self.latches.values():
                v[:] = [0, 0, 0]
        elif w.endswith("dm_os_spinlock_stats"):
            for v in self.spins.values():
                v[:] = [0, 0, 0, 0]
        else:
            raise ValueError(f"DBCC SQLPERF cannot clear {which!r}")

    def set_database_state(self, database_id: int, state: str, now: Any) -> None:
        """ONLINE / OFFLINE. Going offline drops the database's file, index usage and operational stats;
        they start from 0 when it comes back."""
        if self.now is None:
            self._start(to_seconds(now))
        self.now = max(self.now, to_seconds(now))
        self._materialize()
        d = self.databases[database_id]
        old = d["state"]
        d["state"] = state.upper()
        if old != d["state"]:
            for f in self.files:
                if f["database_id"] == database_id:
                    f["io"] = [0] * 6
            for ix in self.indexes:
                if ix.database_id == database_id:
                    self._reset_index(ix)

    # ------------------------------------------------------------------------------------------------
    # truth

    def truth(self, t0: Any, t1: Any) -> dict[str, dict[str, int]]:
        """True waits per wait_type in [t0, t1) (buckets starting in the window), regardless of resets:
        {wait_type: {"waiting_tasks_count", "wait_time_ms", "signal_wait_time_ms"}}."""
        self._materialize()
        a, b = to_seconds(t0), to_seconds(t1)
        B = self.bucket
        out: dict[str, dict[str, int]] = {}
        for k in range(math.ceil(a / B - 1e-9), math.ceil(b / B - 1e-9)):
            tb = self._wait_truth.get(k)
            if not tb:
                continue
            for name, v in tb.items():
                d = out.setdefault(name, {"waiting_tasks_count": 0, "wait_time_ms": 0, "signal_wait_time_ms": 0})
                d["waiting_tasks_count"] += v[0]
                d["wait_time_ms"] += v[1]
                d["signal_wait_time_ms"] += v[2]
        return out

    # ------------------------------------------------------------------------------------------------
    # snapshots

    @property
    def sqlserver_start_time(self):
        return None if self.start_time is None else sql_datetime(self.start_time)

    def wait_stats(self) -> list[dict]:
        self._materialize()
        return [{"wait_type": k, "waiting_tasks_count": v[0], "wait_time_ms": v[1], "max_wait_time_ms": v[2],
                 "signal_wait_time_ms": v[3]} for k, v in self.waits.items()]

    def latch_stats(self) -> list[dict]:
        self._materialize()
        return [{"latch_class": k, "waiting_requests_count": v[0], "wait_time_ms": v[1], "max_wait_time_ms": v[2]}
                for k, v in self.latches.items()]

    def spinlock_stats(self) -> list[dict]:
        self._materialize()
        return [{"name": k, "collisions": v[0], "spins": v[1],
                 "spins_per_collision": float(v[1]) / v[0] if v[0] else 0.0, "sleep_time": v[2], "backoffs": v[3]}
                for k, v in self.spins.items()]

    def master_files(self) -> list[dict]:
        out = []
        for f in self.files:
            d = self.databases[f["database_id"]]
            out.append({"database_id": f["database_id"], "file_id": f["file_id"], "type": f["type"],
                        "type_desc": f["type_desc"], "data_space_id": f["data_space_id"], "name": f["name"],
                        "physical_name": f["physical_name"], "state": 0 if d["state"] == "ONLINE" else 6,
                        "state_desc": d["state"], "size": f["size"], "max_size": f["max_size"],
                        "growth": f["growth"], "is_percent_growth": f["is_percent_growth"]})
        return out

    def virtual_file_stats(self) -> list[dict]:
        self._materialize()
        out = []
        since_start = int((self.now - self.start_time) * 1000) if self.now is not None else 0
        for f in self.files:
            if self.databases[f["database_id"]]["state"] != "ONLINE":
                continue
            io = f["io"]
            out.append({"database_id": f["database_id"], "file_id": f["file_id"], "sample_ms": since_start,
                        "num_of_reads": io[0], "num_of_bytes_read": io[1], "io_stall_read_ms": io[2],
                        "io_stall_queued_read_ms": 0, "num_of_writes": io[3], "num_of_bytes_written": io[4],
                        "io_stall_write_ms": io[5], "io_stall_queued_write_ms": 0, "io_stall": io[2] + io[5],
                        "size_on_disk_bytes": f["size"] * PAGE,
                        "file_handle": (f["database_id"] * 256 + f["file_id"]).to_bytes(8, "little")})
        return out

    def file_space(self) -> list[dict]:
        self._materialize()
        out = []
        for f in self.files:
            used = self.log_used.get(f["database_id"], 0) if f["type"] == 1 else f["used"]
            out.append({"database_id": f["database_id"], "file_id": f["file_id"], "name": f["name"],
                        "type_desc": f["type_desc"], "size": f["size"], "space_used": min(used, f["size"])})
        return out

    def log_space_usage(self) -> list[dict]:
        self._materialize()
        out = []
        for f in self.files:
            if f["type"] != 1 or self.databases[f["database_id"]]["state"] != "ONLINE":
                continue
            total = f["size"] * PAGE
            used = min(self.log_used.get(f["database_id"], 0), f["size"]) * PAGE
            out.append({"database_id": f["database_id"], "total_log_size_in_bytes": total,
                        "used_log_space_in_bytes": used, "used_log_space_in_percent": used * 100.0 / total,
                        "log_space_in_bytes_since_last_backup": used})
        return out

    def _perf_value(self, obj: str, cnt: str, inst: str, typ: int, kind: Any) -> int:
        g = self.gauges
        if typ == PERF_BULK and isinstance(kind, float):
            return self.perf_cum.get((obj, cnt, inst), 0)
        if isinstance(kind, tuple):
            what, dbid = kind
            fs = [f for f in self.files if f["database_id"] == dbid]
            data_kb = sum(f["size"] for f in fs if f["type"] == 0) * 8
            log = [f for f in fs if f["type"] == 1]
            log_kb = sum(f["size"] for f in log) * 8
            used_kb = min(self.log_used.get(dbid, 0), sum(f["size"] for f in log)) * 8
            return {"data_kb": data_kb, "log_kb": log_kb, "log_used_kb": used_kb,
                    "log_pct": int(used_kb * 100 / log_kb) if log_kb else 0}[what]
        if kind in ("user_connections", "processes_blocked", "grants_pending"):
            return int(g.get(kind, 0))
        if kind == "ple":
            return int(g["ple"])
        if kind == "grants_outstanding":
            return int(g.get("grants_outstanding", 2))
        if kind == "target_mem":
            return self.memory_kb
        if kind == "total_mem":
            return int(self.memory_kb * 0.98)
        if kind == "hit_base":
            return 1000
        if kind == "hit":
            return int(round(1000 * g["buffer_hit"]))
        if kind == "plan_hit_base":
            return self.perf_cum.get("plan_hit_base", 0)
        if kind == "plan_hit":
            return int(self.perf_cum.get("plan_hit_base", 0) * 0.93)
        return self.perf_cum.get(kind, 0)

    def performance_counters(self) -> list[dict]:
        self._materialize()
        out = []
        for obj, cnt, inst, typ, kind in self.perf_spec:
            if isinstance(kind, tuple) and self.databases[kind[1]]["state"] != "ONLINE":
                continue
            out.append({"object_name": _nchar(obj), "counter_name": _nchar(cnt), "instance_name": _nchar(inst),
                        "cntr_value": self._perf_value(obj, cnt, inst, typ, kind), "cntr_type": typ})
        return out

    def _indexes_of(self, database_id: Optional[int]) -> list[_Index]:
        """Every index (all databases), or those of one database (a cached list: answers run per database)."""
        if database_id is None:
            return self.indexes
        by_db = getattr(self, "_by_db", None)
        if by_db is None:
            by_db = self._by_db = {}
            for ix in self.indexes:
                by_db.setdefault(ix.database_id, []).append(ix)
        return by_db.get(database_id, [])

    def indexes_catalog(self, database_id: Optional[int] = None) -> list[dict]:
        """sys.indexes for user tables, with database_id, schema_name and object_name added."""
        return [{"database_id": ix.database_id, "object_id": ix.object_id, "index_id": ix.index_id, "name": ix.name,
                 "type_desc": ix.type_desc, "is_unique": ix.is_unique, "schema_name": ix.schema,
                 "object_name": ix.table} for ix in self._indexes_of(database_id)]

    def index_usage_stats(self, database_id: Optional[int] = None) -> list[dict]:
        self._materialize()
        out = []
        for ix in self._indexes_of(database_id):
            if not ix.used or self.databases[ix.database_id]["state"] != "ONLINE":
                continue
            r = {"database_id": ix.database_id, "object_id": ix.object_id, "index_id": ix.index_id}
            for i, name in enumerate(_USAGE):
                r[name] = ix.usage[i]
            for i, name in enumerate(("last_user_seek", "last_user_scan", "last_user_lookup", "last_user_update",
                                      "last_system_seek", "last_system_scan", "last_system_lookup",
                                      "last_system_update")):
                r[name] = None if ix.last[i] is None else sql_datetime(ix.last[i])
            out.append(r)
        return out

    def index_operational_stats(self, database_id: Optional[int] = None) -> list[dict]:
        self._materialize()
        out = []
        for ix in self._indexes_of(database_id):
            if self.databases[ix.database_id]["state"] != "ONLINE":
                continue
            r = {"database_id": ix.database_id, "object_id": ix.object_id, "index_id": ix.index_id,
                 "partition_number": 1, "hobt_id": ix.hobt_id}
            ops = ix.ops
            for name in _OPS:
                r[name] = ops.get(name, 0)
            out.append(r)
        return out

    def partition_stats(self, database_id: Optional[int] = None) -> list[dict]:
        self._materialize()
        out = []
        for ix in self._indexes_of(database_id):
            if self.databases[ix.database_id]["state"] != "ONLINE":
                continue
            out.append({"database_id": ix.database_id, "partition_id": ix.hobt_id, "object_id": ix.object_id,
                        "index_id": ix.index_id, "partition_number": 1, "in_row_data_page_count": ix.pages,
                        "in_row_used_page_count": ix.pages + ix.pages // 200 + 1,
                        "in_row_reserved_page_count": ix.pages + ix.pages // 100 + 8,
                        "used_page_count": ix.pages + ix.pages // 200 + 1,
                        "reserved_page_count": ix.pages + ix.pages // 100 + 8,
                        "row_count": ix.rows if ix.index_id <= 1 else self._table_rows(ix)})
        return out

    def _table_rows(self, ix: _Index) -> int:
        for other in self._indexes_of(ix.database_id):
            if other.object_id == ix.object_id and other.index_id <= 1:
                return other.rows
        return ix.rows

    def stats(self, database_id: Optional[int] = None) -> list[dict]:
        """sys.stats x sys.dm_db_stats_properties: one row per statistic of the user tables."""
        self._materialize()
        out = []
        for ix in self._indexes_of(database_id):
            if ix.index_id == 0:
                continue
            out.append(self._stat_row(ix, ix.index_id, ix.name, 0))
        for a in self.auto_stats:
            if database_id is None or a["ix"].database_id == database_id:
                out.append(self._stat_row(a["ix"], a["stats_id"], a["name"], 1))
        return out

    def _stat_row(self, ix: _Index, stats_id: int, name: str, auto: int) -> dict:
        return {"database_id": ix.database_id, "object_id": ix.object_id, "stats_id": stats_id, "name": name,
                "auto_created": auto, "user_created": 0, "no_recompute": 0, "has_filter": 0, "is_incremental": 0,
                "last_updated": None if ix.stats_updated is None else to_datetime(ix.stats_updated),
                "rows": ix.stats_rows, "rows_sampled": ix.stats_sampled,
                "steps": min(200, max(1, ix.stats_rows // 1000)), "unfiltered_rows": ix.stats_rows,
                "modification_counter": ix.modifications, "persisted_sample_percent": 0.0}

    def memory_clerks(self) -> list[dict]:
        self._materialize()
        out = []
        for (typ, name, share), noise in zip(MEMORY_CLERKS, self.clerk_noise):
            kb = int(self.memory_kb * share * noise)
            out.append({"type": typ, "name": name, "memory_node_id": 0, "pages_kb": kb,
                        "virtual_memory_reserved_kb": kb * 2 if typ == "MEMORYCLERK_SQLBUFFERPOOL" else 0,
                        "virtual_memory_committed_kb": kb // 50 if typ == "MEMORYCLERK_SQLBUFFERPOOL" else 0,
                        "awe_allocated_kb": 0, "shared_memory_reserved_kb": 0, "shared_memory_committed_kb": 0})
        return out

    def schedulers(self) -> list[dict]:
        """sys.dm_os_schedulers: the cumulative switch counts; the point-in-time task counts are a
        deterministic function of the time (reading draws nothing from the model's random stream).
        The engine's answer replaces the task counts with what the workload runs (sim/answers/sqlos.py)."""
        self._materialize()
        tick = int(self.now or 0)
        out = []
        for i, s in enumerate(self.sched):
            h = _hash32(i, tick)
            cur = 2 + h % 11
            out.append({"scheduler_id": i, "cpu_id": i, "parent_node_id": 0, "status": "VISIBLE ONLINE",
                        "is_online": 1, "is_idle": 0, "current_tasks_count": cur,
                        "runnable_tasks_count": (h >> 8) % 3, "current_workers_count": cur + 4,
                        "active_workers_count": cur, "work_queue_count": 0, "pending_disk_io_count": (h >> 12) % 4,
                        "load_factor": cur, "yield_count": s[0], "context_switches_count": s[1],
                        "idle_switches_count": s[2], "preemptive_switches_count": s[3]})
        for sid, status in ((1048576, "HIDDEN ONLINE"), (1048578, "VISIBLE ONLINE (DAC)")):
            out.append({"scheduler_id": sid, "cpu_id": 0 if sid == 1048576 else 1048578 % 64, "parent_node_id": 0,
                        "status": status, "is_online": 1, "is_idle": 1, "current_tasks_count": 1,
                        "runnable_tasks_count": 0, "current_workers_count": 1, "active_workers_count": 1,
                        "work_queue_count": 0, "pending_disk_io_count": 0, "load_factor": 0, "yield_count": 0,
                        "context_switches_count": 0, "idle_switches_count": 0, "preemptive_switches_count": 0})
        return out

    def tempdb_space_usage(self, extra_user: int = 0, extra_internal: int = 0) -> list[dict]:
        """sys.dm_db_file_space_usage of tempdb's data files. extra_user / extra_internal: pages the sessions
        hold (temp tables, sort and hash work tables; sim/model/activity.py), on top of the background
        level; spread over the files as proportional fill does. Page counts are whole extents (8 pages)."""
        self._materialize()
        g = self.gauges
        out = []
        tfiles = [f for f in self.files if f["database_id"] == 2 and f["type"] == 0]
        k = len(tfiles)

        def ext(n: int) -> int:
            return (max(0, n) + 7) // 8 * 8

        for f in tfiles:
            user = ext((g["tempdb_user"] + extra_user) // k)
            internal = ext((g["tempdb_internal"] + extra_internal) // k)
            version = ext(g["tempdb_version"] // k)
            room = max(0, f["size"] - 64)
            if user + internal + version > room:   # a full file: what fits (tempdb would grow or fail)
                scale = room / (user + internal + version)
                user, internal, version = (int(x * scale) // 8 * 8 for x in (user, internal, version))
            allocated = min(f["size"] // 8 * 8, user + internal + version + 64)
            out.append({"database_id": 2, "file_id": f["file_id"], "filegroup_id": 1, "total_page_count": f["size"],
                        "allocated_extent_page_count": allocated,
                        "unallocated_extent_page_count": f["size"] - allocated,
                        "version_store_reserved_page_count": version, "user_object_reserved_page_count": user,
                        "internal_object_reserved_page_count": internal, "mixed_extent_page_count": 64,
                        "modified_extent_page_count": allocated // 4})
        return out
