"""The simulated plan cache: sys.dm_exec_query_stats and sys.dm_exec_procedure_stats, with exact ground truth.

One cached *plan* per batch (QueryCatalog.batches): sql_handle, plan_handle, cached_time. Each statement
of the plan is one *entry* (a row of dm_exec_query_stats), identified by (sql_handle, plan_handle,
statement_start_offset, statement_end_offset, creation_time). An entry's counters only grow during its
lifetime. A lifetime ends when
  - the plan is evicted (all its statements go; the batch's next execution compiles a new plan: new
    cached_time and creation_time, counters from zero). SQL Server evicts under memory pressure by cost, with
    a clock: each round halves an entry's current cost and removes the entries at zero, and every use resets
    the cost, so an entry in use is not evicted. With evict_idle_s > 0 the model follows that: at the end of
    its drawn lifetime the batch stops being executed (the workload moved on), and the plan is evicted only
    after evict_idle_s without any execution (a foreground execution in between postpones it). A plan used
    once keeps the zero cost an ad hoc plan is cached with and goes at the end of its lifetime. With 0 (the
    default of the model) the plan is evicted at the end of its lifetime, even in the middle of use: the
    pessimistic case, kept for tests of the analysis,
  - the statement recompiles (statement-level: creation_time = recompile time, plan_generation_num + 1,
    counters from zero; the plan and its cached_time stay),
  - the server restarts (restart(): the cache is empty).
Rows appear once a statement has completed at least one execution, as in SQL Server.

Work is lazy so that thousands of entries are cheap: advance() only handles discrete events (evictions,
recompiles, the first execution that re-inserts an evicted batch), O(events). Background executions of a
plan (its batch's rate_per_s) are drawn when the plan is *synced*: before it is read (entries(), rows,
truth()) and before any event touches it. A sync draws one Poisson count per truth bucket the interval
crosses, one aggregated set of counters per statement for all of them (total/last/min/max kept
consistent: min <= last <= max, min*count <= total <= max*count), and splits the totals over the buckets
exactly. Executions are never looped one by one.

Ground truth: every execution (background, foreground execute(), executions before an eviction or a
restart) is added to a per-bucket, per-query_hash table of cpu_us, logical_reads, physical_reads, writes,
executions, elapsed_us. truth(t0, t1) sums the buckets whose start lies in [t0, t1); it is exact for
windows aligned to the bucket size (cfg truth_bucket_s, 60 s by default; aligned hourly / per-minute
windows are exact). A background execution belongs to the moment it is drawn at; a foreground execution
to the time it completed (the moment its counters land in the view). Counters from before the cache's
start (the warm cache's history) are not in the truth.

cfg keys (all optional):
  truth_bucket_s         truth resolution in seconds (60)
  lifetime_median_s      median plan lifetime for a plan executed about once a minute (14400)
  lifetime_sigma         lognormal sigma of lifetimes (1.0)
  hot_lifetime_factor    how much longer hot plans live: lifetime x clamp(sqrt(executions per minute), 1/f, f) (10)
  recompile_per_hour     statement recompiles per plan per hour (0.05; x20 for heavy reports)
  evict_idle_s           unused time before a plan whose lifetime ended is evicted (0: evicted in use)
  warm_start             start with a warm cache (plans of various ages with history) (True)
  warm_max_age_s         oldest warm plan (86400)
  rate_scale             multiplies every batch's background rate (1.0)
  single_use_share       share of ad hoc batches run once and then rarely (plan churn) (0.0)
  keep_ended             keep the final row of every ended lifetime in .ended_rows (tests, debugging) (False)
"""
from __future__ import annotations

import heapq
import math
import random
from typing import Any, Iterator, Optional

from .queries import QueryCatalog, QueryTemplate, poisson, sql_datetime, to_seconds, hex_binary

