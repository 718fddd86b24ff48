"""Sessions and requests: the pool workload, blocking chains, deadlocks, memory grants, runaway queries.

Everything is event driven: a heap of (time, seq, handler, arg) in simulated seconds since the scenario
start. A pool session alternates between sleeping (no request) and running one request; only the start and
the end of a request are events, and everything in between (CPU, reads, elapsed, the wait of the moment) is
computed from the request's start and rates when someone looks. So the cost of simulating an hour is
proportional to the number of requests in that hour, not to sessions x steps.

Scripted episodes (a blocking chain behind a sleeping head blocker, a deadlock, memory-grant pressure, a
runaway parallel query) use their own sessions, allocated when the scenario is loaded, and are driven by
the same event heap. Their statements (and the long ETL batches) are registered in the query catalog
(QueryCatalog.add_batch through SimServer.register_batch) so that the plan cache records their executions;
the rows they lock are in the counters model's tables (SimServer.lock_object). What happened is written to the ground truth (sim/model/truth.py) as it happens.

Handlers run in time order, and every random draw comes from the workload's own Random, so the same seed
gives the same history however the time is stepped.
"""
from __future__ import annotations

import heapq
import math
import random
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from sim.model.queries import split_statements
from sim.scenario import SessionSpec

FIRST_SPID = 51

# ---------------------------------------------------------------------------------------------- statements


def command_of(q: Any) -> str:
    """The command column for the current statement of a request."""
    text = q.text
    s = q.statement_start_offset // 2 if q.statement_start_offset > 0 else 0
    if q.statement_start_offset > 0:
        # offsets are UTF-16 bytes; map back to characters (exact for BMP text)
        s = len(text.encode("utf-16-le")[:q.statement_start_offset].decode("utf-16-le", "ignore"))
    words = text[s:s + 200].replace("(", " ").split()
    # skip comments and a leading "WITH cte AS" (that is a SELECT or DML)
    for w in words:
        u = w.upper().rstrip(";")
        if u in ("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"):
            return u
        if u in ("EXEC", "EXECUTE"):
            return "EXECUTE"
        if u in ("WAITFOR", "DBCC", "BULK"):
            return {"BULK": "BULK INSERT"}.get(u, u)
        if u in ("BEGIN", "COMMIT", "ROLLBACK", "SET", "DECLARE", "IF"):
            return "SELECT" if u in ("DECLARE", "IF", "SET") else u if u != "BEGIN" else "BEGIN TRANSACTION"
    return "SELECT"


def long_etl_batch(variant: int) -> str:
    """A nightly-load batch of more than 8,000 characters, with Japanese identifiers and literals."""
    cols = ["受注番号", "明細番号", "商品コード", "商品名", "数量", "単価", "金額", "消費税", "顧客コード", "顧客名",
            "配送先住所", "受注日", "出荷予定日", "担当者", "備考"]
    parts = [f"/* 夜間バッチ {variant}: 受注データの取り込みと集計 (nightly order load) */",
             "SET XACT_ABORT ON;",
             "DECLARE @処理日 date = CAST(SYSDATETIME() AS date), @件数 int = 0;"]
    col_list = ", ".join(cols)
    for step in range(20):
        src = ["dbo.受注明細", "stage.受注_取込", "dbo.出荷指示", "dbo.請求明細"][step % 4]
        conds = " AND ".join(f"s.{c} IS NOT NULL" for c in cols[step % 5:step % 5 + 6])
        parts.append(
            f"INSERT INTO stage.受注明細_作業{step:02d} ({col_list})\n"
            f"SELECT {', '.join('s.' + c for c in cols)}\nFROM {src} AS s\n"
            f"JOIN dbo.顧客マスタ AS c ON c.顧客コード = s.顧客コード\n"
            f"WHERE s.受注日 >= DATEADD(day, -{step + 1}, @処理日) AND {conds}\n"
            f"  AND c.顧客区分 IN (N'法人', N'個人', N'代理店') AND s.備考 NOT LIKE N'%テスト%';")
        parts.append("SET @件数 = @件数 + @@ROWCOUNT;")
    parts.append("UPDATE dbo.バッチ実行履歴 SET 終了時刻 = SYSDATETIME(), 処理件数 = @件数 WHERE 処理日 = @処理日;")
    text = "\n".join(parts)
    assert len(text) > 8000
    return text


# ---------------------------------------------------------------------------------------------- sessions, requests

