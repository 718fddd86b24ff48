"""Scenario files: load a TOML scenario, check it, and fill in defaults.

A scenario describes one simulated SQL Server instance and what happens to it over time. The format is
documented in docs/simulator.md; every key is checked here, so a typo is an error naming the file and key
rather than a silently ignored setting. Times inside a scenario are offsets from the scenario start, given
as seconds (a number) or as a duration string ("500ms", "90s", "3m", "1h30m", "2d").

The [plan_cache], [counters] and [xe] sections belong to the query-catalog and plan-cache, counter and
extended-event models; they are passed to those models unchanged. Only their keys are checked here (against
each model's CONFIG_KEYS); the values are the models' business.

A TOML file that declares a table twice is not valid TOML (tomllib refuses it); load_scenario reports it as
"not valid TOML" with the line.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any, Optional


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key."""


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any, where: str) -> float:
    """Seconds from a number or a duration string such as '90s', '3m', '1h30m', '250ms'."""
    if isinstance(value, bool):
        raise ScenarioError(f"{where}: expected a duration, got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ScenarioError(f"{where}: a duration cannot be negative ({value})")
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        pos, total = 0, 0.0
        for m in _DURATION_PART.finditer(text):
            if m.start() != pos:
                break
            total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
            pos = m.end()
        if text and pos == len(text):
            return total
    raise ScenarioError(f"{where}: cannot read {value!r} as a duration (use seconds or e.g. '90s', '3m', '1h')")


def parse_utc(value: Any, where: str) -> dt.datetime:
    """A naive UTC datetime from an ISO string or a TOML datetime (an offset is converted to UTC)."""
    if isinstance(value, dt.datetime):
        d = value
    elif isinstance(value, str):
        try:
            d = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as e:
            raise ScenarioError(f"{where}: not an ISO date-time: {value!r}") from e
    else:
        raise ScenarioError(f"{where}: expected an ISO date-time, got {value!r}")
    if d.tzinfo is not None:
        d = d.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return d


def _check_keys(section: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _get(section: dict, key: str, kind, default, where: str):
    if key not in section:
        return default
    v = section[key]
    if kind is float and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if kind is int and isinstance(v, bool):
        raise ScenarioError(f"{where}.{key}: expected an integer, got {v!r}")
    if not isinstance(v, kind):
        name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ScenarioError(f"{where}.{key}: expected {name}, got {v!r}")
    return v


def _str_list(section: dict, key: str, default: list[str], where: str) -> list[str]:
    v = section.get(key, default)
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ScenarioError(f"{where}.{key}: expected a list of strings")
    return list(v)


def _positive(v: float | int, where: str, zero_ok: bool = False):
    if v < 0 or (v == 0 and not zero_ok):
        raise ScenarioError(f"{where}: must be {'>= 0' if zero_ok else '> 0'}, got {v}")
    return v


# ---------------------------------------------------------------------------------------------- sections

@dataclass
class ServerSpec:
    version: str = "16.0.4135.4"
    product_level: str = "RTM"
    update_level: str = "CU15"
    edition: str = "Developer Edition (64-bit)"
    engine_edition: int = 3
    server_name: str = "SIMSQL01"
    host_platform: str = "Linux"
    cpu_count: int = 16
    memory_mb: int = 65536
    workspace_memory_mb: int = 0            # 0: 75% of memory_mb
    utc_offset_minutes: int = 0
    uptime_seconds: float = 3 * 86400.0     # how long the instance had been up at the scenario start
    collation: str = "SQL_Latin1_General_CP1_CI_AS"
    database_count: int = 8                 # user databases (the 4 system databases come on top)
    database_names: list[str] = field(default_factory=list)
    offline_databases: list[str] = field(default_factory=list)

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


@dataclass
class SessionSpec:
    user: int = 200                  # pool sessions running short OLTP requests
    think_seconds: float = 20.0      # mean idle time between two requests of one session
    request_median_seconds: float = 1.2
    request_sigma: float = 1.1       # lognormal spread of request durations
    request_max_seconds: float = 600.0
    batch: int = 4                   # sessions running long batches (ETL, reports)
    batch_median_seconds: float = 300.0
    batch_think_seconds: float = 120.0
    parallel_fraction: float = 0.05  # share of requests running with DOP > 1
    grant_fraction: float = 0.10     # share of requests holding a memory grant
    max_dop: int = 8
    logins: list[str] = field(default_factory=lambda: ["app_oltp", "app_web", "report_reader"])
    hosts: list[str] = field(default_factory=lambda: ["WEB01", "WEB02", "WEB03", "APP01", "APP02"])
    apps: list[str] = field(default_factory=lambda: [
        "OrderService", "Core Microsoft SqlClient Data Provider", "受注管理システム", "ReportServer"])


@dataclass
class LoginSpec:
    name: str
    password: str
    deny: list[str] = field(default_factory=list)   # server permissions this login lacks


@dataclass
class Scenario:
    path: str
    name: str
    description: str
    start: dt.datetime                  # naive UTC
    duration: Optional[float]           # seconds; None = runs indefinitely
    step_seconds: float
    server: ServerSpec
    sessions: SessionSpec
    blocking: list[dict]
    deadlock: list[dict]
    grant_pressure: list[dict]
    runaway: list[dict]
    restart: list[dict]
    fault: list[dict]
    logins: list[LoginSpec]
    denied_tags: list[str]
    plan_cache: dict
    counters: dict
    xe: dict


# ---------------------------------------------------------------------------------------------- loading

TOP_KEYS = {"name", "description", "start", "duration", "step", "server", "sessions", "blocking", "deadlock",
            "grant_pressure", "runaway", "restart", "fault", "auth", "permissions", "plan_cache", "counters",
            "xe"}

FAULT_KINDS = {"refuse", "never_answer", "delay", "hang", "drop", "login_fail", "deny"}

SERVER_PERMISSIONS = {"VIEW SERVER STATE", "VIEW SERVER PERFORMANCE STATE", "ALTER ANY EVENT SESSION",
                      "ALTER SETTINGS", "VIEW ANY DATABASE", "VIEW ANY DEFINITION", "CONNECT SQL"}


def default_start(now: Optional[dt.datetime] = None) -> dt.datetime:
    """Now (UTC), rounded down to the minute."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return now.replace(second=0, microsecond=0)


def load_scenario(path: str, now: Optional[dt.datetime] = None) -> Scenario:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not valid TOML: {e}") from e
    return scenario_from_dict(data, path, now)


def scenario_from_dict(data: dict, path: str = "<scenario>", now: Optional[dt.datetime] = None) -> Scenario:
    w = path
    _check_keys(data, TOP_KEYS, w)
    name = _get(data, "name", str, None, w)
    if not name:
        raise ScenarioError(f"{w}: 'name' is required")
    start = parse_utc(data["start"], f"{w}.start") if "start" in data else default_start(now)
    duration = parse_duration(data["duration"], f"{w}.duration") if "duration" in data else None
    step = parse_duration(data.get("step", 1), f"{w}.step")
    if not 0.1 <= step <= 60:
        raise ScenarioError(f"{w}.step: must be between 0.1 and 60 seconds, got {step}")

    server = _server(data.get("server", {}), f"{w}[server]")
    sessions = _sessions(data.get("sessions", {}), f"{w}[sessions]")
    logins, denied = _auth(data.get("auth", {}), data.get("permissions", {}), w)

    def items(key: str, fn) -> list[dict]:
        raw = data.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
            raise ScenarioError(f"{w}: [[{key}]] must be an array of tables")
        return [fn(x, f"{w}[[{key}]] #{i + 1}") for i, x in enumerate(raw)]

    scn = Scenario(
        path=path, name=name, description=_get(data, "description", str, "", w), start=start,
        duration=duration, step_seconds=step, server=server, sessions=sessions,
        blocking=items("blocking", _blocking), deadlock=items("deadlock", _deadlock),
        grant_pressure=items("grant_pressure", _grant_pressure), runaway=items("runaway", _runaway),
        restart=items("restart", _restart), fault=items("fault", _fault), logins=logins, denied_tags=denied,
        plan_cache=_section(data, "plan_cache", w), counters=_section(data, "counters", w),
        xe=_section(data, "xe", w))
    _check_capacity(scn, w)
    return scn


def _model_keys(key: str) -> frozenset:
    from sim.model import counters, plancache, queries, xe
    return {"plan_cache": queries.CONFIG_KEYS | plancache.CONFIG_KEYS, "counters": counters.CONFIG_KEYS,
            "xe": xe.CONFIG_KEYS}[key]


def _section(data: dict, key: str, w: str) -> dict:
    v = data.get(key, {})
    if not isinstance(v, dict):
        raise ScenarioError(f"{w}: [{key}] must be a table")
    _check_keys(v, set(_model_keys(key)), f"{w}[{key}]")
    if key == "xe" and "blocked_process_threshold" in v:
        th = v["blocked_process_threshold"]
        if isinstance(th, bool) or not isinstance(th, int) or not 0 <= th <= 86400:
            raise ScenarioError(f"{w}[xe].blocked_process_threshold: whole seconds from 0 to 86400, got {th!r}")
    return v


def _server(s: dict, w: str) -> ServerSpec:
    _check_keys(s, {"version", "product_level", "update_level", "edition", "engine_edition", "server_name",
                    "host_platform", "cpu_count", "memory", "workspace_memory", "utc_offset_minutes", "uptime",
                    "collation", "databases"}, w)
    spec = ServerSpec()
    spec.version = _get(s, "version", str, spec.version, w)
    if not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", spec.version):
        raise ScenarioError(f"{w}.version: expected a product version like '16.0.4135.4', got {spec.version!r}")
    spec.product_level = _get(s, "product_level", str, spec.product_level, w)
    spec.update_level = _get(s, "update_level", str, spec.update_level, w)
    spec.edition = _get(s, "edition", str, spec.edition, w)
    spec.engine_edition = _get(s, "engine_edition", int, spec.engine_edition, w)
    spec.server_name = _get(s, "server_name", str, spec.server_name, w)
    spec.host_platform = _get(s, "host_platform", str, spec.host_platform, w)
    spec.cpu_count = _positive(_get(s, "cpu_count", int, spec.cpu_count, w), f"{w}.cpu_count")
    spec.memory_mb = int(_memory_mb(s.get("memory", spec.memory_mb), f"{w}.memory"))
    spec.workspace_memory_mb = int(_memory_mb(s.get("workspace_memory", 0), f"{w}.workspace_memory"))
    if spec.workspace_memory_mb == 0:
        spec.workspace_memory_mb = spec.memory_mb * 3 // 4
    spec.utc_offset_minutes = _get(s, "utc_offset_minutes", int, 0, w)
    if not -840 <= spec.utc_offset_minutes <= 840:
        raise ScenarioError(f"{w}.utc_offset_minutes: must be between -840 and 840")
    spec.uptime_seconds = parse_duration(s.get("uptime", spec.uptime_seconds), f"{w}.uptime")
    spec.collation = _get(s, "collation", str, spec.collation, w)
    dbs = s.get("databases", {})
    if not isinstance(dbs, dict):
        raise ScenarioError(f"{w}.databases: must be a table {{ count, names, offline }}")
    _check_keys(dbs, {"count", "names", "offline"}, f"{w}.databases")
    spec.database_names = _str_list(dbs, "names", [], f"{w}.databases")
    spec.database_count = _get(dbs, "count", int, max(len(spec.database_names), spec.database_count), w)
    if spec.database_count < len(spec.database_names) or spec.database_count > 32000:
        raise ScenarioError(f"{w}.databases.count: must be >= the number of names and <= 32000")
    spec.offline_databases = _str_list(dbs, "offline", [], f"{w}.databases")
    for n in spec.offline_databases:
        if n not in spec.database_names:
            raise ScenarioError(f"{w}.databases.offline: {n!r} is not in databases.names")
    return spec


def _memory_mb(v: Any, where: str) -> float:
    """Megabytes from a number (MB) or a string such as '64GB', '512MB'."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _positive(v, where, zero_ok=True)
    if isinstance(v, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(MB|GB|TB)\s*", v, re.I)
        if m:
            return float(m.group(1)) * {"MB": 1, "GB": 1024, "TB": 1024 * 1024}[m.group(2).upper()]
    raise ScenarioError(f"{where}: expected megabytes or a size like '64GB', got {v!r}")


def _sessions(s: dict, w: str) -> SessionSpec:
    spec = SessionSpec()
    _check_keys(s, {"user", "think", "request_median", "request_sigma", "request_max", "batch", "batch_median",
                    "batch_think", "parallel_fraction", "grant_fraction", "max_dop", "logins", "hosts", "apps"}, w)
    spec.user = _positive(_get(s, "user", int, spec.user, w), f"{w}.user", zero_ok=True)
    spec.think_seconds = _positive(parse_duration(s.get("think", spec.think_seconds), f"{w}.think"), f"{w}.think")
    spec.request_median_seconds = _positive(
        parse_duration(s.get("request_median", spec.request_median_seconds), f"{w}.request_median"),
        f"{w}.request_median")
    spec.request_sigma = _positive(_get(s, "request_sigma", float, spec.request_sigma, w), f"{w}.request_sigma",
                                   zero_ok=True)
    spec.request_max_seconds = parse_duration(s.get("request_max", spec.request_max_seconds), f"{w}.request_max")
    spec.batch = _positive(_get(s, "batch", int, spec.batch, w), f"{w}.batch", zero_ok=True)
    spec.batch_median_seconds = _positive(
        parse_duration(s.get("batch_median", spec.batch_median_seconds), f"{w}.batch_median"), f"{w}.batch_median")
    spec.batch_think_seconds = _positive(
        parse_duration(s.get("batch_think", spec.batch_think_seconds), f"{w}.batch_think"), f"{w}.batch_think")
    for key in ("parallel_fraction", "grant_fraction"):
        v = _get(s, key, float, getattr(spec, key), w)
        if not 0 <= v <= 1:
            raise ScenarioError(f"{w}.{key}: must be between 0 and 1")
        setattr(spec, key, v)
    spec.max_dop = _positive(_get(s, "max_dop", int, spec.max_dop, w), f"{w}.max_dop")
    for key in ("logins", "hosts", "apps"):
        v = _str_list(s, key, getattr(spec, key), w)
        if not v:
            raise ScenarioError(f"{w}.{key}: must not be empty")
        setattr(spec, key, v)
    if spec.user + spec.batch > 30000:
        raise ScenarioError(f"{w}: at most 30000 sessions (user + batch)")
    return spec


def _auth(a: dict, p: dict, w: str) -> tuple[list[LoginSpec], list[str]]:
    if not isinstance(a, dict) or not isinstance(p, dict):
        raise ScenarioError(f"{w}: [auth] and [permissions] must be tables")
    _check_keys(a, {"logins"}, f"{w}[auth]")
    _check_keys(p, {"deny"}, f"{w}[permissions]")
    raw = a.get("logins", [{"name": "dmvlog", "password": "dmvlog"}])
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(f"{w}[auth].logins: must be a non-empty array of {{ name, password, deny }}")
    logins = []
    for i, entry in enumerate(raw):
        lw = f"{w}[auth].logins #{i + 1}"
        if not isinstance(entry, dict):
            raise ScenarioError(f"{lw}: must be a table")
        _check_keys(entry, {"name", "password", "deny"}, lw)
        if not isinstance(entry.get("name"), str) or not isinstance(entry.get("password"), str):
            raise ScenarioError(f"{lw}: name and password (strings) are required")
        deny = [d.upper() for d in _str_list(entry, "deny", [], lw)]
        for d in deny:
            if d not in SERVER_PERMISSIONS:
                raise ScenarioError(f"{lw}.deny: unknown permission {d!r}; known: {', '.join(sorted(SERVER_PERMISSIONS))}")
        logins.append(LoginSpec(entry["name"], entry["password"], deny))
    denied = _str_list(p, "deny", [], f"{w}[permissions]")
    return logins, denied


def _at_duration(x: dict, w: str, need_duration: bool = True) -> tuple[float, float]:
    if "at" not in x:
        raise ScenarioError(f"{w}: 'at' (offset from the scenario start) is required")
    at = parse_duration(x["at"], f"{w}.at")
    d = parse_duration(x["duration"], f"{w}.duration") if "duration" in x else None
    if need_duration and not d:
        raise ScenarioError(f"{w}: 'duration' (> 0) is required")
    return at, d or 0.0


def _every(x: dict, w: str, duration: float) -> Optional[float]:
    if "every" not in x:
        return None
    every = parse_duration(x["every"], f"{w}.every")
    if every <= duration + 5:
        raise ScenarioError(f"{w}.every: must be longer than the duration plus 5 s")
    return every


def _actor(x: dict, w: str, defaults: dict) -> dict:
    """Login/host/app/database/statement of a scripted session."""
    out = {}
    for key, default in defaults.items():
        out[key] = _get(x, key, type(default), default, w)
    return out


def _blocking(x: dict, w: str) -> dict:
    _check_keys(x, {"at", "duration", "every", "blocked", "depth", "spread", "wait_type", "database", "head",
                    "blocked_login", "blocked_host", "blocked_app", "blocked_statement"}, w)
    at, duration = _at_duration(x, w)
    head = x.get("head", {})
    if not isinstance(head, dict):
        raise ScenarioError(f"{w}.head: must be a table")
    _check_keys(head, {"login", "host", "app", "statement"}, f"{w}.head")
    out = {"at": at, "duration": duration, "every": _every(x, w, duration),
           "blocked": _positive(_get(x, "blocked", int, 20, w), f"{w}.blocked"),
           "depth": _positive(_get(x, "depth", int, 3, w), f"{w}.depth"),
           "spread": parse_duration(x.get("spread", min(20.0, duration / 3)), f"{w}.spread"),
           "wait_type": _get(x, "wait_type", str, "LCK_M_U", w),
           "database": _get(x, "database", str, "", w),
           "head": _actor(head, f"{w}.head", {
               "login": "etl_loader", "host": "BATCH01", "app": "Nightly Loader",
               "statement": "BEGIN TRANSACTION;\nUPDATE dbo.Orders SET Status = 3 WHERE OrderDate < @cutoff;"}),
           **_actor(x, w, {"blocked_login": "app_oltp", "blocked_host": "WEB01", "blocked_app": "OrderService",
                           "blocked_statement": "UPDATE dbo.Orders SET Status = @s WHERE OrderId = @id;"})}
    if out["depth"] > out["blocked"]:
        raise ScenarioError(f"{w}.depth: cannot exceed 'blocked'")
    if out["spread"] >= duration:
        raise ScenarioError(f"{w}.spread: must be shorter than the duration")
    return out


def _deadlock(x: dict, w: str) -> dict:
    _check_keys(x, {"at", "every", "database", "login", "host", "app", "statements"}, w)
    at, _ = _at_duration(x, w, need_duration=False)
    out = {"at": at, "every": _every(x, w, 5.0), "database": _get(x, "database", str, "", w),
           **_actor(x, w, {"login": "app_oltp", "host": "APP02", "app": "OrderService"})}
    st = _str_list(x, "statements", [
        "UPDATE dbo.Inventory SET Qty = Qty - @q WHERE ItemId = @a;\nUPDATE dbo.Orders SET Status = 2 WHERE OrderId = @o;",
        "UPDATE dbo.Orders SET Status = 4 WHERE OrderId = @o;\nUPDATE dbo.Inventory SET Qty = Qty + @q WHERE ItemId = @a;"], w)
    if len(st) != 2:
        raise ScenarioError(f"{w}.statements: exactly two statements (one per process)")
    out["statements"] = st
    return out


def _grant_pressure(x: dict, w: str) -> dict:
    _check_keys(x, {"at", "duration", "every", "sessions", "requested", "query_seconds", "database", "login",
                    "host", "app", "statement"}, w)
    at, duration = _at_duration(x, w)
    return {"at": at, "duration": duration, "every": _every(x, w, duration),
            "sessions": _positive(_get(x, "sessions", int, 16, w), f"{w}.sessions"),
            "requested_mb": _positive(_memory_mb(x.get("requested", "2GB"), f"{w}.requested"), f"{w}.requested"),
            "query_seconds": _positive(parse_duration(x.get("query_seconds", 40), f"{w}.query_seconds"),
                                       f"{w}.query_seconds"),
            "database": _get(x, "database", str, "", w),
            **_actor(x, w, {"login": "report_reader", "host": "RPT01", "app": "ReportServer",
                            "statement": "SELECT c.Region, p.Category, SUM(l.Amount) AS Total\n"
                                         "FROM dbo.OrderLines AS l JOIN dbo.Orders AS o ON o.OrderId = l.OrderId\n"
                                         "JOIN dbo.Customers AS c ON c.CustomerId = o.CustomerId\n"
                                         "JOIN dbo.Products AS p ON p.ProductId = l.ProductId\n"
                                         "GROUP BY c.Region, p.Category ORDER BY Total DESC;"})}


def _runaway(x: dict, w: str) -> dict:
    _check_keys(x, {"at", "duration", "every", "dop", "database", "login", "host", "app", "statement"}, w)
    at, duration = _at_duration(x, w)
    return {"at": at, "duration": duration, "every": _every(x, w, duration),
            "dop": _positive(_get(x, "dop", int, 8, w), f"{w}.dop"),
            "database": _get(x, "database", str, "", w),
            **_actor(x, w, {"login": "analyst", "host": "LAPTOP-7F3K", "app": "Microsoft SQL Server Management Studio - Query",
                            "statement": "SELECT o.CustomerId, COUNT_BIG(*) AS n\nFROM dbo.OrderLines AS l\n"
                                         "CROSS JOIN dbo.Products AS p\nJOIN dbo.Orders AS o ON o.OrderId = l.OrderId\n"
                                         "WHERE p.Name LIKE N'%限定%'\nGROUP BY o.CustomerId;"})}


def _restart(x: dict, w: str) -> dict:
    _check_keys(x, {"at", "outage"}, w)
    at, _ = _at_duration(x, w, need_duration=False)
    return {"at": at, "outage": parse_duration(x.get("outage", 30), f"{w}.outage")}


def _fault(x: dict, w: str) -> dict:
    _check_keys(x, {"kind", "at", "until", "tag", "seconds", "after_rows", "login"}, w)
    kind = _get(x, "kind", str, None, w)
    if kind not in FAULT_KINDS:
        raise ScenarioError(f"{w}.kind: one of {', '.join(sorted(FAULT_KINDS))}, got {kind!r}")
    at = parse_duration(x.get("at", 0), f"{w}.at")
    until = parse_duration(x["until"], f"{w}.until") if "until" in x else None
    if until is not None and until <= at:
        raise ScenarioError(f"{w}.until: must be after 'at'")
    out = {"kind": kind, "at": at, "until": until, "tag": _get(x, "tag", str, None, w),
           "seconds": parse_duration(x.get("seconds", 0), f"{w}.seconds"),
           "after_rows": _get(x, "after_rows", int, 0, w), "login": _get(x, "login", str, None, w)}
    if kind == "delay" and out["seconds"] <= 0:
        raise ScenarioError(f"{w}.seconds: a delay fault needs seconds > 0")
    if kind == "login_fail" and not out["login"]:
        raise ScenarioError(f"{w}.login: a login_fail fault names the login")
    if kind == "deny" and not out["tag"]:
        raise ScenarioError(f"{w}.tag: a deny fault names the collector tag")
    return out


def _check_capacity(s: Scenario, w: str) -> None:
    for i, b in enumerate(s.blocking):
        if b["database"] and b["database"] not in s.server.database_names:
            raise ScenarioError(f"{w}[[blocking]] #{i + 1}.database: {b['database']!r} is not in server.databases.names")
    for key in ("deadlock", "grant_pressure", "runaway"):
        for i, item in enumerate(getattr(s, key)):
            if item["database"] and item["database"] not in s.server.database_names:
                raise ScenarioError(f"{w}[[{key}]] #{i + 1}.database: {item['database']!r} is not in "
                                    "server.databases.names")
    scripted = sum(1 + b["blocked"] for b in s.blocking) + 2 * len(s.deadlock) \
        + sum(g["sessions"] for g in s.grant_pressure) + len(s.runaway)
    if s.sessions.user + s.sessions.batch + scripted > 32000:
        raise ScenarioError(f"{w}: more than 32000 sessions in all")
