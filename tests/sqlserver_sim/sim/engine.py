"""SimEngine: answers the protocol layer from the simulated server, and takes control commands.

Every call first moves the model to the current simulated time (SimServer.advance_to), then answers. Faults,
scripted in the scenario ([[fault]], at/until offsets in simulated seconds) or set through the control
port, change what is answered:
  refuse        accept_connections() is False (the listener closes new sockets)
  never_answer  answer_on_connect() is False (no PRELOGIN reply)
  delay         [Delay(seconds)] before the answer to a tag
  hang          [Hang()] instead of the answer to a tag
  drop          DropConnection(after_rows) before the last result set of the answer to a tag
  login_fail    login() refuses a login with 18456
  deny          Error 300 (VIEW SERVER STATE denied) instead of the answer to a tag
A fault without a tag (delay, hang, drop, deny) applies to every tagged query except `check`, `databases` and
`store` (a fault naming one of them still applies to it). `/* dmvlog:store */` statements go to the store
(sim/store.py, a SQLite database of the store's tables) and need no VIEW SERVER STATE; the TDS transaction
manager's begin / commit / rollback reach it through transaction(). A restart
(scenario [[restart]] or control {"cmd": "restart"}) refuses connections during its outage and drops every
connection made before it on its next query.
"""
from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Optional

from sim import answers
from sim.answers.connect import can_view_server_state
from sim.model.clock import SimClock
from sim.model.server import SimServer
from sim.model.truth import iso
from sim.results import Delay, DropConnection, Engine, Error, Hang, Result, ResultSet, Session
from sim.scenario import FAULT_KINDS, Scenario, load_scenario, parse_utc
from sim.store import Store

MAX_LOGGED = 10000
# the agent's own queries (not collectors): `dmvlog check`, and the database list of per-database collectors
# (sys.databases needs no VIEW SERVER STATE); a fault for every tag ("*") leaves them alone
AGENT_TAGS = ("check", "databases")
# dmvlog's SQL Server store (sim/store.py): not a collector either, and left alone by faults for every tag
STORE_TAG = "store"
UNFAULTED_TAGS = AGENT_TAGS + (STORE_TAG,)


@dataclass
class Fault:
    id: int
    kind: str
    start: float                   # offset, simulated seconds
    until: Optional[float] = None  # None: until cleared
    tag: Optional[str] = None
    seconds: float = 0.0
    after_rows: int = 0
    login: Optional[str] = None
    source: str = "control"

    def active(self, t: float) -> bool:
        return self.start <= t and (self.until is None or t < self.until)

    def matches(self, tag: Optional[str]) -> bool:
        if self.tag in (None, "*"):
            return tag is not None and tag not in UNFAULTED_TAGS
        return self.tag == tag

    def as_dict(self, server: SimServer) -> dict:
        return {"id": self.id, "kind": self.kind, "tag": self.tag, "seconds": self.seconds,
                "after_rows": self.after_rows, "login": self.login, "source": self.source,
                "from": iso(server.dt(self.start)), "until": iso(server.dt(self.until)) if self.until is not None else None}