# Wait profiles: what a request waits on while it is not blocked. (status, wait_type) choices with weights.
_PROFILES = {
    "cpu": [("running", None, 60), ("runnable", None, 25), ("suspended", "PAGEIOLATCH_SH", 15)],
    "io": [("running", None, 30), ("suspended", "PAGEIOLATCH_SH", 70)],
    "log": [("running", None, 50), ("suspended", "WRITELOG", 50)],
    "network": [("running", None, 40), ("suspended", "ASYNC_NETWORK_IO", 60)],
    "parallel": [("running", None, 35), ("runnable", None, 10), ("suspended", "CXPACKET", 35),
                 ("suspended", "CXCONSUMER", 20)],
}
_PROFILE_TABLES = {}
for _name, _choices in _PROFILES.items():
    _table = []
    for _st, _wt, _w in _choices:
        _table += [(_st, _wt)] * _w
    _PROFILE_TABLES[_name] = _table
_LAST_WAIT = {"cpu": "SOS_SCHEDULER_YIELD", "io": "PAGEIOLATCH_SH", "log": "WRITELOG",
              "network": "ASYNC_NETWORK_IO", "parallel": "CXPACKET"}


def _mix(a: int, b: int) -> int:
    x = (a * 0x9E3779B1 + b * 0x85EBCA77) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    x ^= x >> 12
    return x


@dataclass(eq=False)
class MemoryGrant:
    requested_kb: int
    request_time: float
    granted_kb: Optional[int] = None     # None while pending on RESOURCE_SEMAPHORE
    grant_time: Optional[float] = None
    used_fraction: float = 0.5


@dataclass(eq=False)
class SimSession:
    spid: int
    login: str
    host: str
    program: str
    database_id: int
    login_time: float
    kind: str                    # 'pool', 'batch', 'scripted', 'client'
    is_user: bool = True
    open_tran: int = 0
    tran_started: Optional[float] = None
    request: Optional["SimRequest"] = None
    last_request_start: float = 0.0
    last_request_end: float = 0.0
    last_text: str = ""
    isolation: int = 2


@dataclass(eq=False)
class SimRequest:
    session: SimSession
    q: Any
    start: float
    command: str
    profile: str = "cpu"
    cpu_frac: float = 0.8            # CPU ms per elapsed ms while progressing (above 1 when parallel)
    lreads_per_s: float = 2000.0
    phys_frac: float = 0.01
    writes_per_s: float = 0.0
    rows_per_s: float = 100.0
    dop: int = 1
    workers: int = 0
    open_tran: int = 0
    request_id: int = 0
    noise: int = 0
    planned_end: Optional[float] = None
    grant: Optional[MemoryGrant] = None
    statements: Optional[list] = None       # multi-statement batch: the current statement advances
    # stalls: blocked on a lock or waiting for a memory grant; no progress meanwhile
    stall_since: Optional[float] = None
    stall_total: float = 0.0
    stall_wait: str = ""
    stall_resource: str = ""
    blocker: int = 0
    lock_mode: str = ""

    def active_seconds(self, t: float) -> float:
        a = t - self.start - self.stall_total
        if self.stall_since is not None:
            a -= max(0.0, t - self.stall_since)
        return max(0.0, a)

    def current(self, t: float) -> Any:
        """The statement executing at t (for multi-statement batches it moves through the batch)."""
        if not self.statements:
            return self.q
        if self.planned_end is None or self.planned_end <= self.start:
            return self.statements[0]
        frac = (t - self.start) / (self.planned_end - self.start)
        return self.statements[min(len(self.statements) - 1, max(0, int(frac * len(self.statements))))]

    def state(self, t: float) -> tuple[str, Optional[str], int, str, str]:
        """(status, wait_type, wait_time_ms, last_wait_type, wait_resource) at t."""
        if self.stall_since is not None and t >= self.stall_since:
            w = self.stall_wait
            return "suspended", w, int((t - self.stall_since) * 1000), w, self.stall_resource
        tick = int(t * 2)
        h = _mix(self.noise, tick)
        table = _PROFILE_TABLES[self.profile]
        status, wait = table[h % len(table)]
        last = _LAST_WAIT[self.profile]
        if wait is None:
            return status, None, 0, last, ""
        since_tick = max(self.start, tick / 2.0)
        wait_ms = int((t - since_tick) * 1000) + (h >> 20) % 40
        resource = ""
        if wait.startswith("PAGEIOLATCH"):
            resource = f"{self.session.database_id}:1:{(h >> 4) % 4_000_000}"
        return status, wait, max(0, wait_ms), wait, resource


# ---------------------------------------------------------------------------------------------- the workload

