"""Ground truth: what really happened in the simulated instance, for tests to compare the agent against.

Scripted episodes write their records here as they happen (blocking chains, deadlocks, memory-grant
pressure, runaway queries, restarts). Per-query CPU, reads and executions come from the plan cache model
(`PlanCache.truth(t0, t1)`). `window()` answers the control command {"cmd": "truth", "from", "to"}: the
window is half-open [from, to) in UTC, and an episode belongs to it when it overlaps it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


def iso(d: Optional[dt.datetime]) -> Optional[str]:
    """ISO 8601 UTC with a Z, to the microsecond when there is a fraction."""
    if d is None:
        return None
    return d.isoformat(timespec="microseconds" if d.microsecond else "seconds") + "Z"


def hex_hash(v: Any) -> str:
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex().upper()
    if isinstance(v, int):
        return "0x" + (v & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big").hex().upper()
    s = str(v)
    return s if s.lower().startswith("0x") else "0x" + s.upper()


@dataclass
class BlockingRecord:
    head_spid: int
    head_login: str
    head_host: str
    head_app: str
    head_statement: str
    database_id: int
    start: float
    end: Optional[float] = None
    sessions_blocked_max: int = 0
    max_wait_s: float = 0.0
    blocked_spids: list[int] = field(default_factory=list)


class Truth:
    def __init__(self, to_dt: Callable[[float], dt.datetime]):
        self._dt = to_dt
        self.blocking: list[BlockingRecord] = []
        self.deadlocks: list[dict] = []
        self.grant_pressure: list[dict] = []
        self.runaways: list[dict] = []
        self.restarts: list[dict] = []

    # -- written by the model

    def blocking_started(self, episode, at: float) -> BlockingRecord:
        h = episode.head
        rec = BlockingRecord(h.spid, h.login, h.host, h.program, episode.spec["head"]["statement"],
                             episode.database_id, at)
        self.blocking.append(rec)
        return rec

    def blocking_joined(self, rec: BlockingRecord, spid: int, blocked_now: int) -> None:
        rec.blocked_spids.append(spid)
        rec.sessions_blocked_max = max(rec.sessions_blocked_max, blocked_now)

    def blocking_ended(self, rec: BlockingRecord, t: float, max_wait_s: float) -> None:
        rec.end = t
        rec.max_wait_s = max(rec.max_wait_s, max_wait_s)

    def deadlock(self, t: float, victims: list[int], processes: list[int]) -> None:
        self.deadlocks.append({"time": t, "victims": list(victims), "processes": list(processes)})

    def grant_pressure_started(self, actor, t: float) -> dict:
        rec = {"start": t, "end": None, "sessions": len(actor.sess), "requested_kb": actor.requested_kb,
               "max_granted_at_once": actor.capacity, "max_pending": 0}
        self.grant_pressure.append(rec)
        return rec

    def grant_pressure_pending(self, rec: dict, pending: int) -> None:
        rec["max_pending"] = max(rec["max_pending"], pending)

    def grant_pressure_ended(self, rec: dict, t: float) -> None:
        rec["end"] = t

    def runaway_started(self, actor, req, t: float) -> dict:
        rec = {"start": t, "end": None, "spid": actor.sess.spid, "login": actor.sess.login,
               "host": actor.sess.host, "app": actor.sess.program, "dop": req.dop,
               "query_hash": hex_hash(req.q.query_hash), "statement": actor.spec["statement"], "cpu_ms": 0}
        self.runaways.append(rec)
        return rec

    def runaway_ended(self, rec: dict, t: float, req) -> None:
        from sim.model.workload import request_metrics
        rec["end"] = t
        rec["cpu_ms"] = request_metrics(req, t)["cpu_ms"]

    def restarted(self, t_down: float, t_up: float) -> None:
        self.restarts.append({"down": t_down, "up": t_up})

    # -- read by the control port

    def window(self, t0: float, t1: float, now: float, query_truth: Optional[dict]) -> dict:
        """Everything overlapping [t0, t1); episodes still going are reported up to `now` with end null."""
        d = self._dt

        def overlaps(start: float, end: Optional[float]) -> bool:
            return start < t1 and (end if end is not None else now) > t0 and start <= now

        blocking = []
        for r in self.blocking:
            if not overlaps(r.start, r.end):
                continue
            upto = r.end if r.end is not None else now
            blocking.append({
                "head_blocker": {"spid": r.head_spid, "login": r.head_login, "host": r.head_host,
                                 "app": r.head_app, "statement": r.head_statement},
                "database_id": r.database_id,
                "start": iso(d(r.start)), "end": iso(d(r.end)) if r.end is not None else None,
                "duration_s": round(upto - r.start, 3), "sessions_blocked_max": r.sessions_blocked_max,
                "max_wait_ms": int(round((r.max_wait_s if r.end is not None else upto - r.start) * 1000)),
                "blocked_spids": list(r.blocked_spids)})
        deadlocks = [{"time": iso(d(x["time"])), "victims": x["victims"], "processes": x["processes"]}
                     for x in self.deadlocks if t0 <= x["time"] < t1]
        grants = [{**x, "start": iso(d(x["start"])), "end": iso(d(x["end"])) if x["end"] is not None else None}
                  for x in self.grant_pressure if overlaps(x["start"], x["end"])]
        runaways = [{**x, "start": iso(d(x["start"])), "end": iso(d(x["end"])) if x["end"] is not None else None}
                    for x in self.runaways if overlaps(x["start"], x["end"])]
        restarts = [{"down": iso(d(x["down"])), "up": iso(d(x["up"]))} for x in self.restarts
                    if t0 <= x["down"] < t1]
        queries = {}
        for k, v in (query_truth or {}).items():
            v = dict(v)
            queries[hex_hash(k)] = {"cpu_us": int(v.get("cpu_us", 0)), "logical_reads": int(v.get("logical_reads", 0)),
                                    "executions": int(v.get("executions", 0)),
                                    **{x: y for x, y in v.items() if x not in ("cpu_us", "logical_reads", "executions")}}
        return {"from": iso(d(t0)), "to": iso(d(t1)), "blocking": blocking, "deadlocks": deadlocks,
                "grant_pressure": grants, "runaways": runaways, "restarts": restarts, "queries": queries}