# counters kept per entry: total_/last_/min_/max_<name>
METRICS = ("worker_time", "elapsed_time", "logical_reads", "physical_reads", "logical_writes", "rows", "dop",
           "grant_kb", "used_grant_kb", "ideal_grant_kb", "reserved_threads", "used_threads", "spills", "clr_time")
(W, E, LR, PR, LW, ROWS, DOP, GR, UGR, IGR, RT, UT, SP, CLR) = range(len(METRICS))
_NM = len(METRICS)
_FLAT = frozenset((DOP, RT, UT, IGR))      # the same for every execution of a plan: last = min = max = mean
# truth vector layout
TRUTH_KEYS = ("cpu_us", "logical_reads", "physical_reads", "writes", "executions", "elapsed_us")
_TRUTH_FROM = (W, LR, PR, LW, None, E)       # metric index per truth key (executions separately)

_EXPIRE, _RECOMPILE, _INSERT = 0, 1, 2

CONFIG_KEYS = frozenset({"truth_bucket_s", "lifetime_median_s", "lifetime_sigma", "hot_lifetime_factor",
                         "recompile_per_hour", "warm_start", "warm_max_age_s", "rate_scale", "single_use_share",
                         "keep_ended", "evict_idle_s"})


class Entry:
    """One row of sys.dm_exec_query_stats: a statement of a cached plan during one lifetime."""
    __slots__ = ("q", "plan", "creation_time", "plan_generation_num", "last_execution_time", "execution_count",
                 "total", "last", "min", "max", "_row", "ended_at")

    def __init__(self, q: QueryTemplate, plan: "Plan", creation_time: float, plan_generation_num: int):
        self.q = q
        self.plan = plan
        self.creation_time = creation_time
        self.plan_generation_num = plan_generation_num
        self.last_execution_time = creation_time
        self.execution_count = 0
        n = len(METRICS)
        self.total = [0] * n
        self.last = [0] * n
        self.min = [0] * n
        self.max = [0] * n
        self._row: Optional[dict] = None
        self.ended_at: Optional[float] = None   # when the lifetime ended (evicted, recompiled, restarted away)

    # identity of one lifetime
    @property
    def key(self) -> tuple:
        q = self.q
        return (q.sql_handle, q.plan_handle, q.statement_start_offset, q.statement_end_offset, self.creation_time)

    def row(self) -> dict:
        """The dm_exec_query_stats row (column name -> value; datetime columns rounded as 'datetime').
        Cached until the entry changes; treat it as read-only."""
        r = self._row
        if r is not None:
            return r
        q = self.q
        vals = [q.sql_handle, q.statement_start_offset, q.statement_end_offset, self.plan_generation_num,
                q.plan_handle, sql_datetime(self.creation_time), sql_datetime(self.last_execution_time),
                self.execution_count]
        for i in range(len(METRICS)):
            vals += (self.total[i], self.last[i], self.min[i], self.max[i])
        vals += (q.query_hash, q.query_plan_hash, None, None, q.database_id, q.object_id)
        r = self._row = dict(zip(QUERY_STATS_COLUMNS, vals))
        return r


# row keys of Entry.row(): the DMV's columns, then database_id / object_id for convenience
QUERY_STATS_COLUMNS = (["sql_handle", "statement_start_offset", "statement_end_offset", "plan_generation_num",
                        "plan_handle", "creation_time", "last_execution_time", "execution_count"]
                       + [f"{p}_{m}" for m in METRICS for p in ("total", "last", "min", "max")]
                       + ["query_hash", "query_plan_hash", "statement_sql_handle", "statement_context_id",
                          "database_id", "object_id"])


