"""Extended Events of the simulated server: sessions, event_file and ring_buffer targets, the XML SQL Server
writes for blocked_process_report and xml_deadlock_report, and sys.fn_xe_file_target_read_file.

Event XML, as read from an event_file (fn_xe_file_target_read_file.event_data):
  <event name="blocked_process_report" package="sqlserver" timestamp="2026-03-02T09:00:05.123Z">
    <data name="duration"><value>16912000</value></data>              (microseconds)
    <data name="database_id"><value>7</value></data>
    <data name="object_id"><value>0</value></data> <data name="index_id"><value>0</value></data>
    <data name="lock_mode"><value>4</value><text>U</text></data>      (the lock_mode map)
    <data name="transaction_id"><value>...</value></data>
    <data name="resource_owner_type"><value>0x00000001</value><text>LOCK</text></data>
    <data name="blocked_process"><value><blocked-process-report monitorLoop="N">...</value></data>
    <data name="database_name"><value>SalesDB</value></data>
  </event>
The ring_buffer target renders the same events with a <type name=".." package=".."/> element in each
<data>, inside <RingBufferTarget truncated=".." processingTime=".." totalEventsProcessed=".." eventCount=".."
droppedCount=".." memoryUsed="..">. The event's timestamp attribute is UTC with milliseconds; the times inside
the reports (lasttranstarted, lastbatchstarted, ...) are the server's local time (cfg utc_offset_minutes).

Process dicts (blocked, blocking, deadlock processes) use the report's attribute names; missing ones get
defaults: spid (required), ecid, status, waitresource, waittime (ms), lockMode ('U'), transactionname,
lasttranstarted / lastbatchstarted / lastbatchcompleted (naive UTC datetimes), ownerId / xactid (int),
schedulerid, kpid, trancount, clientapp, hostname, hostpid, loginname, isolationlevel (text or the level
number 0-5), currentdb (int), currentdbname, lockTimeout, logused, priority, frames (list of dicts: line,
stmtstart, stmtend, sqlhandle (bytes), procname, text), inputbuf (text, cut to 4,000 characters), plus for
the event fields object_id, index_id. A blocking process is written in the short form SQL Server uses
(status, spid, sbid, ecid, ... , no waitresource).

event_file target: files <base>_0_<FILETIME ticks>.xel in the target's directory (relative file names go to
cfg log_dir). Events are buffered per session and written at MAX_DISPATCH_LATENCY (default 30 s) or when the
buffer exceeds a third of MAX_MEMORY: every event of one buffer shares one file_offset; the first buffer of
a file is at offset file_header_bytes (5120), later ones follow at 512-byte granularity. A buffer that does
not fit in max_file_size starts a new file; files beyond max_rollover_files are deleted, oldest first. Each
START opens a new file. Files stay on disk after STOP or DROP.

read_file(path, initial_file_name, initial_offset): the documented semantics of
sys.fn_xe_file_target_read_file. Both NULL: every event in every file matching path (a '*' wildcard,
relative paths under log_dir). Otherwise initial_offset is the last offset already read: events of that
file with a larger offset are returned, then all events of the newer matching files. Errors, as SQL Server
raises them: 25719 when only one of the pair is NULL; 25718 (the log file name is invalid) when
initial_file_name does not exist, e.g. because rollover deleted it (a reader must then restart from NULL,
NULL and skip what it already has by timestamp); 25722 when the offset is not a buffer offset of that
file; 25718 for a path without a wildcard that names no file.

Ground truth: every emitted report is kept in .emitted (whether or not a session captured it).

cfg keys: log_dir ('/var/opt/mssql/log/'), utc_offset_minutes (0), system_health (True),
system_health_max_file_size_mb (100), system_health_max_rollover_files (10), system_health_diagnostics_s
(300: system_health's sp_server_diagnostics_component_result events, one per component at every multiple of
it; 0 = none), ring_buffer_xml_limit_bytes (4 MB: the target_data XML limit), file_header_bytes (5120),
blocked_process_threshold (0: the 'blocked process threshold (s)' configured and in use at the start,
0 - 86400; sp_configure changes it), ring_buffer_session ('': none; a name creates, running from the start,
a session a DBA might have set up: blocked_process_report and xml_deadlock_report to a ring_buffer target,
as dmvlog reads while its own session is absent) and ring_buffer_max_events (1000: where that ring buffer
wraps, dropping its oldest events).
"""
from __future__ import annotations

import collections
import datetime as _dt
import fnmatch
import uuid
import zlib
from typing import Any, Iterable, Optional
from xml.sax.saxutils import escape as _esc

