"""stats_updates and stats_full (sql/collectors/stats.sql): sys.stats + sys.objects +
sys.dm_db_stats_properties, per database (the batch's USE line).

Rows: ServerCounters.stats(database_id): one statistic per index (not heaps; stats_id = index_id, named as
the index) and the auto-created column statistics (_WA_Sys_...). Statistics update themselves when the
modifications pass SQL Server 2016's dynamic threshold (MIN(500 + 20 % of rows, SQRT(1000 x rows))):
last_updated moves, rows / rows_sampled are taken again and modification_counter starts from 0.
@since_filter = 1 keeps those with STATS_DATE >= SYSDATETIME() - @since_ms; TOP (@top_rows) ordered by
object_id, stats_id.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.model.queries import to_seconds
from sim.results import Result, Session

TAGS = ("stats_updates", "stats_full")

COLUMNS = [("schema_name", "nvarchar(128)"), ("object_id", "int"), ("object_name", "nvarchar(128)"),
           ("object_type", "char(2)"), ("stats_id", "int"), ("stats_name", "nvarchar(128)"), ("auto_created", "bit"),
           ("user_created", "bit"), ("no_recompute", "bit"), ("has_filter", "bit"),
           ("filter_definition", "nvarchar(max)"), ("is_temporary", "bit"), ("is_incremental", "bit"),
           ("last_updated", "datetime2(7)"), ("rows", "bigint"), ("rows_sampled", "bigint"), ("steps", "int"),
           ("unfiltered_rows", "bigint"), ("modification_counter", "bigint"), ("persisted_sample_percent", "float")]


def rows(ctx: Ctx) -> list[tuple]:
    c = ctx.server.counters
    dbid = ctx.db.database_id
    top = max(0, ctx.p("top_rows"))
    if top == 0:
        return []
    names = {r["object_id"]: r for r in c.indexes_catalog(dbid)}
    thr = ctx.since_s() if ctx.p("since_filter") != 0 else None
    off = dt.timedelta(minutes=ctx.server.utc_offset_minutes)
    out = []
    for s in sorted(c.stats(dbid), key=lambda r: (r["object_id"], r["stats_id"])):
        lu = s["last_updated"]
        if thr is not None and (lu is None or to_seconds(lu) < thr):
            continue
        o = names.get(s["object_id"])
        out.append((o["schema_name"] if o else "dbo", s["object_id"], o["object_name"] if o else None, "U ",
                    s["stats_id"], s["name"], s["auto_created"], s["user_created"], s["no_recompute"],
                    s["has_filter"], None, 0, s["is_incremental"], lu + off if lu is not None else None,
                    s["rows"], s["rows_sampled"], s["steps"], s["unfiltered_rows"], s["modification_counter"],
                    s["persisted_sample_percent"]))
        if len(out) >= top:
            break
    return out


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in TAGS:
        return None
    return respond(server, session, sql, tag, COLUMNS, rows, params)