class Plan:
    """One cached plan (a batch): its statements' entries and, for procedures, procedure stats."""
    __slots__ = ("batch", "batch_id", "cached_time", "synced_to", "rate", "version", "entries", "kind",
                 "proc_count", "proc_total", "proc_last", "proc_min", "proc_max", "proc_last_exec", "idle_from")

    def __init__(self, batch: list[QueryTemplate], cached_time: float, rate: float, version: int):
        self.batch = batch
        self.batch_id = batch[0].batch_id
        self.cached_time = cached_time
        self.synced_to = cached_time
        self.rate = rate
        self.version = version
        self.entries = [Entry(q, self, cached_time, 1) for q in batch]
        self.kind = batch[0].kind
        self.proc_count = 0
        self.proc_total = [0] * 6     # worker, elapsed, logical_reads, physical_reads, logical_writes, spills
        self.proc_last = [0] * 6
        self.proc_min = [0] * 6
        self.proc_max = [0] * 6
        self.proc_last_exec = cached_time
        self.idle_from: Optional[float] = None   # no background executions from then on (evict_idle_s)


_PROC_FROM = (W, E, LR, PR, LW, SP)
_PROC_NAMES = ("worker_time", "elapsed_time", "logical_reads", "physical_reads", "logical_writes", "spills")