SQLSERVER_PACKAGE_GUID = uuid.UUID("655FD93F-3364-40D5-B2BA-330F7FFB6491")
SQLSERVER_MODULE_GUID = uuid.UUID("CE79811F-1A80-40E1-8F5D-7445A3F375E7")
PACKAGE0_GUID = uuid.UUID("60AA9FBF-673B-4553-B7ED-71DCA7F5E972")

# the XE lock_mode map (value, text) and the report's lockMode spelling
LOCK_MODE_MAP = ["NL", "SCH_S", "SCH_M", "S", "U", "X", "IS", "IU", "IX", "SIU", "SIX", "UIX", "BU", "RS_S", "RS_U",
                 "RI_NL", "RI_S", "RI_U", "RI_X", "RX_S", "RX_U", "LAST_MODE"]
_REPORT_TO_MAP = {"Sch-S": "SCH_S", "Sch-M": "SCH_M", "RangeS-S": "RS_S", "RangeS-U": "RS_U", "RangeI-N": "RI_NL",
                  "RangeI-S": "RI_S", "RangeI-U": "RI_U", "RangeI-X": "RI_X", "RangeX-S": "RX_S", "RangeX-U": "RX_U"}
ISOLATION = {0: "unspecified (0)", 1: "read uncommitted (1)", 2: "read committed (2)", 3: "repeatable read (3)",
             4: "serializable (4)", 5: "snapshot (5)"}

READ_FILE_COLUMNS = [("module_guid", "uniqueidentifier"), ("package_guid", "uniqueidentifier"),
                     ("object_name", "nvarchar(256)"), ("event_data", "nvarchar(max)"),
                     ("file_name", "nvarchar(260)"), ("file_offset", "bigint"), ("timestamp_utc", "datetime2(7)")]

_FILETIME_EPOCH = _dt.datetime(1601, 1, 1)

CONFIG_KEYS = frozenset({"log_dir", "utc_offset_minutes", "system_health", "system_health_max_file_size_mb",
                         "system_health_max_rollover_files", "system_health_diagnostics_s",
                         "ring_buffer_xml_limit_bytes", "file_header_bytes", "blocked_process_threshold",
                         "ring_buffer_session", "ring_buffer_max_events"})

# the events of a ring_buffer session for blocking and deadlocks, as DBAs set one up
RING_BUFFER_EVENTS = ["sqlserver.blocked_process_report", "sqlserver.xml_deadlock_report"]
DIAGNOSTIC_COMPONENTS = ["system", "resource", "query_processing", "io_subsystem", "events"]

# attributes of deadlock-graph lock resources, in SQL Server's order (others given are not written)
_RESOURCE_ATTRS = {
    "keylock": ("hobtid", "dbid", "objectname", "indexname", "id", "mode", "associatedObjectId"),
    "pagelock": ("fileid", "pageid", "dbid", "subresource", "objectname", "id", "mode", "associatedObjectId"),
    "ridlock": ("fileid", "pageid", "dbid", "objectname", "id", "mode", "associatedObjectId"),
    "objectlock": ("lockPartition", "objid", "subresource", "dbid", "objectname", "id", "mode", "associatedObjectId"),
}


class XeError(Exception):
    def __init__(self, number: int, message: str, severity: int = 16, state: int = 1):
        super().__init__(message)
        self.number = number
        self.message = message
        self.severity = severity
        self.state = state


def _attr(v: Any) -> str:
    return _esc(str(v), {'"': "&quot;"})


