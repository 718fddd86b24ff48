"""query_stats and query_stats_full (sql/collectors/query_stats.sql): sys.dm_exec_query_stats + batch text.

Rows: the plan cache's live entries (sim/model/plancache.py, PlanCache.entries()). Parameters:
  @since_filter = 1: entries created, or whose last execution ended (last_execution_time plus
                     last_elapsed_time, rounded up to the next second), at or after
                     SYSDATETIME() - @since_ms; 0: every entry;
  @top_rows:         TOP by total_worker_time descending;
  @with_text = 1:    batch_text is the batch of the plan (sys.dm_exec_sql_text), else NULL.
The *_spills columns exist from SQL Server 2016 SP2 (13.0.5026) and 2017 CU3 (14.0.3015): an older build
answers error 207, as SQL Server does.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.model.plancache import METRICS
from sim.results import Error, Result, Session

TAGS = ("query_stats", "query_stats_full")

COLUMNS = ([("sql_handle", "varbinary(64)"), ("plan_handle", "varbinary(64)"), ("statement_start_offset", "int"),
            ("statement_end_offset", "int"), ("creation_time", "datetime"), ("last_execution_time", "datetime"),
            ("query_hash", "binary(8)"), ("query_plan_hash", "binary(8)"), ("plan_generation_num", "bigint"),
            ("execution_count", "bigint")]
           + [(f"{p}_{m}", "bigint") for m in METRICS for p in ("total", "last", "min", "max")]
           + [("batch_text", "nvarchar(max)")])
_FIELDS = [n for n, _ in COLUMNS[:-1]]


def _check(ctx: Ctx) -> Optional[Error]:
    v = ctx.server.scenario.server.version.split(".")
    major, build = int(v[0]), int(v[2]) if len(v) > 2 else 0
    if (major == 13 and build < 5026) or (major == 14 and build < 3015):
        return Error(207, "Invalid column name 'total_spills'.", state=1, severity=16)
    return None


def rows(ctx: Ctx) -> list[tuple]:
    pc = ctx.server.plancache
    since = ctx.p("since_filter") != 0
    thr = ctx.since_s() if since else None
    cand = []
    for e in pc.entries():
        if thr is not None:
            end = e.last_execution_time + int(e.last[1] // 1_000_000) + 1     # last_elapsed_time, us
            if e.creation_time < thr and end < thr:
                continue
        cand.append(e)
    cand.sort(key=lambda e: -e.total[0])                                       # total_worker_time
    cand = cand[:max(0, ctx.p("top_rows"))]
    texts = {}
    if ctx.p("with_text") == 1:
        texts = {plan.batch[0].sql_handle: plan.batch[0].text for plan in pc.plans.values()}
    off = dt.timedelta(minutes=ctx.server.utc_offset_minutes)
    out = []
    for e in cand:
        r = e.row()
        vals = [r[n] for n in _FIELDS]
        if off:
            vals[4] += off
            vals[5] += off
        vals.append(texts.get(r["sql_handle"]))
        out.append(tuple(vals))
    return out


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in TAGS:
        return None
    return respond(server, session, sql, tag, COLUMNS, rows, params, _check)