class SimEngine(Engine):
    def __init__(self, scenario_path: str | Scenario, speed: float = 1.0, seed: int = 1,
                 wall=None, now: Optional[dt.datetime] = None):
        scenario = scenario_path if isinstance(scenario_path, Scenario) else load_scenario(scenario_path, now)
        self.scenario = scenario
        self.server = SimServer(scenario, seed)
        self.clock = SimClock(scenario.start, speed, wall) if wall else SimClock(scenario.start, speed)
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.faults: list[Fault] = []
        for f in scenario.fault:
            self.faults.append(Fault(next(self._ids), f["kind"], f["at"], f["until"], f["tag"], f["seconds"],
                                     f["after_rows"], f["login"], "scenario"))
        self.queries: deque = deque(maxlen=MAX_LOGGED)
        self.by_tag: Counter = Counter()
        self.total = 0
        self.logins_ok = 0
        self.logins_failed = 0
        self._generation_of: dict[int, int] = {}     # spid -> server generation at login
        self.store = Store()                         # dmvlog's SQL Server store; its file is made on first use

    # -- what the protocol layer reads once, when it starts (LOGINACK version, server name in messages)

    @property
    def product_version(self) -> str:
        """The scenario's [server] version, e.g. '16.0.4135.4' (LOGINACK carries major.minor.build)."""
        return self.scenario.server.version

    @property
    def server_name(self) -> str:
        """The scenario's [server] server_name (@@SERVERNAME; the server name of ERROR / INFO tokens)."""
        return self.scenario.server.server_name

    # -- time

    def _sync(self) -> float:
        t = self.clock.elapsed()
        self.server.advance_to(t)
        self.server.now_offset = t
        return t

    def _active(self, kind: str, t: float) -> list[Fault]:
        return [f for f in self.faults if f.kind == kind and f.active(t)]

    # -- Engine interface

    def accept_connections(self) -> bool:
        with self._lock:
            t = self._sync()
            return not self.server.is_down(t) and not self._active("refuse", t)

    def answer_on_connect(self) -> bool:
        with self._lock:
            return not self._active("never_answer", self._sync())

    def login(self, session: Session, password: str) -> Optional[Error]:
        with self._lock:
            t = self._sync()
            fail = Error(18456, f"Login failed for user '{session.login}'.", state=1, severity=14)
            if self.server.is_down(t):
                self.logins_failed += 1
                return Error(17187, "SQL Server is not ready to accept new client connections. Wait a few "
                                    "minutes before trying again.", severity=16)
            if any(f.login and f.login.lower() == session.login.lower() for f in self._active("login_fail", t)):
                self.logins_failed += 1
                return fail
            spec = next((x for x in self.scenario.logins if x.name.lower() == session.login.lower()), None)
            if spec is None or spec.password != password:
                self.logins_failed += 1
                return fail
            self.logins_ok += 1
            self._generation_of[session.spid] = self.server.generation
            return None

    def disconnect(self, session: Session) -> None:
        with self._lock:
            self._generation_of.pop(session.spid, None)
            self.store.disconnect(session.spid)

    def transaction(self, session: Session, request: str, begin_after: bool = False) -> list[Result]:
        """A TDS transaction-manager request ("begin", "commit", "rollback"); only the store keeps data."""
        with self._lock:
            return self.store.transaction(session.spid, request, begin_after)

    def close(self) -> None:
        """The simulator stops: the store's file goes."""
        with self._lock:
            self.store.close()

    def execute(self, session: Session, sql: str, params: dict[str, Any]) -> list[Result]:
        with self._lock:
            t = self._sync()
            tag = answers.tag_of(sql)
            gen = self._generation_of.get(session.spid)
            if self.server.is_down(t) or (gen is not None and gen != self.server.generation):
                # the instance restarted since this connection logged in: the socket is gone
                self._generation_of.pop(session.spid, None)
                return self._log(session, tag, t, [DropConnection()], "dropped: restarted")
            if session.spid not in self._generation_of:
                self._generation_of[session.spid] = self.server.generation
            hang = [f for f in self._active("hang", t) if f.matches(tag)]
            if hang:
                return self._log(session, tag, t, [Hang()], "fault: hang")
            deny = [f for f in self._active("deny", t) if f.matches(tag)]
            if tag is not None and tag != "check" and (
                    deny or tag in self.scenario.denied_tags
                    or (tag not in UNFAULTED_TAGS and not can_view_server_state(self.server, session.login))):
                out: list[Result] = [Error(300, "VIEW SERVER STATE permission was denied on object 'server', "
                                                "database 'master'.", state=1, severity=14)]
                return self._log(session, tag, t, out, "error 300")
            if tag == STORE_TAG:
                out = self.store.execute(session.spid, sql, params)
            else:
                out = answers.answer(self.server, session, sql, tag, params)
            note = "ok"
            drop = [f for f in self._active("drop", t) if f.matches(tag)]
            if drop:
                idx = max((i for i, r in enumerate(out) if isinstance(r, ResultSet)), default=len(out))
                out = out[:idx] + [DropConnection(after_rows=drop[0].after_rows)] + out[idx:]
                note = f"fault: drop after {drop[0].after_rows} rows"
            delay = [f for f in self._active("delay", t) if f.matches(tag)]
            if delay:
                out = [Delay(max(f.seconds for f in delay))] + out
                note = f"fault: delay {max(f.seconds for f in delay)} s"
            errors = [r for r in out if isinstance(r, Error)]
            if errors and note == "ok":
                note = f"error {errors[0].number}"
            return self._log(session, tag, t, out, note)

    def _log(self, session: Session, tag: Optional[str], t: float, out: list[Result], note: str) -> list[Result]:
        self.total += 1
        self.by_tag[tag or "(untagged)"] += 1
        self.queries.append({"tag": tag, "at": iso(self.server.dt(t)), "spid": session.spid,
                             "login": session.login, "outcome": note})
        return out

    # -- control port

    def control(self, cmd: dict) -> dict:
        with self._lock:
            try:
                name = cmd.get("cmd")
                fn = getattr(self, f"_cmd_{name}", None) if isinstance(name, str) else None
                if fn is None:
                    return {"ok": False, "error": f"unknown command {name!r}; known: " + ", ".join(
                        sorted(n[5:] for n in dir(self) if n.startswith("_cmd_")))}
                return {"ok": True, **fn(cmd)}
            except (ValueError, TypeError, KeyError) as e:
                return {"ok": False, "error": str(e)}

    def _now_info(self) -> dict:
        t = self._sync()
        return {"now": iso(self.server.dt(t)), "offset_seconds": round(t, 6), "paused": self.clock.paused,
                "speed": self.clock.speed, "sqlserver_start_time": self.server.sqlserver_start_time.isoformat(),
                "down": self.server.is_down(t)}

    def _cmd_now(self, cmd: dict) -> dict:
        return self._now_info()

    def _cmd_pause(self, cmd: dict) -> dict:
        self.clock.pause()
        return self._now_info()

    def _cmd_resume(self, cmd: dict) -> dict:
        self.clock.resume()
        return self._now_info()

    def _cmd_advance(self, cmd: dict) -> dict:
        s = float(cmd["seconds"])
        if s < 0 or s > 30 * 86400:
            raise ValueError("seconds must be between 0 and 30 days")
        self.clock.advance(s)
        return self._now_info()

    def _cmd_fault(self, cmd: dict) -> dict:
        kind = cmd.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(sorted(FAULT_KINDS))}")
        t = self._sync()
        fs = cmd.get("for_seconds")
        f = Fault(next(self._ids), kind, t, t + float(fs) if fs is not None else None, cmd.get("tag"),
                  float(cmd.get("seconds", 0) or 0), int(cmd.get("after_rows", 0) or 0), cmd.get("login"))
        if kind == "delay" and f.seconds <= 0:
            raise ValueError("a delay fault needs seconds > 0")
        if kind == "login_fail" and not f.login:
            raise ValueError("a login_fail fault needs login")
        if kind == "deny" and not f.tag:
            raise ValueError("a deny fault needs tag")
        self.faults.append(f)
        return {"fault": f.as_dict(self.server)}

    def _cmd_clear_faults(self, cmd: dict) -> dict:
        n = len(self.faults)
        self.faults = []
        return {"cleared": n}

    def _cmd_faults(self, cmd: dict) -> dict:
        t = self._sync()
        return {"faults": [f.as_dict(self.server) | {"active": f.active(t)} for f in self.faults]}

    def _cmd_restart(self, cmd: dict) -> dict:
        outage = float(cmd.get("outage_seconds", 0) or 0)
        if outage < 0:
            raise ValueError("outage_seconds must be >= 0")
        t = self._sync()
        self.server.restart(self.server.model_time if self.server.model_time <= t else t, outage)
        return self._now_info()

    def _cmd_xe_session(self, cmd: dict) -> dict:
        """Event sessions as a DBA would change them: {"action": "drop" | "stop" | "start", "name": ..} or
        {"action": "create_ring_buffer", "name": .., "max_events": N} (blocked_process_report and
        xml_deadlock_report to a ring_buffer target, running). Answers the sessions defined and running."""
        from sim.model.xe import XeError
        t = self._sync()
        now = self.server.dt(t)
        action, name = cmd.get("action"), cmd.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("xe_session needs a session name")
        xe = self.server.xe
        try:
            if action == "drop":
                xe.drop_session(name, now)
            elif action == "stop":
                xe.stop_session(name, now)
            elif action == "start":
                xe.start_session(name, now)
            elif action == "create_ring_buffer":
                max_events = int(cmd.get("max_events", 1000))
                if max_events < 1:
                    raise ValueError("max_events must be at least 1")
                xe.create_ring_buffer_session(name, max_events, now)
            else:
                raise ValueError("action must be one of create_ring_buffer, drop, start, stop")
        except XeError as e:
            raise ValueError(f"{e.number}: {e.message}") from None
        return {"defined": [r["name"] for r in xe.server_session_rows()],
                "running": [r["name"] for r in xe.session_rows()]}

    def _cmd_truth(self, cmd: dict) -> dict:
        self._sync()
        t0 = parse_utc(cmd["from"], "from")
        t1 = parse_utc(cmd["to"], "to")
        if t1 < t0:
            raise ValueError("'to' is before 'from'")
        min_life = cmd.get("min_lifetime_s")
        if min_life is not None and (not isinstance(min_life, (int, float)) or min_life < 0):
            raise ValueError("'min_lifetime_s' must be a number of seconds >= 0")
        return self.server.truth_window(t0, t1, min_life)

    def _cmd_stats(self, cmd: dict) -> dict:
        return {"total": self.total, "by_tag": dict(self.by_tag), "queries": list(self.queries),
                "logins_ok": self.logins_ok, "logins_failed": self.logins_failed,
                "completed_requests": self.server.workload.completed, "store": self.store.stats()}

    def _cmd_store_tables(self, cmd: dict) -> dict:
        """The store's tables with their committed row counts, and the store's counters."""
        return {"tables": self.store.tables(), "store": self.store.stats()}

    def _cmd_store_dump(self, cmd: dict) -> dict:
        """The committed rows of one store table, in insertion order (bytes as hex)."""
        table = cmd.get("table")
        if not isinstance(table, str) or not table:
            raise ValueError("store_dump needs a table")
        return self.store.dump(table)

    def _cmd_scenario(self, cmd: dict) -> dict:
        sc = self.scenario
        return {"name": sc.name, "description": sc.description, "start": iso(sc.start), "duration_s": sc.duration,
                "sessions": len(self.server.workload.sessions), "databases": len(self.server.databases)}
