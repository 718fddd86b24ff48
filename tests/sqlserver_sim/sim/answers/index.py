"""Per-database index collectors, answered for the database of the batch's USE line:

  index_usage, index_usage_full (sql/collectors/index_usage.sql): sys.indexes + sys.objects +
      sys.dm_db_index_usage_stats + sys.dm_db_partition_stats summed per index. @since_filter = 1 keeps the
      indexes with a user seek, scan, lookup or update at or after SYSDATETIME() - @since_ms; 0 keeps every
      index and heap. TOP (@top_rows) ordered by object_id, index_id. An index not used since the instance
      started has NULL usage columns (the LEFT JOIN finds no usage row).
  index_operational (sql/collectors/index_operational.sql): sys.dm_db_index_operational_stats summed over
      partitions, indexes with any activity, TOP (@top_rows) ordered by object_id, index_id.

Rows: the counters model's tables and indexes (sim/model/counters.py: indexes_catalog, index_usage_stats,
index_operational_stats, partition_stats, each for one database). Every table is a user table ('U ').
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.model.queries import to_seconds
from sim.results import Result, Session

TAGS = ("index_usage", "index_usage_full", "index_operational")

_USAGE = ("user_seeks", "user_scans", "user_lookups", "user_updates", "last_user_seek", "last_user_scan",
          "last_user_lookup", "last_user_update", "system_seeks", "system_scans", "system_lookups",
          "system_updates", "last_system_seek", "last_system_scan", "last_system_lookup", "last_system_update")
USAGE_COLUMNS = ([("schema_name", "nvarchar(128)"), ("object_id", "int"), ("object_name", "nvarchar(128)"),
                  ("object_type", "char(2)"), ("index_id", "int"), ("index_name", "nvarchar(128)"),
                  ("type_desc", "nvarchar(60)"), ("is_unique", "bit"), ("is_primary_key", "bit"),
                  ("is_disabled", "bit"), ("has_filter", "bit"), ("fill_factor", "tinyint")]
                 + [(n, "datetime" if n.startswith("last_") else "bigint") for n in _USAGE]
                 + [("partition_count", "int"), ("row_count", "bigint"), ("used_page_count", "bigint"),
                    ("reserved_page_count", "bigint")])

_OPS = ("leaf_insert_count", "leaf_update_count", "leaf_delete_count", "leaf_ghost_count", "nonleaf_insert_count",
        "nonleaf_update_count", "nonleaf_delete_count", "leaf_allocation_count", "nonleaf_allocation_count",
        "range_scan_count", "singleton_lookup_count", "forwarded_fetch_count", "row_lock_count",
        "row_lock_wait_count", "row_lock_wait_in_ms", "page_lock_count", "page_lock_wait_count",
        "page_lock_wait_in_ms", "index_lock_promotion_attempt_count", "index_lock_promotion_count",
        "page_latch_wait_count", "page_latch_wait_in_ms", "page_io_latch_wait_count", "page_io_latch_wait_in_ms")
_ACTIVITY = ("leaf_insert_count", "leaf_update_count", "leaf_delete_count", "leaf_ghost_count", "range_scan_count",
             "singleton_lookup_count", "forwarded_fetch_count", "row_lock_count", "page_lock_count",
             "index_lock_promotion_attempt_count", "page_latch_wait_count", "page_io_latch_wait_count")
OPERATIONAL_COLUMNS = ([("schema_name", "nvarchar(128)"), ("object_id", "int"), ("object_name", "nvarchar(128)"),
                        ("index_id", "int"), ("index_name", "nvarchar(128)"), ("type_desc", "nvarchar(60)"),
                        ("partition_count", "int")]
                       + [(n, "bigint") for n in _OPS])


def _usage_rows(ctx: Ctx) -> list[tuple]:
    c = ctx.server.counters
    dbid = ctx.db.database_id
    usage = {(u["object_id"], u["index_id"]): u for u in c.index_usage_stats(dbid)}
    since = ctx.p("since_filter") != 0
    thr = ctx.since_s() if since else None
    off = dt.timedelta(minutes=ctx.server.utc_offset_minutes)
    top = max(0, ctx.p("top_rows"))
    kept = []
    if top == 0:
        return []
    for ix in sorted(c.indexes_catalog(dbid), key=lambda r: (r["object_id"], r["index_id"])):
        u = usage.get((ix["object_id"], ix["index_id"]))
        if thr is not None:
            if u is None or not any(u[k] is not None and to_seconds(u[k]) >= thr
                                    for k in ("last_user_seek", "last_user_scan", "last_user_lookup",
                                              "last_user_update")):
                continue
        kept.append((ix, u))
        if len(kept) >= top:
            break
    if not kept:
        return []
    parts: dict[tuple, list[int]] = {}
    for p in c.partition_stats(dbid):
        a = parts.setdefault((p["object_id"], p["index_id"]), [0, 0, 0, 0])
        a[0] += 1
        a[1] += p["row_count"]
        a[2] += p["used_page_count"]
        a[3] += p["reserved_page_count"]
    out = []
    for ix, u in kept:
        vals = [ix["schema_name"], ix["object_id"], ix["object_name"], "U ", ix["index_id"], ix["name"],
                ix["type_desc"], ix["is_unique"], 1 if ix["index_id"] == 1 else 0, 0, 0, 0]
        for k in _USAGE:
            v = u.get(k) if u is not None else None
            if v is not None and k.startswith("last_") and off:
                v = v + off
            vals.append(v)
        p = parts.get((ix["object_id"], ix["index_id"]))
        vals += (p[0], p[1], p[2], p[3]) if p else (0, None, None, None)
        out.append(tuple(vals))
    return out


def _operational_rows(ctx: Ctx) -> list[tuple]:
    c = ctx.server.counters
    dbid = ctx.db.database_id
    names = {(r["object_id"], r["index_id"]): r for r in c.indexes_catalog(dbid)}
    top = max(0, ctx.p("top_rows"))
    if top == 0:
        return []
    agg: dict[tuple, dict] = {}
    for r in c.index_operational_stats(dbid):
        key = (r["object_id"], r["index_id"])
        a = agg.get(key)
        if a is None:
            a = agg[key] = {k: 0 for k in _OPS}
            a["partition_count"] = 0
        a["partition_count"] += 1
        for k in _OPS:
            a[k] += r.get(k, 0)
    out = []
    for key in sorted(agg):
        a = agg[key]
        if not any(a[k] > 0 for k in _ACTIVITY):
            continue
        ix = names.get(key)
        if ix is None:
            continue
        out.append((ix["schema_name"], key[0], ix["object_name"], key[1], ix["name"], ix["type_desc"],
                    a["partition_count"]) + tuple(a[k] for k in _OPS))
        if len(out) >= top:
            break
    return out


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag in ("index_usage", "index_usage_full"):
        return respond(server, session, sql, tag, USAGE_COLUMNS, _usage_rows, params)
    if tag == "index_operational":
        return respond(server, session, sql, tag, OPERATIONAL_COLUMNS, _operational_rows, params)
    return None