class PlanCache:
    def __init__(self, rng: random.Random, catalog: QueryCatalog, cfg: Optional[dict] = None):
        cfg = dict(cfg or {})
        self.rng = rng
        self.catalog = catalog
        self.cfg = cfg
        self.bucket = float(cfg.get("truth_bucket_s", 60.0))
        self.lifetime_median = float(cfg.get("lifetime_median_s", 14400.0))
        self.lifetime_sigma = float(cfg.get("lifetime_sigma", 1.0))
        self.hot_factor = float(cfg.get("hot_lifetime_factor", 10.0))
        self.recompile_per_s = float(cfg.get("recompile_per_hour", 0.05)) / 3600.0
        self.evict_idle = float(cfg.get("evict_idle_s", 0.0))
        self.warm_start = bool(cfg.get("warm_start", True))
        self.warm_max_age = float(cfg.get("warm_max_age_s", 86400.0))
        scale = float(cfg.get("rate_scale", 1.0))
        single_use = float(cfg.get("single_use_share", 0.0))
        # per-batch background rate (executions of the whole batch per second)
        self.rates: list[float] = []
        for batch in catalog.batches:
            r = batch[0].rate_per_s * scale
            if single_use and batch[0].kind == "adhoc" and rng.random() < single_use:
                r = min(r, 1.0 / 3600.0)
            self.rates.append(r)
        self.plans: dict[int, Plan] = {}
        self._heap: list[tuple] = []
        self._seq = 0
        self._version = 0
        self.now: Optional[float] = None
        self.started_at: Optional[float] = None
        self._truth: dict[int, dict[bytes, list[int]]] = {}
        # CPU per bucket per lifetime (Entry), for truth restricted to lifetimes of a minimum length
        self._truth_cpu: dict[int, dict[Entry, int]] = {}
        self._churn: dict[int, list[int]] = {}     # bucket -> [entries created, entries ended, recompiles]
        self.restarts: list[float] = []
        self.keep_ended = bool(cfg.get("keep_ended", False))
        self.ended_rows: list[dict] = []

    # ------------------------------------------------------------------------------------------------
    # lifecycle

    def _lifetime(self, rate: float) -> float:
        f = self.hot_factor
        hot = min(f, max(1.0 / f, math.sqrt(max(rate * 60.0, 1e-9))))
        return self.lifetime_median * hot * math.exp(self.rng.gauss(0.0, self.lifetime_sigma))

    def _push(self, t: float, kind: int, batch_id: int, version: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, batch_id, version))

    def _schedule_plan(self, plan: Plan, t: float, remaining: Optional[float] = None) -> None:
        life = self._lifetime(plan.rate) if remaining is None else remaining
        self._push(t + life, _EXPIRE, plan.batch_id, plan.version)
        rr = self.recompile_per_s * (20.0 if any(q.heavy for q in plan.batch) else 1.0)
        if rr > 0:
            self._push(t + self.rng.expovariate(rr), _RECOMPILE, plan.batch_id, plan.version)

    def _schedule_insert(self, batch_id: int, t: float) -> None:
        r = self.rates[batch_id]
        if r > 0:
            self._push(t + self.rng.expovariate(r), _INSERT, batch_id, -1)

    def _ended(self, entries, t: float) -> None:
        for e in entries:
            if e.ended_at is None:
                e.ended_at = t
        if self.keep_ended:
            self.ended_rows.extend(dict(e.row()) for e in entries if e.execution_count > 0)

    def _churn_add(self, t: float, idx: int, k: int = 1) -> None:
        b = int(t // self.bucket)
        c = self._churn.get(b)
        if c is None:
            c = self._churn[b] = [0, 0, 0]
        c[idx] += k

    def _new_plan(self, batch_id: int, t: float) -> Plan:
        self._version += 1
        plan = Plan(self.catalog.batches[batch_id], t, self.rates[batch_id], self._version)
        self.plans[batch_id] = plan
        self._churn_add(t, 0, len(plan.entries))
        return plan

    def _start(self, t: float) -> None:
        self.started_at = t
        self.now = t
        rng = self.rng
        for batch_id, batch in enumerate(self.catalog.batches):
            rate = self.rates[batch_id]
            if rate <= 0:
                continue
            if not self.warm_start:
                self._schedule_insert(batch_id, t)
                continue
            life = min(self._lifetime(rate), self.warm_max_age * 2)
            age = rng.uniform(0.0, min(life, self.warm_max_age))
            # was the batch executed during that age? otherwise it is not cached now
            first_gap = rng.expovariate(rate)
            if first_gap > age:
                self._schedule_insert(batch_id, t)
                continue
            created = t - age
            plan = self._new_plan(batch_id, created)
            n = 1 + poisson(rng, rate * (age - first_gap))
            self._apply(plan, n, created, t, record_truth=False)
            plan.synced_to = t
            self._schedule_plan(plan, t, remaining=max(1.0, life - age))

    def restart(self, now: Any, up_at: Any = None) -> None:
        """SQL Server stopped at now: everything executed so far is in the truth, the cache is empty.
        up_at: when it accepts work again (no background executions before; default: at once)."""
        t = to_seconds(now)
        up = t if up_at is None else max(t, to_seconds(up_at))
        if self.now is None:
            self.started_at = t
        else:
            if t > self.now:
                self.advance(self.now, t)
            self._sync_all(t)
            for plan in self.plans.values():
                self._churn_add(t, 1, len(plan.entries))
                self._ended(plan.entries, t)
        self.plans.clear()
        self._heap.clear()
        self.now = t
        self.restarts.append(t)
        for batch_id in range(len(self.catalog.batches)):
            self._schedule_insert(batch_id, up)

    def advance(self, t0: Any, t1: Any) -> None:
        """Simulate [t0, t1): evictions, recompiles and re-insertions happen at their times; background
        executions are drawn lazily (see the module notes)."""
        a, b = to_seconds(t0), to_seconds(t1)
        if self.now is None:
            self._start(a)
        heap = self._heap
        while heap and heap[0][0] < b:
            te, _, kind, batch_id, version = heapq.heappop(heap)
            te = max(te, self.now if self.now is not None else te)
            if kind == _INSERT:
                if batch_id in self.plans:
                    continue
                plan = self._new_plan(batch_id, te)
                self._apply(plan, 1, te, te)
                plan.synced_to = te
                self._schedule_plan(plan, te)
                continue
            plan = self.plans.get(batch_id)
            if plan is None or plan.version != version:
                continue
            if kind == _RECOMPILE and plan.idle_from is not None:
                continue    # a statement recompiles when it runs; an idle plan does not run
            self._sync(plan, te)
            if kind == _EXPIRE and self.evict_idle > 0 and max(e.execution_count for e in plan.entries) > 1:
                if plan.idle_from is None:      # the workload stops using the batch; the clock evicts later
                    plan.idle_from = te
                    self._push(te + self.evict_idle, _EXPIRE, batch_id, version)
                    continue
                used = max(e.last_execution_time for e in plan.entries)
                if used + self.evict_idle > te + 1e-6:     # a foreground execution reset its cost
                    self._push(used + self.evict_idle, _EXPIRE, batch_id, version)
                    continue
            if kind == _EXPIRE:
                del self.plans[batch_id]
                self._churn_add(te, 1, len(plan.entries))
                self._ended(plan.entries, te)
                self._schedule_insert(batch_id, te)
            else:  # _RECOMPILE one statement
                i = self.rng.randrange(len(plan.entries))
                old = plan.entries[i]
                self._ended([old], te)
                plan.entries[i] = Entry(old.q, plan, te, old.plan_generation_num + 1)
                self._churn_add(te, 1)
                self._churn_add(te, 0)
                self._churn_add(te, 2)
                rr = self.recompile_per_s * (20.0 if any(q.heavy for q in plan.batch) else 1.0)
                self._push(te + self.rng.expovariate(rr), _RECOMPILE, batch_id, plan.version)
        self.now = max(b, self.now or b)

    # ------------------------------------------------------------------------------------------------
    # executions

    def _sync(self, plan: Plan, t: float) -> None:
        a = plan.synced_to
        if t <= a:
            return
        if plan.idle_from is not None and plan.idle_from < t:
            if plan.idle_from > a:
                self._sync(plan, plan.idle_from)
            plan.synced_to = t
            return
        rate = plan.rate
        if rate > 0.0:
            B = self.bucket
            rng = self.rng
            ka, kt = int(a // B), int(t // B)
            if ka == kt:
                n = poisson(rng, rate * (t - a))
                if n:
                    self._apply_split(plan, [(ka, n, a, t)])
            else:
                counts = []
                for k in range(ka, kt + 1):
                    x = a if k == ka else k * B
                    b = t if k == kt else (k + 1) * B
                    if b <= x:
                        continue
                    n = poisson(rng, rate * (b - x))
                    if n:
                        counts.append((k, n, x, b))
                if counts:
                    self._apply_split(plan, counts)
        plan.synced_to = t

    def _sync_all(self, t: float) -> None:
        for plan in self.plans.values():
            self._sync(plan, t)

    def _draw(self, e: Entry, n: int) -> tuple[list[int], list[int], list[int], list[int]]:
        """Aggregated counters of n executions of e's statement: (total, last, lo, hi) per metric.

        Hot path (the warm start draws one per cached statement): random.uniform(a, b) is inlined as
        a + (b - a) * random(), which is what it computes, so the draws are the same as with the calls.
        The lists returned are read, never changed, by the callers (for n == 1 they are one list)."""
        q = e.q
        rng = self.rng
        rand = rng.random
        cv = q.cv
        dop = q.dop
        if n == 1:
            f = rng.lognormvariate(-cv * cv / 2.0, cv)
        else:
            f = max(0.05, rng.gauss(1.0, cv / math.sqrt(n)))
        tot = [0] * _NM
        for i, m in ((W, q.cpu_us), (E, q.mean_elapsed_us()), (LR, q.logical_reads), (PR, q.physical_reads),
                     (LW, q.writes), (ROWS, q.rows)):
            if m <= 0:
                continue
            total = int(round(m * n * f * (0.92 + (1.08 - 0.92) * rand())))
            if i == W or i == E:
                if total < n:
                    total = n
            elif i == ROWS and total < 0:
                total = 0
            tot[i] = total
        # memory grant, parallelism, spills
        if q.grant_kb > 0:
            ideal = int(q.grant_kb)
            g = int(ideal * (0.7 + (1.0 - 0.7) * rand()))
            tot[IGR] = ideal * n
            tot[GR] = g * n
            tot[UGR] = int(g * n * (0.2 + (0.9 - 0.2) * rand()))
        tot[DOP] = dop * n
        if dop > 1:
            tot[RT] = tot[UT] = 2 * dop * n
        if q.spills > 0 and rand() < 0.3:
            tot[SP] = int(q.spills * n * (0.2 + (1.5 - 0.2) * rand()))
        if n == 1:
            return tot, tot, tot, tot
        last = [0] * _NM
        lo = [0] * _NM
        hi = [0] * _NM
        mu = -cv * cv / 2.0
        lognorm = rng.lognormvariate
        ceil = math.ceil
        for i in range(_NM):
            total = tot[i]
            if total == 0:
                continue
            avg = total / n
            if i in _FLAT:
                last[i] = lo[i] = hi[i] = int(avg)
                tot[i] = int(avg) * n
                continue
            low = int(avg)
            x = int(avg * (0.2 + (1.0 - 0.2) * rand()))
            if x < low:
                low = x
            high = ceil(avg)
            x = int(avg * (1.0 + 3.0 * rand()))
            if x > high:
                high = x
            cap = total - (n - 1) * low
            if cap < high:
                high = cap
            one = int(avg * lognorm(mu, cv))
            last[i] = high if one > high else (low if one < low else one)
            lo[i] = low
            hi[i] = high
        return tot, last, lo, hi

    def _add(self, e: Entry, n: int, tot, last, lo, hi, last_exec: float) -> None:
        e._row = None
        et, el, emn, emx = e.total, e.last, e.min, e.max
        if e.execution_count == 0:
            for i in range(_NM):
                et[i] += tot[i]
            el[:] = last
            emn[:] = lo
            emx[:] = hi
        else:
            for i in range(_NM):
                et[i] += tot[i]
                if lo[i] < emn[i]:
                    emn[i] = lo[i]
                if hi[i] > emx[i]:
                    emx[i] = hi[i]
            el[:] = last
        e.execution_count += n
        if last_exec > e.last_execution_time:
            e.last_execution_time = last_exec

    def _truth_add(self, bucket: int, qh: bytes, vals: tuple, entry: Optional[Entry] = None) -> None:
        if entry is not None:
            tc = self._truth_cpu.get(bucket)
            if tc is None:
                tc = self._truth_cpu[bucket] = {}
            tc[entry] = tc.get(entry, 0) + vals[0]
        tb = self._truth.get(bucket)
        if tb is None:
            tb = self._truth[bucket] = {}
        v = tb.get(qh)
        if v is None:
            tb[qh] = list(vals)
        else:
            for i in range(6):
                v[i] += vals[i]

    def _proc_add(self, plan: Plan, n: int, parts: list, last_exec: float) -> None:
        """parts: per statement (tot, last, lo, hi) for n executions of the whole procedure."""
        first = plan.proc_count == 0
        plan.proc_count += n
        for k, mi in enumerate(_PROC_FROM):
            t = sum(p[0][mi] for p in parts)
            la = sum(p[1][mi] for p in parts)
            lo = sum(p[2][mi] for p in parts)
            hi = sum(p[3][mi] for p in parts)
            plan.proc_total[k] += t
            plan.proc_last[k] = la
            if first or lo < plan.proc_min[k]:
                plan.proc_min[k] = lo
            if first or hi > plan.proc_max[k]:
                plan.proc_max[k] = hi
        if last_exec > plan.proc_last_exec:
            plan.proc_last_exec = last_exec

    def _apply(self, plan: Plan, n: int, a: float, b: float, record_truth: bool = True) -> None:
        """n executions of the whole batch in [a, b] (truth: the bucket of a)."""
        self._apply_split(plan, [(int(a // self.bucket), n, a, b)], record_truth)

    def _apply_split(self, plan: Plan, counts: list, record_truth: bool = True) -> None:
        """counts: [(bucket, n, seg_start, seg_end)] in time order; one draw per statement for all of them."""
        n = sum(c[1] for c in counts)
        _, n_last, a_last, b_last = counts[-1]
        # start of the last execution: the latest of n_last uniform times in the last segment
        last_exec = a_last + (b_last - a_last) * (self.rng.random() ** (1.0 / n_last)) if b_last > a_last else b_last
        parts = []
        for e in plan.entries:
            tot, last, lo, hi = self._draw(e, n)
            self._add(e, n, tot, last, lo, hi, last_exec)
            parts.append((tot, last, lo, hi))
            if record_truth:
                vals = (tot[W], tot[LR], tot[PR], tot[LW], n, tot[E])
                qh = e.q.query_hash
                if len(counts) == 1:
                    self._truth_add(counts[0][0], qh, vals, e)
                else:
                    # split totals over the buckets in proportion to executions, exactly
                    done = [0] * 6
                    cum = 0
                    for bucket, k, _, _ in counts:
                        cum += k
                        share = tuple(vals[j] * cum // n - done[j] for j in range(6))
                        for j in range(6):
                            done[j] += share[j]
                        self._truth_add(bucket, qh, share, e)
        if plan.kind == "proc":
            self._proc_add(plan, n, parts, last_exec)

    def execute(self, q: QueryTemplate, now: Any, cpu_us: int, elapsed_us: int, logical_reads: int,
                physical_reads: int, writes: int, rows: int, grant_kb: int = 0, used_grant_kb: int = 0,
                spills: int = 0, dop: int = 1, ideal_grant_kb: Optional[int] = None) -> Entry:
        """One completed foreground execution of q's statement (a simulated request finished at now).
        Compiles the batch's plan first if it is not cached (creation_time = the execution's start)."""
        t = to_seconds(now)
        start = t - elapsed_us / 1e6
        if self.now is None:
            self._start(start)
        plan = self.plans.get(q.batch_id)
        if plan is None:
            plan = self._new_plan(q.batch_id, start)
            self._schedule_plan(plan, start)
        else:
            self._sync(plan, start)
        e = plan.entries[q.statement_index]
        vals = [0] * len(METRICS)
        vals[W], vals[E], vals[LR], vals[PR], vals[LW], vals[ROWS] = cpu_us, elapsed_us, logical_reads, physical_reads, writes, rows
        vals[DOP] = dop
        vals[GR], vals[UGR], vals[IGR] = grant_kb, used_grant_kb, grant_kb if ideal_grant_kb is None else ideal_grant_kb
        if dop > 1:
            vals[RT] = vals[UT] = 2 * dop
        vals[SP] = spills
        self._add(e, 1, vals, vals, vals, vals, start)
        self._truth_add(int(t // self.bucket), q.query_hash, (cpu_us, logical_reads, physical_reads, writes, 1, elapsed_us), e)
        if plan.kind == "proc":
            if q.statement_index == 0:
                self._proc_add(plan, 1, [(vals, vals, vals, vals)], start)
            else:   # later statements of the same call: add to the totals, not to the call count
                for k, mi in enumerate(_PROC_FROM):
                    plan.proc_total[k] += vals[mi]
                    plan.proc_last[k] += vals[mi]
        return e

    # ------------------------------------------------------------------------------------------------
    # reading

    def entries(self) -> Iterator[Entry]:
        """Live entries (statements executed at least once in their lifetime), synced to now."""
        t = self.now
        for plan in list(self.plans.values()):
            if t is not None:
                self._sync(plan, t)
            for e in plan.entries:
                if e.execution_count > 0:
                    yield e

    def query_stats_rows(self, since: Any = None) -> list[dict]:
        """sys.dm_exec_query_stats as rows of dicts (DMV column names). since: only entries executed or
        created at or after that time (the per-minute collector's filter), cheaper than building all rows."""
        if since is None:
            return [e.row() for e in self.entries()]
        s = to_seconds(since)
        return [e.row() for e in self.entries() if e.last_execution_time >= s or e.creation_time >= s]

    def procedure_stats_rows(self) -> list[dict]:
        """sys.dm_exec_procedure_stats rows for cached procedure plans executed at least once."""
        out = []
        t = self.now
        for plan in list(self.plans.values()):
            if plan.kind != "proc":
                continue
            if t is not None:
                self._sync(plan, t)
            if plan.proc_count == 0:
                continue
            q = plan.batch[0]
            r: dict[str, Any] = {
                "database_id": q.database_id, "object_id": q.object_id, "type": "P ",
                "type_desc": "SQL_STORED_PROCEDURE", "sql_handle": q.sql_handle, "plan_handle": q.plan_handle,
                "cached_time": sql_datetime(plan.cached_time), "last_execution_time": sql_datetime(plan.proc_last_exec),
                "execution_count": plan.proc_count, "object_name": q.object_name,
            }
            for k, name in enumerate(_PROC_NAMES):
                r["total_" + name] = plan.proc_total[k]
                r["last_" + name] = plan.proc_last[k]
                r["min_" + name] = plan.proc_min[k]
                r["max_" + name] = plan.proc_max[k]
            out.append(r)
        return out

    def text_for_handle(self, sql_handle: bytes) -> Optional[str]:
        """sys.dm_exec_sql_text: the text while a plan with that handle is cached, else None."""
        for plan in self.plans.values():
            if plan.batch[0].sql_handle == sql_handle:
                return plan.batch[0].text
        return None

    def truth(self, t0: Any, t1: Any) -> dict[str, dict[str, int]]:
        """True totals per query_hash ('0x' + uppercase hex) of every execution in [t0, t1), including
        entries evicted, recompiled or lost to a restart in between. Exact for bucket-aligned windows."""
        if self.now is not None:
            self._sync_all(self.now)
        a, b = to_seconds(t0), to_seconds(t1)
        B = self.bucket
        lo, hi = math.ceil(a / B - 1e-9), math.ceil(b / B - 1e-9)
        out: dict[str, dict[str, int]] = {}
        for bucket in range(lo, hi):
            tb = self._truth.get(bucket)
            if not tb:
                continue
            for qh, v in tb.items():
                key = hex_binary(qh)
                d = out.get(key)
                if d is None:
                    out[key] = dict(zip(TRUTH_KEYS, v))
                else:
                    for i, k in enumerate(TRUTH_KEYS):
                        d[k] += v[i]
        return out

    def truth_long_lived(self, t0: Any, t1: Any, min_lifetime_s: float) -> dict[str, int]:
        """CPU (us) per query_hash in [t0, t1) of the plan lifetimes that lasted at least min_lifetime_s (from
        creation to eviction, recompile or restart; lifetimes still cached count up to now)."""
        if self.now is not None:
            self._sync_all(self.now)
        a, b = to_seconds(t0), to_seconds(t1)
        B = self.bucket
        lo, hi = math.ceil(a / B - 1e-9), math.ceil(b / B - 1e-9)
        now = self.now if self.now is not None else b
        out: dict[str, int] = {}
        for bucket in range(lo, hi):
            for e, cpu in (self._truth_cpu.get(bucket) or {}).items():
                end = e.ended_at if e.ended_at is not None else now
                if end - e.creation_time >= min_lifetime_s:
                    key = hex_binary(e.q.query_hash)
                    out[key] = out.get(key, 0) + cpu
        return out

    def churn(self, t0: Any, t1: Any) -> dict[str, int]:
        """Entries created and ended (evicted, recompiled, restarted away) and recompiles in [t0, t1)."""
        a, b = to_seconds(t0), to_seconds(t1)
        B = self.bucket
        lo, hi = math.ceil(a / B - 1e-9), math.ceil(b / B - 1e-9)
        c = [0, 0, 0]
        for bucket in range(lo, hi):
            v = self._churn.get(bucket)
            if v:
                for i in range(3):
                    c[i] += v[i]
        return {"created": c[0], "ended": c[1], "recompiles": c[2]}

    def __len__(self) -> int:
        return sum(len(p.entries) for p in self.plans.values())