def _local_ts(t: Optional[_dt.datetime], offset_min: int) -> str:
    if t is None:
        return "1900-01-01T00:00:00"
    t = t + _dt.timedelta(minutes=offset_min)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def _utc_z(t: _dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class XeEvent:
    """One fired event: fields as (name, value, text or None, type name, type package, is_xml)."""
    __slots__ = ("name", "package", "time", "fields", "_file_xml")

    def __init__(self, name: str, time: _dt.datetime, fields: list[tuple], package: str = "sqlserver"):
        self.name = name
        self.package = package
        self.time = time
        self.fields = fields
        self._file_xml: Optional[str] = None

    def xml(self, with_types: bool = False) -> str:
        if not with_types and self._file_xml is not None:
            return self._file_xml
        out = [f'<event name="{self.name}" package="{self.package}" timestamp="{_utc_z(self.time)}">']
        for name, value, text, tname, tpkg, is_xml in self.fields:
            out.append(f'<data name="{name}">')
            if with_types:
                out.append(f'<type name="{tname}" package="{tpkg}"/>')
            out.append("<value>" + (value if is_xml else _esc(str(value))) + "</value>")
            if text is not None:
                out.append("<text>" + _esc(str(text)) + "</text>")
            out.append("</data>")
        out.append("</event>")
        s = "".join(out)
        if not with_types:
            self._file_xml = s
        return s


class XelFile:
    __slots__ = ("path", "events", "size", "buffers")

    def __init__(self, path: str, header: int):
        self.path = path
        self.events: list[tuple[int, XeEvent]] = []
        self.size = header
        self.buffers: list[int] = []


class EventFileTarget:
    name = "event_file"

    def __init__(self, store: "XeStore", filename: str, max_file_size_mb: float, max_rollover_files: int):
        self.store = store
        base = store.resolve(filename)
        if base.lower().endswith(".xel"):
            base = base[:-4]
        self.base = base
        self.filename = filename
        self.max_file_size = int(max_file_size_mb * 1024 * 1024)
        self.max_rollover_files = int(max_rollover_files)
        self.files: list[str] = []          # paths of this target's files still on disk, oldest first
        self.current: Optional[XelFile] = None
        self.buffers_logged = 0
        self.buffers_dropped = 0

    def open_new_file(self, t: _dt.datetime) -> None:
        ticks = int((t - _FILETIME_EPOCH).total_seconds() * 10_000_000)
        while f"{self.base}_0_{ticks}.xel" in self.store.filesystem:
            ticks += 1
        path = f"{self.base}_0_{ticks}.xel"
        f = XelFile(path, self.store.file_header)
        self.store.filesystem[path] = f
        self.files.append(path)
        self.current = f
        while self.max_rollover_files > 0 and len(self.files) > self.max_rollover_files:
            old = self.files.pop(0)
            self.store.filesystem.pop(old, None)

    def write_buffer(self, events: list[XeEvent], t: _dt.datetime) -> None:
        if not events:
            return
        nbytes = sum(len(e.xml().encode("utf-8")) for e in events) + 64
        nbytes = (nbytes + 511) // 512 * 512
        if self.current is None or self.current.path not in self.store.filesystem:
            self.open_new_file(t)
        elif self.current.buffers and self.current.size + nbytes > self.max_file_size:
            self.open_new_file(t)
        f = self.current
        off = f.size
        f.buffers.append(off)
        for e in events:
            f.events.append((off, e))
        f.size += nbytes
        self.buffers_logged += 1


class RingBufferTarget:
    name = "ring_buffer"

    def __init__(self, max_events_limit: int, max_memory_kb: int):
        self.max_events = int(max_events_limit)
        self.max_bytes = int(max_memory_kb) * 1024
        self.events: collections.deque = collections.deque()
        self.bytes = 0
        self.total = 0
        self.dropped = 0

    def add(self, e: XeEvent) -> None:
        size = len(e.xml(True).encode("utf-8"))
        self.events.append((e, size))
        self.bytes += size
        self.total += 1
        while self.events and ((self.max_events and len(self.events) > self.max_events)
                               or (self.max_bytes and self.bytes > self.max_bytes)):
            _, s = self.events.popleft()
            self.bytes -= s

    def xml(self, limit: int) -> str:
        parts = []
        used = 0
        truncated = 0
        for e, _ in self.events:
            x = e.xml(True)
            n = len(x.encode("utf-8"))
            if used + n > limit:
                truncated = 1
                break
            parts.append(x)
            used += n
        head = (f'<RingBufferTarget truncated="{truncated}" processingTime="0" totalEventsProcessed="{self.total}" '
                f'eventCount="{len(self.events)}" droppedCount="{self.dropped}" memoryUsed="{self.bytes}">')
        return head + "".join(parts) + "</RingBufferTarget>"


class XeSession:
    def __init__(self, name: str, events: Iterable[str], options: dict, address: bytes):
        self.name = name
        self.events = {e.split(".")[-1].lower() for e in events}
        self.targets: dict[str, Any] = {}
        self.options = options
        self.running = False
        self.create_time: Optional[_dt.datetime] = None
        self.address = address
        self.pending: list[XeEvent] = []
        self.pending_since: Optional[_dt.datetime] = None
        self.pending_bytes = 0
        self.dispatch_latency = float(options.get("max_dispatch_latency_s", 30))
        self.max_memory_kb = int(options.get("max_memory_kb", 4096))
        self.startup_state = bool(options.get("startup_state", False))


class XeStore:
    def __init__(self, cfg: Optional[dict] = None):
        cfg = dict(cfg or {})
        self.cfg = cfg
        self.log_dir = str(cfg.get("log_dir", "/var/opt/mssql/log/"))
        if not self.log_dir.endswith(("/", "\\")):
            self.log_dir += "\\" if "\\" in self.log_dir else "/"
        self.utc_offset = int(cfg.get("utc_offset_minutes", 0))
        self.ring_limit = int(cfg.get("ring_buffer_xml_limit_bytes", 4 * 1024 * 1024))
        self.file_header = int(cfg.get("file_header_bytes", 5120))
        threshold = cfg.get("blocked_process_threshold", 0)
        if isinstance(threshold, bool) or not isinstance(threshold, int) or not 0 <= threshold <= 86400:
            raise ValueError(f"blocked_process_threshold: seconds from 0 to 86400, got {threshold!r}")
        self.blocked_process_threshold = threshold
        # sp_configure: name -> [config_value, run_value]
        self.config: dict[str, list[int]] = {"show advanced options": [0, 0],
                                             "blocked process threshold (s)": [threshold, threshold]}
        self.sessions: dict[str, XeSession] = {}
        self.filesystem: dict[str, XelFile] = {}
        self.emitted: list[dict] = []
        self._next_address = 0x1D4C5E0000
        if cfg.get("system_health", True):
            s = self.create_session("system_health",
                                    ["sqlserver.xml_deadlock_report", "sqlserver.error_reported",
                                     "sqlserver.wait_info", "sqlserver.sp_server_diagnostics_component_result"],
                                    {"event_file": {"filename": "system_health.xel",
                                                    "max_file_size": cfg.get("system_health_max_file_size_mb", 100),
                                                    "max_rollover_files": cfg.get("system_health_max_rollover_files", 10)},
                                     "ring_buffer": {"max_events_limit": 5000, "max_memory": 4096}},
                                    {"startup_state": True, "max_dispatch_latency_s": 120})
            s.running = True
        self.diagnostics_s = int(cfg.get("system_health_diagnostics_s", 300))
        rb_name = str(cfg.get("ring_buffer_session", "") or "")
        if rb_name:
            self.create_ring_buffer_session(rb_name, int(cfg.get("ring_buffer_max_events", 1000)))

    def create_ring_buffer_session(self, name: str, max_events: int = 1000,
                                   now: Optional[_dt.datetime] = None) -> XeSession:
        """A running session with blocked_process_report and xml_deadlock_report to a ring_buffer target that
        keeps at most max_events events (the oldest are dropped)."""
        s = self.create_session(name, RING_BUFFER_EVENTS, {"ring_buffer": {"max_events_limit": max_events}},
                                {"startup_state": True, "max_dispatch_latency_s": 5}, now)
        s.running = True
        s.create_time = now
        return s

    def emit_diagnostics(self, event_time: _dt.datetime) -> int:
        """system_health's sp_server_diagnostics_component_result events (one per component), which dmvlog
        passes over when it reads deadlocks from system_health."""
        n = 0
        for comp in DIAGNOSTIC_COMPONENTS:
            e = XeEvent("sp_server_diagnostics_component_result", event_time,
                        [("component", comp, comp.upper(), "component_type", "sqlserver", False),
                         ("state", 1, "CLEAN", "state", "sqlserver", False),
                         ("data", f"<{comp} state=\"clean\"/>", None, "xml", "package0", True)])
            n += self._fire(e)
        return n

    # ------------------------------------------------------------------------------------------------
    # paths

    def resolve(self, path: str) -> str:
        p = path.strip()
        if p.startswith(("/", "\\\\")) or (len(p) > 2 and p[1] == ":" and p[2] in "\\/") or p.lower().startswith("https://"):
            return p
        return self.log_dir + p

    # ------------------------------------------------------------------------------------------------
    # sessions

    def create_session(self, name: str, events: Iterable[str], targets: dict, options: Optional[dict] = None,
                       now: Optional[_dt.datetime] = None) -> XeSession:
        """targets: {'event_file': {'filename', 'max_file_size' (MB), 'max_rollover_files'},
        'ring_buffer': {'max_events_limit', 'max_memory' (KB)}}."""
        if name.lower() in (n.lower() for n in self.sessions):
            raise XeError(25631, f'The event session, "{name}", already exists. Choose a unique name for the event session.')
        self._next_address += 0x1040
        s = XeSession(name, events, dict(options or {}), self._next_address.to_bytes(8, "big"))
        for tname, p in targets.items():
            tname = tname.split(".")[-1].lower()
            if tname == "event_file":
                if not p.get("filename"):
                    raise XeError(25642, 'Mandatory customizable attributes are missing for target, "package0.event_file".')
                s.targets["event_file"] = EventFileTarget(self, str(p["filename"]), float(p.get("max_file_size", 1024)),
                                                          int(p.get("max_rollover_files", 5)))
            elif tname == "ring_buffer":
                s.targets["ring_buffer"] = RingBufferTarget(int(p.get("max_events_limit", 1000)),
                                                            int(p.get("max_memory", 0)))
            else:
                raise XeError(25706, f'The target, "package0.{tname}", could not be found.')
        self.sessions[name] = s
        return s

    def _session(self, name: str, verb: str) -> XeSession:
        for n, s in self.sessions.items():
            if n.lower() == name.lower():
                return s
        raise XeError(15151, f"Cannot {verb} the event session '{name}', because it does not exist or you do not have permission.")

    def start_session(self, name: str, now: _dt.datetime) -> None:
        s = self._session(name, "alter")
        if s.running:
            raise XeError(25705, "The event session has already been started.")
        s.running = True
        s.create_time = now
        ef = s.targets.get("event_file")
        if ef is not None:
            ef.open_new_file(now)

    def stop_session(self, name: str, now: _dt.datetime) -> None:
        s = self._session(name, "alter")
        if not s.running:
            raise XeError(25704, "The event session has already been stopped.")
        self._flush_session(s, now)
        s.running = False
        s.create_time = None
        rb = s.targets.get("ring_buffer")
        if rb is not None:          # a stopped session's ring buffer is gone
            s.targets["ring_buffer"] = RingBufferTarget(rb.max_events, rb.max_bytes // 1024)

    def drop_session(self, name: str, now: Optional[_dt.datetime] = None) -> None:
        s = self._session(name, "drop")
        if s.running and now is not None:
            self._flush_session(s, now)
        del self.sessions[s.name]

    def restart(self, now: _dt.datetime) -> None:
        """The server restarted: sessions with STARTUP_STATE = ON run again (new files); buffers in memory
        (ring buffers, unflushed events) are lost."""
        for s in self.sessions.values():
            s.pending, s.pending_since, s.pending_bytes = [], None, 0
            rb = s.targets.get("ring_buffer")
            if rb is not None:
                s.targets["ring_buffer"] = RingBufferTarget(rb.max_events, rb.max_bytes // 1024)
            s.running = False
            if s.startup_state:
                self.start_session(s.name, now)

    # ------------------------------------------------------------------------------------------------
    # firing events

    def _fire(self, e: XeEvent) -> int:
        n = 0
        for s in self.sessions.values():
            if not s.running or e.name not in s.events:
                continue
            n += 1
            rb = s.targets.get("ring_buffer")
            if rb is not None:
                rb.add(e)
            if "event_file" in s.targets:
                self._flush_due(s, e.time)
                if not s.pending:
                    s.pending_since = e.time
                s.pending.append(e)
                s.pending_bytes += len(e.xml().encode("utf-8"))
                if s.pending_bytes * 3 > s.max_memory_kb * 1024:
                    self._flush_session(s, e.time)
        return n

    def _flush_due(self, s: XeSession, now: _dt.datetime) -> None:
        if s.pending and (now - s.pending_since).total_seconds() >= s.dispatch_latency:
            self._flush_session(s, s.pending_since + _dt.timedelta(seconds=s.dispatch_latency))

    def _flush_session(self, s: XeSession, now: _dt.datetime) -> None:
        ef = s.targets.get("event_file")
        if ef is not None and s.pending:
            ef.write_buffer(s.pending, now)
        s.pending, s.pending_since, s.pending_bytes = [], None, 0

    def flush(self, now: Optional[_dt.datetime] = None) -> None:
        """Write buffers whose dispatch latency has passed at now (every buffer when now is None)."""
        for s in self.sessions.values():
            if now is None:
                if s.pending:
                    self._flush_session(s, s.pending[-1].time)
            else:
                self._flush_due(s, now)

    def _process_xml(self, p: dict, kind: str) -> str:
        """<process ...> of a blocked-process report ('blocked' / 'blocking') or a deadlock ('deadlock')."""
        off = self.utc_offset
        spid = int(p["spid"])
        xact = int(p.get("xactid", p.get("ownerId", 0)) or 0)
        lbc = p.get("lastbatchcompleted")
        lbs = p.get("lastbatchstarted")
        lbc_s = _local_ts(lbc, off)
        iso = p.get("isolationlevel", 2)
        iso = ISOLATION.get(iso, str(iso)) if isinstance(iso, int) else str(iso)
        common = [("status", p.get("status", "suspended" if kind != "blocking" else "sleeping")), ("spid", spid),
                  ("sbid", p.get("sbid", 0)), ("ecid", p.get("ecid", 0)), ("priority", p.get("priority", 0)),
                  ("trancount", p.get("trancount", 1)), ("lastbatchstarted", _local_ts(lbs, off)),
                  ("lastbatchcompleted", lbc_s), ("lastattention", "1900-01-01T00:00:00" + lbc_s[19:]),
                  ("clientapp", p.get("clientapp", "")), ("hostname", p.get("hostname", "")),
                  ("hostpid", p.get("hostpid", 0)), ("loginname", p.get("loginname", "")),
                  ("isolationlevel", iso), ("xactid", xact), ("currentdb", p.get("currentdb", 1)),
                  ("currentdbname", p.get("currentdbname", "")), ("lockTimeout", p.get("lockTimeout", 4294967295)),
                  ("clientoption1", p.get("clientoption1", 671090784)), ("clientoption2", p.get("clientoption2", 390200))]
        if kind == "blocking":
            attrs = common
        else:
            attrs = [("id", p.get("id") or process_id(spid, p.get("ecid", 0))), ("taskpriority", p.get("taskpriority", 0)),
                     ("logused", p.get("logused", 0)), ("waitresource", p.get("waitresource", "")),
                     ("waittime", int(p.get("waittime", 0))), ("ownerId", int(p.get("ownerId", xact))),
                     ("transactionname", p.get("transactionname", "user_transaction")),
                     ("lasttranstarted", _local_ts(p.get("lasttranstarted"), off)),
                     ("XDES", p.get("XDES") or f"0x{(0x2A9C1B0000 + spid * 0x428 + xact % 0x10000):x}"),
                     ("lockMode", p.get("lockMode", "U")), ("schedulerid", p.get("schedulerid", 1 + spid % 8)),
                     ("kpid", p.get("kpid", 4000 + spid * 7))] + common
        out = ["<process " + " ".join(f'{k}="{_attr(v)}"' for k, v in attrs) + ">"]
        frames = p.get("frames") or []
        if frames:
            out.append("<executionStack>")
            for f in frames:
                fa = []
                if kind == "deadlock":
                    fa.append(("procname", f.get("procname", "adhoc")))
                fa.append(("line", f.get("line", 1)))
                if f.get("stmtstart", 0):
                    fa.append(("stmtstart", f["stmtstart"]))
                if f.get("stmtend", -1) != -1:
                    fa.append(("stmtend", f["stmtend"]))
                h = f.get("sqlhandle", b"")
                fa.append(("sqlhandle", "0x" + (h.hex() if isinstance(h, (bytes, bytearray)) else str(h).removeprefix("0x"))))
                a = " ".join(f'{k}="{_attr(v)}"' for k, v in fa)
                if kind == "deadlock":
                    out.append(f"<frame {a}>\n" + _esc(str(f.get("text", "unknown"))) + "    </frame>")
                else:
                    out.append(f"<frame {a}/>")
            out.append("</executionStack>")
        else:
            out.append("<executionStack/>")
        out.append("<inputbuf>\n" + _esc(str(p.get("inputbuf", ""))[:4000]) + "   </inputbuf>")
        out.append("</process>")
        return "".join(out)

    def emit_blocked_process_report(self, event_time: _dt.datetime, monitor_loop: int, blocked: dict,
                                     blocking: dict) -> int:
        """One blocked_process_report. Not fired while 'blocked process threshold (s)' is 0 (as SQL Server).
        Returns the number of sessions that captured it."""
        if not self.blocked_process_threshold:
            return 0
        report = (f'<blocked-process-report monitorLoop="{int(monitor_loop)}"><blocked-process>'
                  + self._process_xml(blocked, "blocked") + "</blocked-process><blocking-process>"
                  + self._process_xml(blocking, "blocking") + "</blocking-process></blocked-process-report>")
        mode = blocked.get("lockMode", "U")
        mname = _REPORT_TO_MAP.get(mode, mode.upper())
        mval = LOCK_MODE_MAP.index(mname) if mname in LOCK_MODE_MAP else 0
        xact = int(blocked.get("xactid", blocked.get("ownerId", 0)) or 0)
        fields = [("duration", int(blocked.get("waittime", 0)) * 1000, None, "uint64", "package0", False),
                  ("database_id", int(blocked.get("currentdb", 1)), None, "uint32", "package0", False),
                  ("object_id", int(blocked.get("object_id", 0)), None, "int32", "package0", False),
                  ("index_id", int(blocked.get("index_id", 0)), None, "uint32", "package0", False),
                  ("lock_mode", mval, mname, "lock_mode", "sqlserver", False),
                  ("transaction_id", xact, None, "int64", "package0", False),
                  ("resource_owner_type", "0x00000001", "LOCK", "lock_owner_type", "sqlserver", False),
                  ("blocked_process", report, None, "xml", "package0", True),
                  ("database_name", blocked.get("currentdbname", ""), None, "unicode_string", "package0", False)]
        e = XeEvent("blocked_process_report", event_time, fields)
        n = self._fire(e)
        self.emitted.append({"event": "blocked_process_report", "time": event_time, "monitor_loop": int(monitor_loop),
                             "blocked_spid": int(blocked["spid"]), "blocking_spid": int(blocking["spid"]),
                             "waittime_ms": int(blocked.get("waittime", 0)),
                             "waitresource": blocked.get("waitresource", ""), "sessions": n})
        return n

    def emit_deadlock(self, event_time: _dt.datetime, victims: list, processes: list[dict],
                      resources: list[dict]) -> int:
        """One xml_deadlock_report. victims: process ids (or spids); resources: dicts with 'type' (keylock,
        pagelock, objectlock, ridlock, ...), its attributes (hobtid, dbid, objectname, indexname, id, mode,
        associatedObjectId, ...), 'owners' [{id, mode}] and 'waiters' [{id, mode, requestType}]."""
        ids = {}
        for p in processes:
            pid = p.get("id") or process_id(int(p["spid"]), p.get("ecid", 0))
            ids[int(p["spid"])] = pid
        vids = [ids.get(v, v) if isinstance(v, int) else v for v in victims]
        out = ["<deadlock><victim-list>"]
        out += [f'<victimProcess id="{_attr(v)}"/>' for v in vids]
        out.append("</victim-list><process-list>")
        for p in processes:
            out.append(self._process_xml(dict(p, id=ids[int(p["spid"])]), "deadlock"))
        out.append("</process-list><resource-list>")
        for r in resources:
            typ = r.get("type", "keylock")
            order = _RESOURCE_ATTRS.get(typ)
            if order is None:          # exchangeEvent and friends: as given
                attrs = [(k, v) for k, v in r.items() if k not in ("type", "owners", "waiters")]
            else:
                r = dict(r)
                r.setdefault("id", f"lock{zlib.crc32(repr(sorted(r.items(), key=str)).encode()) * 16 + 8:x}")
                r.setdefault("associatedObjectId", r.get("hobtid", 0))
                attrs = [(k, r[k]) for k in order if k in r]
            out.append(f"<{typ} " + " ".join(f'{k}="{_attr(v)}"' for k, v in attrs) + "><owner-list>")
            for o in r.get("owners", []):
                oid = ids.get(o["id"], o["id"]) if isinstance(o["id"], int) else o["id"]
                out.append(f'<owner id="{_attr(oid)}" mode="{_attr(o.get("mode", "X"))}"/>')
            out.append("</owner-list><waiter-list>")
            for w in r.get("waiters", []):
                wid = ids.get(w["id"], w["id"]) if isinstance(w["id"], int) else w["id"]
                out.append(f'<waiter id="{_attr(wid)}" mode="{_attr(w.get("mode", "U"))}" '
                           f'requestType="{_attr(w.get("requestType", "wait"))}"/>')
            out.append(f"</waiter-list></{typ}>")
        out.append("</resource-list></deadlock>")
        e = XeEvent("xml_deadlock_report", event_time, [("xml_report", "".join(out), None, "xml", "package0", True)])
        n = self._fire(e)
        self.emitted.append({"event": "xml_deadlock_report", "time": event_time, "victims": vids,
                             "spids": sorted(ids), "sessions": n})
        return n

    def truth_events(self, t0: _dt.datetime, t1: _dt.datetime, name: Optional[str] = None) -> list[dict]:
        return [e for e in self.emitted if t0 <= e["time"] < t1 and (name is None or e["event"] == name)]

    # ------------------------------------------------------------------------------------------------
    # reading

    def files(self, pattern: str = "*") -> list[str]:
        pat = self.resolve(pattern).casefold()
        return sorted((p for p in self.filesystem if fnmatch.fnmatchcase(p.casefold(), pat)), key=self._file_order)

    @staticmethod
    def _file_order(path: str) -> tuple:
        stem = path.rsplit("_", 1)
        try:
            return (stem[0], int(stem[1].split(".")[0]))
        except (IndexError, ValueError):
            return (path, 0)

    def read_file(self, path: str, initial_file_name: Optional[str] = None, initial_offset: Optional[int] = None,
                  now: Optional[_dt.datetime] = None) -> list[dict]:
        """sys.fn_xe_file_target_read_file(path, NULL, initial_file_name, initial_offset): rows as dicts
        (READ_FILE_COLUMNS). Buffers due at now are written first (all of them when now is None)."""
        self.flush(now)
        if (initial_file_name is None) != (initial_offset is None):
            raise XeError(25719, "Initial file name and initial offset must be specified as a pair. "
                                 "Please correct the parameters and retry your query.")
        files = self.files(path)
        if not files and "*" not in path and "?" not in path:
            raise XeError(25718, f'The log file name "{path}" is invalid. Verify that the file exists and that '
                                 f'the SQL Server service account has access to it.')
        start = 0
        min_offset = -1
        if initial_file_name is not None:
            want = self.resolve(initial_file_name).casefold()
            idx = next((i for i, f in enumerate(files) if f.casefold() == want), None)
            if idx is None:
                raise XeError(25718, f'The log file name "{initial_file_name}" is invalid. Verify that the file '
                                     f'exists and that the SQL Server service account has access to it.')
            f = self.filesystem[files[idx]]
            if int(initial_offset) not in f.buffers and int(initial_offset) != self.file_header:
                raise XeError(25722, f'The offset {int(initial_offset)} is invalid for log file "{initial_file_name}". '
                                     f'Specify an offset that exists in the log file and retry your query.')
            start = idx
            min_offset = int(initial_offset)
        rows = []
        for i in range(start, len(files)):
            f = self.filesystem[files[i]]
            for off, e in f.events:
                if i == start and off <= min_offset:
                    continue
                rows.append({"module_guid": SQLSERVER_MODULE_GUID, "package_guid": SQLSERVER_PACKAGE_GUID,
                             "object_name": e.name, "event_data": e.xml(), "file_name": f.path, "file_offset": off,
                             "timestamp_utc": e.time})
        return rows

    def ring_buffer_xml(self, session: str) -> Optional[str]:
        s = self._session(session, "alter")
        rb = s.targets.get("ring_buffer")
        return None if rb is None or not s.running else rb.xml(self.ring_limit)

    def session_rows(self) -> list[dict]:
        """sys.dm_xe_sessions: running sessions."""
        out = []
        for s in self.sessions.values():
            if not s.running:
                continue
            out.append({"address": s.address, "name": s.name, "pending_buffers": 1 if s.pending else 0,
                        "total_regular_buffers": 3, "regular_buffer_size": s.max_memory_kb * 1024 // 3,
                        "total_large_buffers": 0, "large_buffer_size": 0,
                        "total_buffer_size": s.max_memory_kb * 1024, "buffer_policy_flags": 0,
                        "buffer_policy_desc": "", "flags": 0, "flag_desc": "", "dropped_event_count": 0,
                        "dropped_buffer_count": 0, "blocked_event_fire_time": 0,
                        "create_time": s.create_time, "largest_event_dropped_size": 0, "session_source": "server"})
        return out

    def target_rows(self) -> list[dict]:
        """sys.dm_xe_session_targets (target_data: the ring buffer XML, or the event_file's current file)."""
        out = []
        for s in self.sessions.values():
            if not s.running:
                continue
            for tname, t in s.targets.items():
                if tname == "ring_buffer":
                    data = t.xml(self.ring_limit)
                    count = t.total
                else:
                    cur = t.current.path if t.current else ""
                    data = (f'<EventFileTarget truncated="0"><Buffers logged="{t.buffers_logged}" '
                            f'dropped="{t.buffers_dropped}" /><File name="{_attr(cur)}" /></EventFileTarget>')
                    count = t.buffers_logged
                out.append({"event_session_address": s.address, "target_name": tname,
                            "target_package_guid": PACKAGE0_GUID, "execution_count": count,
                            "execution_duration_ms": 0, "target_data": data, "session_name": s.name})
        return out

    def server_session_rows(self) -> list[dict]:
        """sys.server_event_sessions: every defined session, running or not."""
        return [{"event_session_id": 65535 + i, "name": s.name, "event_retention_mode": "S",
                 "event_retention_mode_desc": "ALLOW_SINGLE_EVENT_LOSS", "max_dispatch_latency": int(s.dispatch_latency * 1000),
                 "max_memory": s.max_memory_kb, "max_event_size": 0, "memory_partition_mode": "N",
                 "memory_partition_mode_desc": "NONE", "track_causality": 0,
                 "startup_state": 1 if s.startup_state else 0}
                for i, s in enumerate(self.sessions.values())]


def process_id(spid: int, ecid: int = 0) -> str:
    """A process id like SQL Server's 'process1f3a2b5c8' (a task address), stable per spid/ecid."""
    return f"process{0x1F3A200000 + spid * 0x4C8 + ecid * 0x38:x}"