class Workload:
    """All sessions and requests of the instance, and the events that change them."""

    def __init__(self, server, spec: SessionSpec, rng: random.Random, catalog, database_ids: list[int]):
        self.server = server
        self.spec = spec
        self.rng = rng
        self.catalog = catalog
        self.database_ids = database_ids or [1]
        self.sessions: dict[int, SimSession] = {}
        self.active: dict[int, SimRequest] = {}      # spid -> running request
        self.blocked: dict[int, SimRequest] = {}     # spid -> request blocked on a lock (for BPRs)
        self._events: list = []
        self._seq = 0
        self.now = 0.0
        self.generation = 0                          # bumped by a restart; stale pool events are dropped
        self._next_spid = FIRST_SPID
        self.completed = 0
        self.actors: list = []
        self._batch_texts = [self.statements_for(long_etl_batch(v), self.database_ids[v % len(self.database_ids)])
                             for v in range(3)]
        self._pool: list[SimSession] = []
        for i in range(spec.user):
            self._pool.append(self.new_session(
                spec.logins[i % len(spec.logins)], spec.hosts[i % len(spec.hosts)],
                spec.apps[(i // len(spec.hosts)) % len(spec.apps)], self._db_for(i), "pool", -rng.uniform(60, 7200)))
        for i in range(spec.batch):
            self._pool.append(self.new_session("etl_loader", f"BATCH{i + 1:02d}", "SSIS-Nightly-受注取込",
                                               self._db_for(i), "batch", -rng.uniform(600, 36000)))

    # -- plumbing

    def _db_for(self, i: int) -> int:
        return self.database_ids[(i * 31) % len(self.database_ids)]

    def new_session(self, login: str, host: str, program: str, database_id: int, kind: str,
                    login_time: float) -> SimSession:
        spid = self._next_spid
        self._next_spid += 1
        s = SimSession(spid, login, host, program, database_id, login_time, kind)
        self.sessions[spid] = s
        return s

    def statements_for(self, text: str, database_id: int) -> list:
        """The statements of a batch this workload runs itself, registered in the query catalog."""
        return self.server.register_batch(text, database_id)

    def schedule(self, t: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        self._seq += 1
        heapq.heappush(self._events, (t, self._seq, fn, arg))

    def run_until(self, t1: float) -> None:
        """Handle every event before t1, in time order."""
        ev = self._events
        while ev and ev[0][0] < t1:
            t, _, fn, arg = heapq.heappop(ev)
            self.now = t
            fn(arg)
        self.now = t1

    def start_pool(self) -> None:
        """Initial state at offset 0: some requests already running, the rest idle."""
        for s in self._pool:
            self._first_request(s, 0.0)
        for a in self.actors:
            a.schedule_first()

    def _first_request(self, s: SimSession, t0: float) -> None:
        think = self.spec.batch_think_seconds if s.kind == "batch" else self.spec.think_seconds
        start = t0 + self.rng.uniform(-think, think)
        if start < t0:
            req = self._begin(s, start)
            if req.planned_end > t0:
                return
            self._finish(s, req, record=False)
            start = t0 + self.rng.expovariate(1.0 / think)
        self.schedule(start, self._on_pool_start, (s, self.generation))

    # -- pool requests

    def _on_pool_start(self, arg) -> None:
        s, gen = arg
        if gen != self.generation:
            return
        if self.server.is_down(self.now):
            self.schedule(self.server.up_at, self._on_pool_start, (s, self.generation))
            return
        self._begin(s, self.now)

    def _begin(self, s: SimSession, t: float) -> SimRequest:
        rng, spec = self.rng, self.spec
        if s.kind == "batch":
            stmts = self._batch_texts[rng.randrange(len(self._batch_texts))]
            dur = min(spec.batch_median_seconds * math.exp(0.8 * rng.gauss(0, 1)), 36000.0)
            req = SimRequest(s, stmts[0], t, "INSERT", profile=rng.choice(("io", "log", "cpu")),
                             cpu_frac=rng.uniform(0.3, 0.9), lreads_per_s=rng.uniform(2e4, 2e5),
                             phys_frac=rng.uniform(0.02, 0.2), writes_per_s=rng.uniform(100, 3000),
                             rows_per_s=rng.uniform(1000, 20000), open_tran=1, statements=stmts)
        else:
            q = self.catalog.pick(rng)
            if self.server.database(q.database_id) is not None:
                s.database_id = q.database_id    # the session is in the database the statement runs in
            dur = spec.request_median_seconds * math.exp(spec.request_sigma * rng.gauss(0, 1))
            dur = min(max(dur, 0.002), spec.request_max_seconds)
            cmd = command_of(q)
            profile = rng.choice(("cpu", "cpu", "io", "io", "network", "log" if cmd != "SELECT" else "io"))
            req = SimRequest(s, q, t, cmd, profile=profile, cpu_frac=rng.uniform(0.05, 0.95),
                             lreads_per_s=rng.uniform(200, 50000), phys_frac=rng.uniform(0.0, 0.05),
                             writes_per_s=rng.uniform(0, 200) if cmd != "SELECT" else 0.0,
                             rows_per_s=rng.uniform(1, 5000), open_tran=0 if cmd == "SELECT" else 1)
            # the catalog's cost profile (when it has one) says whether the plan is parallel or needs a grant
            qdop = int(getattr(q, "dop", 1) or 1)
            if qdop > 1 or rng.random() < spec.parallel_fraction:
                req.dop = min(qdop, spec.max_dop) if qdop > 1 else \
                    rng.choice([d for d in (2, 4, 8, 16) if d <= spec.max_dop] or [spec.max_dop])
                req.workers = req.dop * rng.choice((1, 2, 2, 3))
                req.cpu_frac = req.dop * rng.uniform(0.5, 0.9)
                req.profile = "parallel"
            qgrant = int(getattr(q, "grant_kb", 0) or 0)
            if qgrant or req.dop > 1 or rng.random() < spec.grant_fraction:
                kb = qgrant or int(1024 * 2 ** rng.uniform(0, 10))
                req.grant = MemoryGrant(kb, t, kb, t, rng.uniform(0.1, 1.0))
        req.noise = rng.getrandbits(32)
        req.planned_end = t + dur
        s.request = req
        s.last_request_start = t
        s.last_text = req.q.text
        self.active[s.spid] = req
        if req.planned_end >= t:
            self.schedule(req.planned_end, self._on_pool_end, (s, req, self.generation))
        return req

    def _on_pool_end(self, arg) -> None:
        s, req, gen = arg
        if gen != self.generation or s.request is not req:
            return
        self._finish(s, req, record=True)
        think = self.spec.batch_think_seconds if s.kind == "batch" else self.spec.think_seconds
        self.schedule(self.now + self.rng.expovariate(1.0 / think), self._on_pool_start, (s, self.generation))

    def _finish(self, s: SimSession, req: SimRequest, record: bool, t: Optional[float] = None) -> None:
        t = self.now if t is None else t
        if record:
            self.server.record_execution(req, t)
            self.completed += 1
        s.request = None
        s.last_request_end = t
        self.active.pop(s.spid, None)
        self.blocked.pop(s.spid, None)

    # -- helpers for scripted actors

    def start_request(self, s: SimSession, q: Any, t: float, **kw) -> SimRequest:
        req = SimRequest(s, q, t, kw.pop("command", None) or command_of(q), **kw)
        req.noise = self.rng.getrandbits(32)
        s.request = req
        s.last_request_start = t
        s.last_text = q.text
        self.active[s.spid] = req
        return req

    def block(self, req: SimRequest, t: float, blocker: int, wait: str, resource: str) -> None:
        req.stall_since, req.stall_wait, req.stall_resource, req.blocker = t, wait, resource, blocker
        req.lock_mode = wait[len("LCK_M_"):] if wait.startswith("LCK_M_") else ""
        if wait.startswith("LCK_M_"):
            self.blocked[req.session.spid] = req

    def unblock(self, req: SimRequest, t: float) -> None:
        if req.stall_since is not None:
            req.stall_total += max(0.0, t - req.stall_since)
            self.server.wait_ended(req.stall_wait, t - req.stall_since, t)
        req.stall_since, req.stall_wait, req.stall_resource, req.blocker = None, "", "", 0
        self.blocked.pop(req.session.spid, None)

    def finish(self, req: SimRequest, t: float, record: bool = True) -> None:
        s = req.session
        if s.request is req:
            self._finish(s, req, record, t)

    # -- restart

    def reset(self, t_down: float, t_up: float) -> None:
        """The instance went down at t_down and is back at t_up: every session and request is gone."""
        self.generation += 1
        for a in self.actors:
            a.abort(t_down)
        self.active.clear()
        self.blocked.clear()
        for s in self.sessions.values():
            s.request = None
            s.open_tran = 0
            s.tran_started = None
            s.login_time = t_up + self.rng.uniform(0.05, 5.0)
        for s in self._pool:
            think = self.spec.batch_think_seconds if s.kind == "batch" else self.spec.think_seconds
            self.schedule(s.login_time + self.rng.expovariate(1.0 / think), self._on_pool_start,
                          (s, self.generation))


# ---------------------------------------------------------------------------------------------- scripted actors

class _Occurrence:
    __slots__ = ("k", "t0", "dead", "data")

    def __init__(self, k: int, t0: float):
        self.k, self.t0, self.dead, self.data = k, t0, False, {}


class Actor:
    """A scripted episode that happens at `at` and then every `every` seconds (if given)."""

    lead = 0.0   # seconds before `at` at which the episode's preparation starts

    def __init__(self, wl: Workload, spec: dict, index: int):
        self.wl, self.spec, self.index = wl, spec, index
        self.live: Optional[_Occurrence] = None
        db = spec.get("database") or ""
        self.database_id = wl.server.database_id(db) if db else wl.database_ids[index % len(wl.database_ids)]

    def schedule_first(self) -> None:
        self.wl.schedule(max(0.0, self.spec["at"] - self.lead), self._on_occurrence, 0)

    def _on_occurrence(self, k: int) -> None:
        at = self.spec["at"] + k * (self.spec["every"] or 0)
        if self.spec.get("every"):
            nxt = self.spec["at"] + (k + 1) * self.spec["every"]
            self.wl.schedule(max(0.0, nxt - self.lead), self._on_occurrence, k + 1)
        if self.wl.server.is_down(self.wl.now) or self.wl.server.is_down(at):
            return
        occ = _Occurrence(k, at)
        self.live = occ
        self.begin(occ)

    def at(self, t: float, occ: _Occurrence, fn: Callable, arg: Any = None) -> None:
        """Schedule fn(occ, arg) at t, unless the occurrence is aborted by a restart meanwhile."""
        def run(_):
            if not occ.dead:
                fn(occ, arg)
        self.wl.schedule(t, run)

    def abort(self, t: float) -> None:
        occ = self.live
        if occ is not None and not occ.dead:
            occ.dead = True
            self.aborted(occ, t)
        self.live = None

    def begin(self, occ: _Occurrence) -> None:
        raise NotImplementedError

    def aborted(self, occ: _Occurrence, t: float) -> None:
        pass


_NAME_PART = r"(?:\[[^\]]+\]|[^\s\[\](),;.]+)"
_TARGET_RE = re.compile(r"^\s*(?:UPDATE|DELETE\s+FROM|DELETE|INSERT\s+INTO|INSERT|MERGE\s+INTO|MERGE)\s+"
                        rf"({_NAME_PART}(?:\s*\.\s*{_NAME_PART}){{0,2}})", re.I)


def target_table(statement: str) -> Optional[tuple[str, str]]:
    """(schema, table) a DML statement writes to (UPDATE / DELETE / INSERT / MERGE), or None."""
    for s, e in split_statements(statement):
        m = _TARGET_RE.match(statement[s:e])
        if m:
            parts = [p.strip().strip("[]") for p in re.findall(_NAME_PART, m.group(1))]
            return ("dbo", parts[-1]) if len(parts) == 1 else (parts[-2], parts[-1])
    return None


def key_resource(database_id: int, rng: random.Random, lock: Optional[dict] = None) -> str:
    """A wait resource for a row lock: 'KEY: dbid:hobt (hash)' for an index (the one lock_object() gave),
    'RID: dbid:file:page:slot' for a heap; a made-up index when lock is None."""
    if lock is not None and lock.get("type") == "ridlock":
        return f"RID: {database_id}:{lock['fileid']}:{lock['pageid']}:{rng.randrange(40)}"
    hobt = lock["hobtid"] if lock is not None else 72057594000000000 + rng.randrange(10 ** 8)
    return f"KEY: {database_id}:{hobt} ({rng.getrandbits(48):012x})"


class BlockingEpisode(Actor):
    """A head blocker sleeping with an open transaction, and a chain of blocked sessions behind it.

    The head ran its statement shortly before `at` and went to sleep with the transaction open; from `at`
    the blocked sessions arrive (the first exactly at `at`, the rest within `spread`), the first `depth - 1`
    of them forming a spine (each blocked by the previous), the others blocked by the head or a spine
    member. At `at + duration` the head commits and every blocked request completes.
    """
    lead = 2.0

    def __init__(self, wl: Workload, spec: dict, index: int):
        super().__init__(wl, spec, index)
        h = spec["head"]
        self.head = wl.new_session(h["login"], h["host"], h["app"], self.database_id, "scripted", -3600.0)
        self.head_q = wl.statements_for(h["statement"], self.database_id)
        self.victims = [wl.new_session(spec["blocked_login"], f"{spec['blocked_host']}", spec["blocked_app"],
                                       self.database_id, "scripted", -rng_offset(wl.rng))
                        for _ in range(spec["blocked"])]
        self.blocked_q = wl.statements_for(spec["blocked_statement"], self.database_id)[-1]
        # the rows they wait for are in the table the blocked statement updates (else the head's)
        table = target_table(spec["blocked_statement"]) or target_table(h["statement"])
        self.lock = wl.server.lock_object(self.database_id, *table) if table else None

    def begin(self, occ: _Occurrence) -> None:
        wl, spec, rng = self.wl, self.spec, self.wl.rng
        at = occ.t0
        t_head = max(wl.now, at - self.lead)
        n = spec["blocked"]
        arrivals = [at] + sorted(at + rng.uniform(0.05, spec["spread"]) for _ in range(n - 1))
        spine = list(range(spec["depth"] - 1))
        blocker_of = []
        for i in range(n):
            if i in spine:
                blocker_of.append(self.head.spid if i == 0 else self.victims[i - 1].spid)
            else:
                choices = [self.head.spid] + [self.victims[j].spid for j in spine]
                blocker_of.append(rng.choice(choices))
        resources = {self.head.spid: key_resource(self.database_id, rng, self.lock)}
        for j in spine:
            resources[self.victims[j].spid] = key_resource(self.database_id, rng, self.lock)
        occ.data.update(arrivals=arrivals, blocker_of=blocker_of, resources=resources, reqs={})
        # the head blocker: runs its statement, then sleeps with the transaction open
        head_stmt = self.head_q[-1]
        hreq = wl.start_request(self.head, head_stmt, t_head, command="UPDATE", profile="cpu", open_tran=1,
                                lreads_per_s=20000, writes_per_s=500, rows_per_s=2000)
        hreq.planned_end = min(at, t_head + 0.8)
        self.head.open_tran = 1
        self.head.tran_started = t_head
        self.at(hreq.planned_end, occ, self._head_sleeps, hreq)
        occ.data["record"] = wl.server.truth.blocking_started(self, at)
        for i in range(n):
            self.at(arrivals[i], occ, self._arrive, i)
        self.at(at + spec["duration"], occ, self._release)

    def _head_sleeps(self, occ, hreq) -> None:
        self.wl.finish(hreq, self.wl.now)

    def _arrive(self, occ, i: int) -> None:
        wl = self.wl
        s = self.victims[i]
        blocker = occ.data["blocker_of"][i]
        req = wl.start_request(s, self.blocked_q, wl.now, command="UPDATE", profile="cpu", open_tran=2,
                               cpu_frac=0.3, lreads_per_s=500, writes_per_s=50, rows_per_s=1)
        req.planned_end = None
        # a short run before the lock wait, so a few CPU ms and reads are on the request
        wl.block(req, wl.now, blocker, self.spec["wait_type"], occ.data["resources"][blocker])
        occ.data["reqs"][s.spid] = req
        wl.server.truth.blocking_joined(occ.data["record"], s.spid, len(occ.data["reqs"]))

    def _release(self, occ, _=None) -> None:
        wl, rng = self.wl, self.wl.rng
        t = wl.now
        self.head.open_tran = 0
        self.head.tran_started = None
        self.head.last_request_start = t
        self.head.last_request_end = t + 0.002
        self.head.last_text = "COMMIT TRANSACTION;"
        waits = [t - r.stall_since for r in occ.data["reqs"].values() if r.stall_since is not None]
        wl.server.truth.blocking_ended(occ.data["record"], t, max(waits) if waits else 0.0)
        for spid in sorted(occ.data["reqs"]):
            req = occ.data["reqs"][spid]
            wl.unblock(req, t)
            end = t + rng.uniform(0.005, 0.3)
            req.planned_end = end
            self.at(end, occ, lambda o, r: self.wl.finish(r, self.wl.now), req)
        self.live = None

    def aborted(self, occ, t: float) -> None:
        rec = occ.data.get("record")
        if rec is not None and rec.end is None:
            reqs = occ.data.get("reqs", {})
            waits = [t - r.stall_since for r in reqs.values() if r.stall_since is not None]
            self.wl.server.truth.blocking_ended(rec, t, max(waits) if waits else 0.0)


def rng_offset(rng: random.Random) -> float:
    return rng.uniform(60, 7200)


class Deadlock(Actor):
    """Two sessions update two rows in opposite order; the deadlock monitor kills one at `at`."""
    lead = 3.0

    def __init__(self, wl: Workload, spec: dict, index: int):
        super().__init__(wl, spec, index)
        self.sess = [wl.new_session(spec["login"], spec["host"], spec["app"], self.database_id, "scripted",
                                    -rng_offset(wl.rng)) for _ in range(2)]
        self.qs = [wl.statements_for(text, self.database_id) for text in spec["statements"]]
        # process i holds a row of the table its first statement updates (the resource the other one wants)
        self.locks = []
        for text in spec["statements"]:
            first = text[slice(*split_statements(text)[0])]
            table = target_table(first)
            self.locks.append(wl.server.lock_object(self.database_id, *table) if table else None)

    def begin(self, occ: _Occurrence) -> None:
        wl, rng = self.wl, self.wl.rng
        at = occ.t0
        t0 = max(wl.now, at - self.lead)
        keys = [key_resource(self.database_id, rng, self.locks[i]) for i in range(2)]
        reqs = []
        for i, s in enumerate(self.sess):
            # each holds the row of its first statement and then waits in its second
            req = wl.start_request(s, self.qs[i][-1], t0, command="UPDATE", profile="cpu", open_tran=2,
                                   cpu_frac=0.2, lreads_per_s=300, writes_per_s=20, rows_per_s=1)
            s.open_tran = 1
            s.tran_started = t0
            reqs.append(req)
        occ.data.update(reqs=reqs, keys=keys)
        self.at(t0 + (at - t0) * 0.3, occ, self._wait, 0)
        self.at(t0 + (at - t0) * 0.5, occ, self._wait, 1)
        self.at(at, occ, self._detect)

    def _wait(self, occ, i: int) -> None:
        other = self.sess[1 - i]
        self.wl.block(occ.data["reqs"][i], self.wl.now, other.spid, "LCK_M_U", occ.data["keys"][1 - i])

    def _detect(self, occ, _=None) -> None:
        wl = self.wl
        t = wl.now
        reqs, keys = occ.data["reqs"], occ.data["keys"]
        victim, survivor = 1, 0
        procs = [wl.server.process_info(reqs[i].session, t) for i in range(2)]
        for i, p in enumerate(procs):
            p["id"] = f"process{reqs[i].session.spid:04x}{occ.k:04x}"
            p["lockMode"] = "U"
            p["waitresource"] = keys[1 - i]
        resources = []
        for i in range(2):
            lock = self.locks[i] or wl.server.lock_object(self.database_id, "dbo", f"DeadlockTable{i + 1}")
            r = {"type": lock["type"], "id": f"lock{0x2A9C1B7E380 + 0x1000 * i + 0x40 * occ.k:x}",
                 "dbid": self.database_id, "objectname": lock["objectname"], "mode": "X",
                 "associatedObjectId": lock["hobtid"],
                 "owners": [{"id": procs[i]["id"], "mode": "X"}],
                 "waiters": [{"id": procs[1 - i]["id"], "mode": "U", "requestType": "wait"}]}
            if lock["type"] == "ridlock":
                r.update(fileid=lock["fileid"], pageid=lock["pageid"])
            else:
                r.update(hobtid=lock["hobtid"], indexname=lock["indexname"])
            resources.append(r)
        victims = [procs[victim]["id"]]
        wl.server.xe.emit_deadlock(wl.server.dt(t), victims, procs, resources)
        wl.server.truth.deadlock(t, [reqs[victim].session.spid], [r.session.spid for r in reqs])
        wl.server.deadlock_happened(t)
        # the victim's batch is rolled back (error 1205); the survivor gets its lock and completes
        vs = reqs[victim].session
        wl.unblock(reqs[victim], t)
        wl.finish(reqs[victim], t, record=False)
        vs.open_tran = 0
        wl.unblock(reqs[survivor], t)
        end = t + wl.rng.uniform(0.01, 0.2)
        reqs[survivor].planned_end = end
        self.at(end, occ, self._commit)

    def _commit(self, occ, _=None) -> None:
        req = occ.data["reqs"][0]
        self.wl.finish(req, self.wl.now)
        self.sess[0].open_tran = 0
        self.live = None


class GrantPressure(Actor):
    """More concurrent big-memory queries than the workspace memory holds: the rest wait on
    RESOURCE_SEMAPHORE with a NULL granted_memory_kb, and are granted as others complete."""

    def __init__(self, wl: Workload, spec: dict, index: int):
        super().__init__(wl, spec, index)
        self.sess = [wl.new_session(spec["login"], spec["host"], spec["app"], self.database_id, "scripted",
                                    -rng_offset(wl.rng)) for _ in range(spec["sessions"])]
        self.q = wl.statements_for(spec["statement"], self.database_id)[-1]
        self.requested_kb = int(spec["requested_mb"] * 1024)
        workspace_kb = wl.server.scenario.server.workspace_memory_mb * 1024
        self.capacity = max(1, workspace_kb // self.requested_kb)

    def begin(self, occ: _Occurrence) -> None:
        occ.data.update(granted=0, queue=[], record=self.wl.server.truth.grant_pressure_started(self, occ.t0))
        for i, s in enumerate(self.sess):
            self.at(occ.t0 + i * 0.2, occ, self._submit, s)
        self.at(occ.t0 + self.spec["duration"], occ, self._window_end)

    def _submit(self, occ, s: SimSession) -> None:
        wl = self.wl
        t = wl.now
        req = wl.start_request(s, self.q, t, command="SELECT", profile="parallel", dop=min(8, wl.spec.max_dop),
                               cpu_frac=3.0, lreads_per_s=400000, phys_frac=0.1, rows_per_s=20)
        req.workers = req.dop * 2
        req.grant = MemoryGrant(self.requested_kb, t, used_fraction=wl.rng.uniform(0.6, 1.0))
        if occ.data["granted"] < self.capacity:
            self._grant(occ, req, t)
        else:
            wl.block(req, t, 0, "RESOURCE_SEMAPHORE", "")
            occ.data["queue"].append(req)
            wl.server.truth.grant_pressure_pending(occ.data["record"], len(occ.data["queue"]))

    def _grant(self, occ, req: SimRequest, t: float) -> None:
        occ.data["granted"] += 1
        req.grant.granted_kb = req.grant.requested_kb
        req.grant.grant_time = t
        self.wl.unblock(req, t)
        end = t + self.spec["query_seconds"] * self.wl.rng.uniform(0.7, 1.3)
        req.planned_end = end
        self.at(end, occ, self._complete, req)

    def _complete(self, occ, req: SimRequest) -> None:
        wl = self.wl
        t = wl.now
        wl.finish(req, t)
        occ.data["granted"] -= 1
        if occ.data["queue"]:
            self._grant(occ, occ.data["queue"].pop(0), t)
        if t < occ.t0 + self.spec["duration"]:
            self.at(t + wl.rng.uniform(0.5, 2.0), occ, self._submit, req.session)
        elif occ.data["granted"] == 0 and not occ.data["queue"]:
            wl.server.truth.grant_pressure_ended(occ.data["record"], t)
            self.live = None

    def _window_end(self, occ, _=None) -> None:
        pass  # no new submissions from now on (checked in _complete); queued requests drain

    def aborted(self, occ, t: float) -> None:
        rec = occ.data.get("record")
        if rec is not None and rec.get("end") is None:
            self.wl.server.truth.grant_pressure_ended(rec, t)


class Runaway(Actor):
    """One parallel query burning CPU for the whole window."""

    def __init__(self, wl: Workload, spec: dict, index: int):
        super().__init__(wl, spec, index)
        self.sess = wl.new_session(spec["login"], spec["host"], spec["app"], self.database_id, "scripted",
                                   -rng_offset(wl.rng))
        self.q = wl.statements_for(spec["statement"], self.database_id)[-1]

    def begin(self, occ: _Occurrence) -> None:
        wl = self.wl
        dop = min(self.spec["dop"], wl.server.scenario.server.cpu_count)
        req = wl.start_request(self.sess, self.q, occ.t0, command="SELECT", profile="parallel", dop=dop,
                               cpu_frac=dop * 0.97, lreads_per_s=2_500_000, phys_frac=0.002, rows_per_s=0.5)
        req.workers = dop * 3
        req.grant = MemoryGrant(512 * 1024, occ.t0, 512 * 1024, occ.t0, 0.4)
        req.planned_end = occ.t0 + self.spec["duration"]
        occ.data["req"] = req
        occ.data["record"] = wl.server.truth.runaway_started(self, req, occ.t0)
        self.at(req.planned_end, occ, self._end)

    def _end(self, occ, _=None) -> None:
        req = occ.data["req"]
        self.wl.finish(req, self.wl.now)
        self.wl.server.truth.runaway_ended(occ.data["record"], self.wl.now, req)
        self.live = None

    def aborted(self, occ, t: float) -> None:
        rec = occ.data.get("record")
        if rec is not None and rec.get("end") is None:
            self.wl.server.truth.runaway_ended(rec, t, occ.data["req"])


def request_metrics(req: SimRequest, t: float) -> dict:
    """Cumulative CPU, reads, writes, rows of a request at t (all grow with its active time)."""
    a = req.active_seconds(t)
    lreads = int(a * req.lreads_per_s) + 3
    return {"cpu_ms": int(a * 1000 * req.cpu_frac), "logical_reads": lreads,
            "reads": int(lreads * req.phys_frac), "writes": int(a * req.writes_per_s),
            "rows": int(a * req.rows_per_s)}


def grant_usage(req: SimRequest, t: float) -> tuple[Optional[int], Optional[int]]:
    """(used_memory_kb, max_used_memory_kb) of a granted request at t; (None, None) while pending."""
    g = req.grant
    if g is None or g.granted_kb is None:
        return None, None
    run = max(0.0, t - (g.grant_time or req.start))
    total = (req.planned_end - (g.grant_time or req.start)) if req.planned_end else 60.0
    ramp = min(1.0, run / max(0.5, 0.3 * max(total, 0.001)))
    used = int(g.granted_kb * g.used_fraction * ramp)
    return used, used
