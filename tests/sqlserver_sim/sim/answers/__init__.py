"""Answers to SQL batches, dispatched by the tag on their first line (`/* dmvlog:NAME */`).

Order: `check` (sim/answers/connect.py); then the module that registered the tag: every module of this package
with a `TAGS` tuple and `answer(server, session, sql, tag[, params]) -> list[Result] | None` answers the tags
it lists (one module per collector family: requests.py, query_stats.py, procedure_stats.py, index.py, io.py,
waits.py, sqlos.py, memory_grants.py, tempdb.py, perf.py, stats.py, database_size.py, server_info.py, and
databases.py for the agent's database list; their shared batch handling is _collector.py); then every other
module with an answer() (in name order; a module returns None for what it does not answer), e.g.
sim/answers/xe.py. A module whose answer() also takes `params` gets the
parameters of an RPC call (sp_executesql, sp_prepexec, sp_execute: {'@name': value}) as params=; then, for untagged batches, the connect-time statements
(sim/answers/connect.py). What nobody answers gets the error SQL Server would give: 208 'Invalid object
name' for a tagged collector query or for an unknown table, 102 'Incorrect syntax' otherwise.

Helpers for answer modules: `tag_of(sql)`, `declared_params(sql)` (the DECLARE line the agent adds for a
collector's params) and `clock_resultset(server)` (result set 1 of every collector query).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from typing import Any, Optional

from sim.results import Column, Error, Result, ResultSet, Session

TAG_RE = re.compile(r"^\s*/\*\s*dmvlog:([A-Za-z0-9_.\-]+)\s*\*/")
_DECLARE_RE = re.compile(r"^\s*DECLARE\s+(.+?);?\s*$", re.I | re.M)
_PARAM_RE = re.compile(r"@(\w+)\s+\w+(?:\s*\(\s*\d+\s*\))?\s*=\s*(-?\d+)")
_OWN = ("connect",)


def tag_of(sql: str) -> Optional[str]:
    m = TAG_RE.match(sql)
    return m.group(1) if m else None


def declared_params(sql: str) -> dict[str, int]:
    """Integer parameters of the DECLARE line(s): {'min_elapsed_ms': 1000, ...} (names without '@')."""
    out: dict[str, int] = {}
    for m in _DECLARE_RE.finditer(sql):
        for name, value in _PARAM_RE.findall(m.group(1)):
            out[name] = int(value)
    return out


def clock_resultset(server) -> ResultSet:
    """SELECT SYSUTCDATETIME() AS collected_at, DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS utc_offset_minutes,
    (SELECT sqlserver_start_time FROM sys.dm_os_sys_info) AS sqlserver_start_time"""
    return ResultSet([Column("collected_at", "datetime2(7)"), Column("utc_offset_minutes", "int"),
                      Column("sqlserver_start_time", "datetime")],
                     [(server.now(), server.utc_offset_minutes, server.sqlserver_start_time)])


_plugins: Optional[list] = None
_by_tag: dict[str, Any] = {}


def _takes_params(fn) -> bool:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    return "params" in sig.parameters or any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())


def plugins() -> list:
    """Answer modules of this package without TAGS (each with an answer() function), in name order; the
    modules with TAGS are registered by tag (registered())."""
    global _plugins
    if _plugins is None:
        found = []
        by_tag: dict[str, Any] = {}
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            if info.name in _OWN or info.name.startswith("_"):
                continue
            mod = importlib.import_module(f"{__name__}.{info.name}")
            if not callable(getattr(mod, "answer", None)):
                continue
            tags = getattr(mod, "TAGS", None)
            if tags:
                for t in tags:
                    if t in by_tag:
                        raise RuntimeError(f"tag {t!r} is registered by {by_tag[t].__name__} and {mod.__name__}")
                    by_tag[t] = mod
            else:
                found.append(mod)
        _by_tag.update(by_tag)
        _plugins = found
    return _plugins


def registered() -> dict[str, Any]:
    """tag -> the answer module that registered it (its TAGS)."""
    plugins()
    return dict(_by_tag)


_PARAMS_OK: dict[str, bool] = {}


def _ask(mod, server, session: Session, sql: str, tag: Optional[str], params: Optional[dict[str, Any]]):
    ok = _PARAMS_OK.get(mod.__name__)
    if ok is None:
        ok = _PARAMS_OK[mod.__name__] = _takes_params(mod.answer)
    if ok:
        return mod.answer(server, session, sql, tag, params=params or {})
    return mod.answer(server, session, sql, tag)


def _object_name(sql: str) -> Optional[str]:
    from sim.answers.connect import find_top, strip_comments
    body = strip_comments(sql)
    m = find_top(body, r"\b(FROM|JOIN|APPLY)\s+((?:\[?[\w#]+\]?\.){0,3}\[?[\w#]+\]?)")
    return m and body[m.start(2):m.end(2)]


def unknown(sql: str, tag: Optional[str]) -> list[Result]:
    """The error for a batch nobody answers."""
    name = _object_name(sql)
    if tag is not None:
        return [Error(208, f"Invalid object name '{name or 'dmvlog.' + tag}'.", severity=16)]
    if name:
        return [Error(208, f"Invalid object name '{name}'.", severity=16)]
    from sim.answers.connect import strip_comments
    words = strip_comments(sql).split()
    near = words[0] if words else ";"
    return [Error(102, f"Incorrect syntax near '{near[:128]}'.", severity=15)]


def answer(server, session: Session, sql: str, tag: Optional[str],
           params: Optional[dict[str, Any]] = None) -> list[Result]:
    """The answer to one batch or RPC call; params: the RPC parameters ({'@name': value}), if any."""
    from sim.answers import connect
    if tag == "check":
        r = connect.answer(server, session, sql)
        return r if r is not None else unknown(sql, None)
    plugins()
    mod = _by_tag.get(tag) if tag is not None else None
    if mod is not None:
        r = _ask(mod, server, session, sql, tag, params)
        if r is not None:
            return r
    if tag is None:
        r = connect.answer(server, session, sql)
        if r is not None:
            return r
    for mod in plugins():
        r = _ask(mod, server, session, sql, tag, params)
        if r is not None:
            return r
    return unknown(sql, tag)
