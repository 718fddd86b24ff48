"""perf_counters (sql/collectors/perf_counters.sql): sys.dm_os_performance_counters, every row, names trimmed
(RTRIM of the nchar(128) columns, cast to nvarchar(128)).

Rows: ServerCounters.performance_counters(): General Statistics, SQL Statistics, Buffer Manager, Memory
Manager, Access Methods, Locks, Latches, Plan Cache, Errors and, per ONLINE database, Databases; every
cntr_type (65792 raw, 272696576 per second, 537003264 fraction, 1073874176 average, 1073939712 base). User
Connections, Processes blocked, Memory Grants Pending / Outstanding are the workload's; Number of
Deadlocks/sec counts the scripted deadlocks; Lock Waits/sec and Average Wait Time include the blocked
requests' waits.
"""
from __future__ import annotations

from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.results import Result, Session

TAGS = ("perf_counters",)

COLUMNS = [("object_name", "nvarchar(128)"), ("counter_name", "nvarchar(128)"), ("instance_name", "nvarchar(128)"),
           ("cntr_value", "bigint"), ("cntr_type", "int")]


def rows(ctx: Ctx) -> list[tuple]:
    return [(r["object_name"].rstrip(" "), r["counter_name"].rstrip(" "), r["instance_name"].rstrip(" "),
             r["cntr_value"], r["cntr_type"]) for r in ctx.server.counters.performance_counters()]


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in TAGS:
        return None
    return respond(server, session, sql, tag, COLUMNS, rows, params)
