"""SimServer: the whole simulated SQL Server instance.

It owns the databases, the query catalog, the plan cache, the server counters, the extended-event store, the
workload (sessions and requests) and the ground truth, and moves all of them through simulated time in fixed
steps. Times inside the model are float seconds since the scenario start ("offsets"); the objects of the
plan-cache, counter and XE models are handed naive UTC datetimes.

The model is advanced lazily: `advance_to(offset)` runs every whole step up to the step containing that
offset. Each step [t0, t1) runs, in this order: the plan cache (`advance(t0, t1)`), the counters, the
workload events before t1 (requests starting and ending, scripted episodes, the instance coming back after
a restart), and the blocked process report pass. A scripted restart ends the step it falls in and is run
before the next one starts, so that no part of the model runs past the moment the instance stops. Each part has its own Random derived from the seed, so the same seed and the same
query times give the same answers however the time is stepped.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from typing import Any, Optional

from sim.model.counters import ServerCounters
from sim.model.plancache import PlanCache
from sim.model.queries import QueryCatalog, QueryTemplate
from sim.model.truth import hex_hash, Truth
from sim.model.workload import (BlockingEpisode, Deadlock, GrantPressure, Runaway, SimRequest, SimSession,
                                Workload, grant_usage, request_metrics)
from sim.model.xe import XeStore
from sim.scenario import Scenario


# ---------------------------------------------------------------------------------------------- databases

@dataclass
class Database:
    database_id: int
    name: str
    state: int = 0                  # 0 ONLINE, 6 OFFLINE
    state_desc: str = "ONLINE"
    recovery_model_desc: str = "FULL"
    compatibility_level: int = 160
    create_date: dt.datetime = dt.datetime(2020, 1, 1)
    is_read_only: int = 0
    collation_name: Optional[str] = None

    @property
    def online(self) -> bool:
        return self.state == 0


def build_databases(spec, rng: random.Random) -> list[Database]:
    compat = {13: 130, 14: 140, 15: 150, 16: 160, 17: 170}.get(spec.major, 160)
    dbs = [Database(1, "master", recovery_model_desc="SIMPLE"), Database(2, "tempdb", recovery_model_desc="SIMPLE"),
           Database(3, "model"), Database(4, "msdb", recovery_model_desc="SIMPLE")]
    names = list(spec.database_names)
    i = 0
    while len(names) < spec.database_count:
        i += 1
        n = f"App{i:04d}"
        if n not in names:
            names.append(n)
    for k, n in enumerate(names):
        db = Database(5 + k, n, compatibility_level=compat,
                      create_date=dt.datetime(2019, 1, 1) + dt.timedelta(days=rng.randrange(1800)),
                      recovery_model_desc=rng.choice(("FULL", "FULL", "SIMPLE")))
        if n in spec.offline_databases:
            db.state, db.state_desc = 6, "OFFLINE"
        dbs.append(db)
    for db in dbs:
        db.collation_name = spec.collation
    return dbs


VERSION_NAMES = {13: ("2016", "2016"), 14: ("2017", "2017"), 15: ("2019", "2019"), 16: ("2022", "2022"),
                 17: ("2025", "2025")}


# ---------------------------------------------------------------------------------------------- the server

class SimServer:
    def __init__(self, scenario: Scenario, seed: int = 1):
        self.scenario = sc = scenario
        spec = sc.server
        self.seed = seed
        self.start = sc.start
        self.step = sc.step_seconds
        self.utc_offset_minutes = spec.utc_offset_minutes
        self.databases = build_databases(spec, self.rng("databases"))
        self._db_by_id = {d.database_id: d for d in self.databases}
        self._db_by_name = {d.name.lower(): d for d in self.databases}
        user_online = [d.database_id for d in self.databases if d.database_id > 4 and d.online] or [1]

        self.now_offset = 0.0          # the time of the query being answered (set by the engine)
        self.model_time = 0.0          # the model has run every step before this offset
        self.start_offset = -spec.uptime_seconds     # sqlserver_start_time, as an offset
        self.down_from: Optional[float] = None
        self.up_at: float = 0.0
        self.generation = 0            # bumped by every restart
        self.plancache = None

        self.catalog = QueryCatalog(self.rng("catalog"), sc.plan_cache)
        # before the workload: its scripted episodes lock rows of the counters model's tables (lock_object)
        # the schedulers and memory of the counters model are the instance's unless [counters] says otherwise
        counters_cfg = {"cpus": spec.cpu_count, "memory_gb": spec.memory_mb / 1024, **sc.counters}
        self.counters = ServerCounters(self.rng("counters"), counters_cfg,
                                       [{"database_id": d.database_id, "name": d.name, "state": d.state_desc}
                                        for d in self.databases])
        # the XE model writes local times inside reports: it gets the server's offset unless [xe] sets one
        xe_cfg = {"utc_offset_minutes": spec.utc_offset_minutes, **sc.xe}
        self.xe = XeStore(xe_cfg)
        self.truth = Truth(self.dt)
        self.workload = wl = Workload(self, sc.sessions, self.rng("workload"), self.catalog, user_online)
        for i, b in enumerate(sc.blocking):
            wl.actors.append(BlockingEpisode(wl, b, i))
        for i, d in enumerate(sc.deadlock):
            wl.actors.append(Deadlock(wl, d, i))
        for i, g in enumerate(sc.grant_pressure):
            wl.actors.append(GrantPressure(wl, g, i))
        for i, r in enumerate(sc.runaway):
            wl.actors.append(Runaway(wl, r, i))
        # every statement is in the catalog now: the plan cache can be built
        self.plancache = PlanCache(self.rng("plancache"), self.catalog, sc.plan_cache)
        # scripted restarts are run by advance_to() at the start of a step (see _step)
        self._restarts_due = sorted((float(r["at"]), float(r["outage"])) for r in sc.restart)
        wl.start_pool()

    # -- time

    def rng(self, stream: str) -> random.Random:
        return random.Random(f"{self.seed}:{stream}")

    def dt(self, offset: float) -> dt.datetime:
        """Naive UTC datetime of an offset."""
        return self.start + dt.timedelta(microseconds=round(offset * 1_000_000))

    def local(self, offset: float) -> dt.datetime:
        """The server's local time at an offset (what datetime columns of DMVs show)."""
        return self.dt(offset) + dt.timedelta(minutes=self.utc_offset_minutes)

    def offset(self, when: dt.datetime) -> float:
        if when.tzinfo is not None:
            when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return (when - self.start).total_seconds()

    def now(self) -> dt.datetime:
        """UTC time (naive) of the query being answered."""
        return self.dt(self.now_offset)

    @property
    def version(self) -> int:
        """The major version (13 = 2016, 14 = 2017, 15 = 2019, 16 = 2022)."""
        return self.scenario.server.major

    @property
    def sqlserver_start_time(self) -> dt.datetime:
        """sys.dm_os_sys_info.sqlserver_start_time: local time, to the millisecond."""
        d = self.local(self.start_offset)
        return d.replace(microsecond=d.microsecond // 1000 * 1000)

    def advance_to(self, offset: float) -> None:
        """Run every whole step that ends at or before offset.

        A scripted restart ends the step it falls in: the next step starts with it, before the plan cache,
        the counters and the workload move on, so nothing of the step runs on the stopped instance."""
        target = math.floor(offset / self.step + 1e-9) * self.step
        while self.model_time + 1e-9 < target:
            t0 = self.model_time
            t1 = (math.floor(t0 / self.step + 1e-9) + 1) * self.step
            due = self._restarts_due
            if due and t0 + 1e-9 < due[0][0] < t1 - 1e-9:
                t1 = due[0][0]
            self._restarts_until(t0)
            self._step(t0, t1)
            self.model_time = t1
        self._restarts_until(min(self.model_time, offset))

    def _restarts_until(self, t: float) -> None:
        """Scripted restarts due at or before t (t: the time the model has run to)."""
        due = self._restarts_due
        while due and due[0][0] <= t + 1e-9:
            _, outage = due.pop(0)
            self.restart(t, outage)

    def _step(self, t0: float, t1: float) -> None:
        d0, d1 = self.dt(t0), self.dt(t1)
        self.plancache.advance(d0, d1)
        self.counters.advance(d0, d1)
        self.workload.run_until(t1)
        self._gauges()
        th = int(self.xe.blocked_process_threshold or 0)
        if th > 0 and math.floor(t1 / th) != math.floor(t0 / th):
            self._bpr_pass(math.floor(t1 / th) * th, th)
        diag = self.xe.diagnostics_s
        if diag > 0 and math.floor(t1 / diag) != math.floor(t0 / diag) and not self.is_down(t1):
            self.xe.emit_diagnostics(self.dt(math.floor(t1 / diag) * diag))

    def _gauges(self) -> None:
        """Point-in-time values the counters model takes from the workload."""
        set_gauge = self.counters.set_gauge
        wl = self.workload
        set_gauge("user_connections", 0 if self.is_down(wl.now) else len(wl.sessions))
        set_gauge("processes_blocked", len(wl.blocked))
        set_gauge("grants_pending", sum(len(a.live.data.get("queue", ())) for a in wl.actors
                                        if isinstance(a, GrantPressure) and a.live is not None))
        set_gauge("grants_outstanding", sum(1 for r in wl.active.values()
                                            if r.grant is not None and r.grant.granted_kb is not None))

    def wait_ended(self, wait_type: str, seconds: float, t: float) -> None:
        """A blocked or grant-waiting request stopped waiting: the wait goes into sys.dm_os_wait_stats."""
        if seconds > 0:
            self.counters.add_wait(wait_type, int(seconds * 1000), self.dt(t))

    def deadlock_happened(self, t: float) -> None:
        self.counters.add_deadlock(self.dt(t))

    # -- restarts

    def is_down(self, t: float) -> bool:
        return self.down_from is not None and self.down_from <= t < self.up_at

    def restart(self, t_down: float, outage: float) -> None:
        """The instance stops at t_down and is back (new sqlserver_start_time) at t_down + outage.

        t_down must not be before the time the model has run to (model_time): scripted restarts run at the
        start of a step, the control command at model_time. While it is down no request runs (the
        workload is reset and its sessions log in again after t_up), the plan cache has no plans and draws
        no executions (PlanCache.restart(t_down, up_at=t_up)), no counter grows (ServerCounters.shutdown
        at t_down, restart at t_up), and the XE sessions lose their buffers (event_file buffers already
        due are written first) and the STARTUP_STATE ones start again at t_up."""
        t_up = t_down + max(0.0, outage)
        self.generation += 1
        self.truth.restarted(t_down, t_up)
        self.workload.reset(t_down, t_up)
        self.down_from, self.up_at = t_down, t_up
        self.start_offset = t_up
        self.plancache.restart(self.dt(t_down), up_at=self.dt(t_up))
        self.counters.shutdown(self.dt(t_down))
        self.xe.flush(self.dt(t_down))
        if t_up > t_down:
            self.workload.schedule(t_up, self._come_up, (self.generation, t_up))
        else:
            self._come_up((self.generation, t_up))

    def _come_up(self, arg) -> None:
        gen, t_up = arg
        if gen == self.generation:
            self.counters.restart(self.dt(t_up))
            self.xe.restart(self.dt(t_up))

    # -- databases and properties

    def db_name(self, database_id: Optional[int]) -> Optional[str]:
        d = self._db_by_id.get(database_id) if database_id is not None else None
        return d.name if d else None

    def database_id(self, name: str) -> Optional[int]:
        d = self._db_by_name.get(name.lower())
        return d.database_id if d else None

    def database(self, name_or_id) -> Optional[Database]:
        if isinstance(name_or_id, int):
            return self._db_by_id.get(name_or_id)
        return self._db_by_name.get(str(name_or_id).lower())

    @property
    def major(self) -> int:
        return self.scenario.server.major

    def version_string(self) -> str:
        s = self.scenario.server
        year = VERSION_NAMES.get(s.major, (str(2000 + s.major), ""))[0]
        level = f"{s.product_level}-{s.update_level}" if s.update_level else s.product_level
        plat = "on Linux (Ubuntu 22.04.4 LTS) <X64>" if s.host_platform == "Linux" else \
            "on Windows Server 2022 Datacenter 10.0 <X64> (Build 20348: ) (Hypervisor)"
        return (f"Microsoft SQL Server {year} ({level}) (KB5041321) - {s.version} (X64) \n"
                f"\tSep 20 2024 22:35:10 \n\tCopyright (C) {year} Microsoft Corporation\n\t{s.edition} {plat}")

    def server_property(self, name: str) -> Any:
        s = self.scenario.server
        props = {
            "productversion": s.version, "productlevel": s.product_level, "productupdatelevel": s.update_level,
            "productmajorversion": str(s.major), "productminorversion": s.version.split(".")[1],
            "productbuild": s.version.split(".")[2], "edition": s.edition, "engineedition": s.engine_edition,
            "servername": s.server_name, "machinename": s.server_name, "instancename": None,
            "collation": s.collation, "isclustered": 0, "ishadrenabled": 0, "isintegratedsecurityonly": 0,
            "processid": 4242, "editionid": 1872460670 if "Enterprise" in s.edition else -2117995310,
            "hostplatform": s.host_platform, "isxtpsupported": 1, "resourceversion": s.version,
        }
        return props.get(name.lower().strip())

    # -- executions and XE

    def record_execution(self, req: SimRequest, t: float) -> None:
        """A request completed at t: one execution of each statement it ran goes to the plan cache."""
        m = request_metrics(req, t)
        elapsed_us = max(1, int((t - req.start) * 1_000_000))
        grant_kb = req.grant.granted_kb or 0 if req.grant else 0
        used = grant_usage(req, t)[1] or 0 if req.grant else 0
        spills = int(m["logical_reads"] * 0.01) if req.grant and req.grant.used_fraction > 0.97 else 0
        stmts = req.statements or [req.q]
        n = len(stmts)
        when = self.dt(t)
        for q in stmts:
            self.plancache.execute(q, when, m["cpu_ms"] * 1000 // n, elapsed_us // n, m["logical_reads"] // n,
                                   m["reads"] // n, m["writes"] // n, m["rows"] // n, grant_kb, used, spills // n,
                                   req.dop)

    def register_batch(self, text: str, database_id: int) -> list[QueryTemplate]:
        """Statements of a batch the workload runs itself (scripted episodes, long ETL batches), registered
        in the query catalog (QueryCatalog.add_batch: no background executions) so that the plan cache
        records their executions. Only possible before the plan cache is built."""
        if self.plancache is not None:
            raise RuntimeError("register_batch after the plan cache was built")
        return self.catalog.add_batch(text, database_id)

    def lock_object(self, database_id: int, schema: str, table: str) -> dict:
        """What a row lock on schema.table in that database names: the table's clustered index ('keylock':
        hobtid, indexname) or, for a heap, its first data page ('ridlock': fileid, pageid); plus object_id,
        index_id and objectname ('Database.schema.table', as deadlock graphs write it).

        The table and its indexes are the counters model's (sys.indexes, sys.dm_db_partition_stats), so the
        hobt_id a deadlock or a wait resource names is the one those views show; a table the counters model
        does not have gets a clustered index with the same naming and numbering rules."""
        db = self.db_name(database_id) or f"db{database_id}"
        mine = [ix for ix in self.counters.indexes
                if ix.database_id == database_id and ix.table.lower() == table.lower()]
        base = next((ix for ix in mine if ix.index_id <= 1), None)
        if base is not None:
            out = {"object_id": base.object_id, "index_id": base.index_id, "hobtid": base.hobt_id,
                   "objectname": f"{db}.{base.schema}.{base.table}"}
            if base.index_id == 0:
                return {**out, "type": "ridlock", "indexname": None, "fileid": 1,
                        "pageid": 1000 + base.object_id % 500_000}
            return {**out, "type": "keylock", "indexname": base.name}
        import hashlib
        object_id = int.from_bytes(hashlib.sha1(f"{database_id}:{table}".encode()).digest()[:4], "little") \
            % 2_000_000_000 + 1000
        return {"type": "keylock", "object_id": object_id, "index_id": 1,
                "hobtid": 72057594037927936 + (object_id % 100000) * 65536 + 1,
                "objectname": f"{db}.{schema}.{table}", "indexname": f"PK_{table}"}

    def process_info(self, s: SimSession, t: float) -> dict:
        """A <process> of a blocked-process or deadlock report for session s at t (times: naive UTC)."""
        req = s.request
        q = req.current(t) if req else None
        waiting = req is not None and req.stall_since is not None and t >= req.stall_since
        tran_start = s.tran_started if s.tran_started is not None else (req.start if req else s.last_request_start)
        status = "suspended" if waiting else ("running" if req else "sleeping")
        return {
            "id": f"process{s.spid:04x}", "spid": s.spid, "ecid": 0, "status": status,
            "waitresource": req.stall_resource if waiting else "",
            "waittime": int((t - req.stall_since) * 1000) if waiting else 0,
            "lockMode": req.lock_mode if waiting else "",
            "transactionname": "user_transaction" if s.tran_started is not None and not req else
            (req.command if req else "user_transaction"),
            "lasttranstarted": self.dt(tran_start), "lastbatchstarted": self.dt(s.last_request_start),
            "lastbatchcompleted": self.dt(s.last_request_end), "currentdbname": self.db_name(s.database_id),
            "isolationlevel": "read committed (2)", "trancount": max(s.open_tran, req.open_tran if req else 0),
            "clientapp": s.program, "hostname": s.host, "loginname": s.login, "currentdb": s.database_id,
            "priority": 0, "schedulerid": 1 + s.spid % self.scenario.server.cpu_count, "kpid": 10000 + s.spid,
            "xactid": 1_000_000 + s.spid, "inputbuf": (q.text if q else s.last_text) or "",
            "frames": ([{"line": 1, "sqlhandle": q.sql_handle, "stmtstart": q.statement_start_offset,
                         "stmtend": q.statement_end_offset}] if q else []),
        }

    def _bpr_pass(self, t: float, threshold: int) -> None:
        """One deadlock-monitor pass: a report for every task blocked on a lock for at least the threshold."""
        blocked = self.workload.blocked
        if not blocked:
            return
        loop = int(t // threshold)
        when = self.dt(t)
        for spid in sorted(blocked):
            req = blocked[spid]
            if req.stall_since is None or t - req.stall_since < threshold:
                continue
            blocker = self.workload.sessions.get(req.blocker)
            if blocker is None:
                continue
            self.xe.emit_blocked_process_report(when, loop, self.process_info(req.session, t),
                                                self.process_info(blocker, t))

    # -- truth

    def truth_window(self, t0: dt.datetime, t1: dt.datetime, min_lifetime_s: Optional[float] = None) -> dict:
        """The truth of [t0, t1); with min_lifetime_s, each query also has cpu_us_long_lived: the CPU of its plan
        lifetimes that lasted at least that long (what a collector polling every min_lifetime_s / 2 can see twice)."""
        queries = self.plancache.truth(t0, t1)
        if min_lifetime_s is not None:
            long_lived = self.plancache.truth_long_lived(t0, t1, float(min_lifetime_s))
            for k, v in queries.items():
                v["cpu_us_long_lived"] = long_lived.get(k, 0)
        return self.truth.window(self.offset(t0), self.offset(t1), self.now_offset, queries)
