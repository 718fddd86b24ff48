"""What every collector answer shares: reading the batch the agent assembled, and answering it.

The agent sends (docs/design.md):

    /* dmvlog:NAME */
    DECLARE @p int = 1, ...;                 (only when the collector has params)
    USE [db];                                (only for scope = "database")
    SELECT SYSUTCDATETIME() AS collected_at, ...;   (the clock)
    <the query file>

or, for a per-database collector that has no database to visit, only the tag and the clock. `respond()`
answers such a batch the way SQL Server would:
  - a variable the query uses but nobody declared: error 137 (the batch does not compile, nothing runs);
  - USE of an unknown database: 911; of an offline one: 942 (the agent skips that database); otherwise
    the session's database changes (5701) and the query answers for that database;
  - result set 1 is the clock row, result set 2 the rows, with the columns the answer module states
    (its own statement of what SQL Server returns, independent of collectors/*.toml: the tests compare
    the two).
Parameters come from the DECLARE line (and from an RPC call's parameters, if any).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from sim.model.queries import to_seconds
from sim.results import Column, Error, Info, Result, ResultSet, RowCount, Session

CLOCK_RE = re.compile(r"SELECT\s+SYSUTCDATETIME\(\)\s+AS\s+collected_at\b[^;]*?sys\.dm_os_sys_info\s*\)\s*AS\s+"
                      r"sqlserver_start_time\s*;", re.I | re.S)
USE_RE = re.compile(r"^\s*USE\s+(\[(?:[^\]]|\]\])+\]|[^\s;\[]+)\s*;?\s*$", re.I | re.M)
_VAR_RE = re.compile(r"(?<![@\w])@(\w+)")

Columns = list[tuple[str, str]]


@dataclass
class Batch:
    tag: Optional[str]
    params: dict[str, int]          # names without '@'
    database: Optional[str]         # the USE target, unquoted
    has_clock: bool
    body: str                       # what follows the clock (the query file)

    @property
    def clock_only(self) -> bool:
        from sim.answers.connect import strip_comments
        return self.has_clock and not strip_comments(self.body).strip(" \t\r\n;")


def parse(sql: str, rpc_params: Optional[dict] = None) -> Batch:
    from sim.answers import declared_params, tag_of
    m = CLOCK_RE.search(sql)
    head, body = (sql[:m.start()], sql[m.end():]) if m else (sql, sql)
    params = declared_params(head)
    for k, v in (rpc_params or {}).items():
        if isinstance(v, int) and not isinstance(v, bool):
            params[k.lstrip("@")] = v
    use = USE_RE.search(head)
    db = None
    if use:
        name = use.group(1)
        db = name[1:-1].replace("]]", "]") if name.startswith("[") else name
    return Batch(tag_of(sql), params, db, m is not None, body)


def undeclared(body: str, params: dict[str, int]) -> Optional[str]:
    """The first variable the query uses that is not declared (SQL Server: error 137), or None."""
    from sim.answers.connect import strip_comments
    text = strip_comments(body)
    text = re.sub(r"'(?:[^']|'')*'", "''", text)
    for name in _VAR_RE.findall(text):
        if name not in params and name.lower() not in {k.lower() for k in params}:
            return name
    return None


@dataclass
class Ctx:
    """What an answer's row function gets."""
    server: Any
    session: Session
    tag: str
    params: dict[str, int]
    db: Any                         # sim.model.server.Database of the session's context
    body: str

    @property
    def t(self) -> float:
        """The query's time, as an offset from the scenario start."""
        return self.server.now_offset

    @property
    def now_s(self) -> float:
        """The query's time in the models' seconds (UTC seconds since 1970)."""
        return to_seconds(self.server.now())

    def p(self, name: str) -> int:
        return int(self.params[name])

    def since_s(self) -> float:
        """DATEADD(MILLISECOND, -@since_ms, SYSDATETIME()) in the models' seconds."""
        return self.now_s - self.p("since_ms") / 1000.0

    def local(self, d: Optional[dt.datetime]) -> Optional[dt.datetime]:
        """A model datetime (naive UTC) as the server's local time, as DMV datetime columns show it."""
        if d is None:
            return None
        off = self.server.utc_offset_minutes
        return d + dt.timedelta(minutes=off) if off else d

    def local_offset(self, offset: Optional[float]) -> Optional[dt.datetime]:
        """A workload offset as a 'datetime' value (local time, 1/300 s)."""
        if offset is None:
            return None
        return datetime_value(self.server.local(offset))


def datetime_value(d: dt.datetime) -> dt.datetime:
    """A datetime rounded as SQL Server's datetime type stores it (.000, .003, .007)."""
    us = d.microsecond
    ticks = round((us / 1_000_000) * 300)
    base = d.replace(microsecond=0)
    return base + dt.timedelta(milliseconds=(ticks * 1000 + 150) // 300)


def use_database(server, session: Session, name: str) -> tuple[Any, list[Result]]:
    """USE [name]: (database, messages) or (None, [error])."""
    db = server.database(name)
    if db is None:
        return None, [Error(911, f"Database '{name}' does not exist. Make sure that the name is entered correctly.",
                            state=1, severity=16)]
    if not db.online:
        return None, [Error(942, f"Database '{db.name}' cannot be opened because it is offline.", state=4,
                            severity=14)]
    session.database = db.name
    return db, [Info(5701, f"Changed database context to '{db.name}'.", state=1, severity=0), RowCount(None)]


def respond(server, session: Session, sql: str, tag: str, columns: Columns,
            rows: Callable[[Ctx], list[tuple]], rpc_params: Optional[dict] = None,
            check: Optional[Callable[[Ctx], Optional[Error]]] = None) -> list[Result]:
    """The answer to a collector batch (see the module docstring). rows(ctx) gives result set 2's rows in
    the order of `columns`; check(ctx) may refuse the query with the error SQL Server would give (e.g. a
    column the server's version lacks)."""
    from sim.answers import clock_resultset
    b = parse(sql, rpc_params)
    if not b.clock_only:
        missing = undeclared(b.body, b.params)
        if missing:
            return [Error(137, f'Must declare the scalar variable "@{missing}".', state=2, severity=15)]
    out: list[Result] = []
    db = server.database(session.database) or server.database("master")
    if b.database is not None:
        db, msgs = use_database(server, session, b.database)
        out += msgs
        if db is None:
            return out
    ctx = Ctx(server, session, tag, b.params, db, b.body)
    if check is not None and not b.clock_only:
        err = check(ctx)
        if err is not None:
            return out + [err]
    if b.has_clock:
        out.append(clock_resultset(server))
    if b.clock_only:
        return out
    out.append(ResultSet([Column(n, t) for n, t in columns], rows(ctx)))
    return out


def project(row: dict, names: list[str]) -> tuple:
    return tuple(row.get(n) for n in names)
