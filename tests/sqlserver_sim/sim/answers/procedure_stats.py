"""procedure_stats (sql/collectors/procedure_stats.sql): sys.dm_exec_procedure_stats, procedures executed
since the previous run.

Rows: the plan cache's procedure plans executed at least once (PlanCache.procedure_stats_rows()), kept when
cached_time >= SYSDATETIME() - @since_ms or when the last execution ended inside that window
(last_execution_time + last_elapsed_time rounded up to the next second); TOP (@top_rows) by
total_worker_time descending. object_name is OBJECT_NAME(object_id, database_id): the name without schema.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.model.queries import to_seconds
from sim.results import Result, Session

TAGS = ("procedure_stats",)

_METRICS = ("worker_time", "elapsed_time", "logical_reads", "physical_reads", "logical_writes")
COLUMNS = ([("database_id", "int"), ("object_id", "int"), ("object_name", "nvarchar(128)"), ("type", "char(2)"),
            ("plan_handle", "varbinary(64)"), ("sql_handle", "varbinary(64)"), ("cached_time", "datetime"),
            ("last_execution_time", "datetime"), ("execution_count", "bigint")]
           + [(f"{p}_{m}", "bigint") for m in _METRICS for p in ("total", "last", "min", "max")])
_FIELDS = [n for n, _ in COLUMNS]


def rows(ctx: Ctx) -> list[tuple]:
    thr = ctx.since_s()
    cand = []
    for r in ctx.server.plancache.procedure_stats_rows():
        end = to_seconds(r["last_execution_time"]) + int(r["last_elapsed_time"] // 1_000_000) + 1
        if to_seconds(r["cached_time"]) >= thr or end >= thr:
            cand.append(r)
    cand.sort(key=lambda r: -r["total_worker_time"])
    off = dt.timedelta(minutes=ctx.server.utc_offset_minutes)
    out = []
    for r in cand[:max(0, ctx.p("top_rows"))]:
        r = dict(r)
        name = r.get("object_name")
        r["object_name"] = name.split(".")[-1] if name else None
        r["cached_time"] += off
        r["last_execution_time"] += off
        out.append(tuple(r.get(n) for n in _FIELDS))
    return out


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in TAGS:
        return None
    return respond(server, session, sql, tag, COLUMNS, rows, params)
