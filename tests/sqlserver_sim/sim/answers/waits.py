"""Cumulative wait, latch and spinlock statistics, from the counters model (sim/model/counters.py):

  wait_stats      sys.dm_os_wait_stats, WHERE waiting_tasks_count > 0 (ServerCounters.wait_stats(): the
                  background rates plus the LCK_M_* / RESOURCE_SEMAPHORE waits the workload's blocked and
                  grant-waiting requests add when they end)
  latch_stats     sys.dm_os_latch_stats, WHERE waiting_requests_count > 0
  spinlock_stats  sys.dm_os_spinlock_stats, WHERE collisions > 0 OR spins > 0 OR backoffs > 0
All cumulative since the instance started (a restart starts them from 0).
"""
from __future__ import annotations

from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.results import Result, Session

TAGS = ("wait_stats", "latch_stats", "spinlock_stats")

WAIT_COLUMNS = [("wait_type", "nvarchar(60)"), ("waiting_tasks_count", "bigint"), ("wait_time_ms", "bigint"),
                ("max_wait_time_ms", "bigint"), ("signal_wait_time_ms", "bigint")]
LATCH_COLUMNS = [("latch_class", "nvarchar(120)"), ("waiting_requests_count", "bigint"), ("wait_time_ms", "bigint"),
                 ("max_wait_time_ms", "bigint")]
SPINLOCK_COLUMNS = [("name", "nvarchar(256)"), ("collisions", "bigint"), ("spins", "bigint"),
                    ("spins_per_collision", "real"), ("sleep_time", "bigint"), ("backoffs", "bigint")]


def _project(rows: list[dict], columns) -> list[tuple]:
    names = [n for n, _ in columns]
    return [tuple(r[n] for n in names) for r in rows]


def _waits(ctx: Ctx) -> list[tuple]:
    return _project([r for r in ctx.server.counters.wait_stats() if r["waiting_tasks_count"] > 0], WAIT_COLUMNS)


def _latches(ctx: Ctx) -> list[tuple]:
    return _project([r for r in ctx.server.counters.latch_stats() if r["waiting_requests_count"] > 0], LATCH_COLUMNS)


def _spinlocks(ctx: Ctx) -> list[tuple]:
    return _project([r for r in ctx.server.counters.spinlock_stats()
                     if r["collisions"] > 0 or r["spins"] > 0 or r["backoffs"] > 0], SPINLOCK_COLUMNS)


_BY_TAG = {"wait_stats": (WAIT_COLUMNS, _waits), "latch_stats": (LATCH_COLUMNS, _latches),
           "spinlock_stats": (SPINLOCK_COLUMNS, _spinlocks)}


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in _BY_TAG:
        return None
    columns, fn = _BY_TAG[tag]
    return respond(server, session, sql, tag, columns, fn, params)
