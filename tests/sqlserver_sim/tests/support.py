"""Helpers for the simulator's tests: start sqlserver-sim as a subprocess on a free port, talk to its control
port, connect to it with pyodbc through unixODBC and the FreeTDS driver.

Every wait is bounded, so that a broken simulator fails a test instead of hanging the suite (ctest runs it
in parallel with other tests on small machines): the simulator picks its own ports (--port 0), startup
waits at most `start(timeout)`, pyodbc connections get a login timeout and a query timeout (QUERY_TIMEOUT
unless asked otherwise), raw TDS sockets and control-port calls a socket timeout, and close() kills the
process if it does not stop. Time limits in assertions are generous (see SLACK): they catch a simulator
that hangs or is an order of magnitude too slow, not a busy machine.

The project's driver registry (tests/odbc/odbcinst.ini) is used by pointing ODBCSYSINI at it; the path is
computed from this file, so the tests run from any checkout.

FaultStubEngine is a tiny engine for the connection-fault tests; the simulator loads it with
`--engine tests.support:FaultStubEngine` (the simulator's folder is on its sys.path).
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

SIM_DIR = Path(__file__).resolve().parent.parent          # tests/sqlserver_sim
SIM_EXE = SIM_DIR / "sqlserver-sim"
ODBC_DIR = SIM_DIR.parent / "odbc"                        # tests/odbc

os.environ["ODBCSYSINI"] = str(ODBC_DIR)
if str(SIM_DIR) not in sys.path:
    sys.path.insert(0, str(SIM_DIR))

from sim.selftest import BasicEngine  # noqa: E402

LOGIN = "dmvlog"
PASSWORD = "dmvlog"
QUERY_TIMEOUT = 30      # seconds; every pyodbc query of the tests is bounded by it unless a test asks otherwise
SLACK = 3.0             # factor on wall-time limits that a loaded 2-core machine may need


def conn_str(port: int, uid: str = LOGIN, pwd: str = PASSWORD, database: str = "master") -> str:
    return (f"Driver=FreeTDS;Server=127.0.0.1;Port={port};TDS_Version=7.4;UID={uid};PWD={pwd};"
            f"Database={database}")


class Simulator:
    """sqlserver-sim in a subprocess, with a query log in a temporary folder. Use as a context manager."""

    def __init__(self, engine: str = "selftest", control: bool = True, extra: Optional[list[str]] = None):
        self.engine = engine
        self.control_wanted = control
        self.extra = extra or []
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0
        self.control_port = 0
        self.startup_seconds = 0.0
        self.tmp = tempfile.mkdtemp(prefix="sqlserver-sim-test-")
        self.log_path = os.path.join(self.tmp, "queries.log")
        self.stderr_path = os.path.join(self.tmp, "stderr.txt")

    def __enter__(self) -> "Simulator":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def start(self, timeout: float = 30.0) -> None:
        args = [str(SIM_EXE), "--port", "0", "--engine", self.engine, "--log", self.log_path] + self.extra
        if self.control_wanted:
            args += ["--control-port", "0"]
        started = time.monotonic()
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._stderr, cwd=str(SIM_DIR))
        wanted = 2 if self.control_wanted else 1
        lines = self._read_lines(wanted, started + timeout)
        self.startup_seconds = time.monotonic() - started
        if not lines or not lines[0].startswith("listening on "):
            self.close()
            raise RuntimeError(f"simulator did not start: {lines!r} {self.stderr()}")
        self.port = int(lines[0].split()[-1])
        if self.control_wanted:
            if len(lines) < 2 or not lines[1].startswith("control on "):
                self.close()
                raise RuntimeError(f"simulator printed no control port: {lines!r} {self.stderr()}")
            self.control_port = int(lines[1].split()[-1])

    def _read_lines(self, n: int, deadline: float) -> list[str]:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buf = b""
        while buf.count(b"\n") < n and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
        return buf.decode("utf-8", "replace").splitlines()

    def conn_str(self, **kw: Any) -> str:
        return conn_str(self.port, **kw)

    def connect(self, login_timeout: int = 10, query_timeout: int = QUERY_TIMEOUT, **kw: Any):
        """A pyodbc connection; query_timeout (seconds, > 0) bounds every query of its cursors."""
        import pyodbc
        if query_timeout <= 0:
            raise ValueError("tests must not wait for an answer without a time limit")
        cnxn = pyodbc.connect(self.conn_str(**kw), timeout=login_timeout)
        cnxn.timeout = query_timeout  # applies to cursors created afterwards
        return cnxn

    def control(self, cmd: dict, timeout: float = 30.0) -> dict:
        """One control command; the socket timeout bounds every wait (a silent simulator is an error)."""
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=timeout) as s:
            s.sendall(json.dumps(cmd).encode("utf-8") + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return json.loads(buf.decode("utf-8"))

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stderr(self) -> str:
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, wait: float = 5.0) -> tuple[Optional[int], float]:
        """Send a signal and wait: (exit status or None if still running, seconds it took)."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.monotonic() - started

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if getattr(self, "_stderr", None) is not None:
            self._stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def port_refuses(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


class FaultStubEngine(BasicEngine):
    """BasicEngine plus two connection faults switched over the control port:
    {"cmd": "refuse", "on": true}     accept_connections() is false
    {"cmd": "no_answer", "on": true}  answer_on_connect() is false
    """

    def __init__(self, **kwargs: Any):
        super().__init__()
        self.refuse = False
        self.no_answer = False

    def accept_connections(self) -> bool:
        return not self.refuse

    def answer_on_connect(self) -> bool:
        return not self.no_answer

    def control(self, cmd: dict) -> dict:
        name = cmd.get("cmd")
        if name == "refuse":
            self.refuse = bool(cmd.get("on", True))
        elif name == "no_answer":
            self.no_answer = bool(cmd.get("on", True))
        else:
            return {"ok": False, "error": f"unknown command {name!r}"}
        return {"ok": True}


# ---------------------------------------------------------------------------------------------------------
# A raw TDS client, written independently of the simulator's own code, to check answers token by token.

COLLATION = bytes([0x09, 0x04, 0xD0, 0x00, 0x34])


def int_param(name: str, value: Optional[int], output: bool = False) -> bytes:
    """An RPC parameter of type INTN(4)."""
    n = name.encode("utf-16-le")
    head = bytes([len(n) // 2]) + n + bytes([1 if output else 0]) + b"\x26\x04"
    return head + (b"\x00" if value is None else b"\x04" + struct.pack("<i", value))


def nvarchar_param(name: str, value: str) -> bytes:
    """An RPC parameter of type NVARCHAR(4000)."""
    n = name.encode("utf-16-le")
    data = value.encode("utf-16-le")
    return (bytes([len(n) // 2]) + n + b"\x00" + b"\xe7" + struct.pack("<H", 8000) + COLLATION
            + struct.pack("<H", len(data)) + data)


class RawTdsClient:
    def __init__(self, port: int, packet_size: int = 4096, timeout: float = 30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.packet_size = packet_size
        self.packet_lengths: list[int] = []   # lengths of the packets of the last reply
        self.server_names: list[str] = []     # server names of the ERROR / INFO tokens of the last reply

    def close(self) -> None:
        self.sock.close()

    def send(self, ptype: int, payload: bytes) -> None:
        room = self.packet_size - 8
        chunks = [payload[i:i + room] for i in range(0, len(payload), room)] or [b""]
        for i, chunk in enumerate(chunks):
            status = 1 if i == len(chunks) - 1 else 0
            self.sock.sendall(struct.pack(">BBHHBB", ptype, status, len(chunk) + 8, 0, i + 1, 0) + chunk)

    def _recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
        return buf

    def reply(self) -> bytes:
        """The payload of the next server message (all its packets)."""
        self.packet_lengths = []
        parts = []
        while True:
            ptype, status, length, _spid, _pid, _win = struct.unpack(">BBHHBB", self._recv_exact(8))
            if ptype != 0x04:
                raise ValueError(f"server packet type 0x{ptype:02x}")
            self.packet_lengths.append(length)
            parts.append(self._recv_exact(length - 8))
            if status & 0x01:
                return b"".join(parts)

    def login(self, user: str = LOGIN, password: str = PASSWORD, database: str = "master") -> list[tuple]:
        # PRELOGIN: VERSION, ENCRYPTION = not supported, terminator
        opts = [(0x00, bytes([11, 0, 0, 0, 0, 0])), (0x01, b"\x02")]
        offset, head, body = 5 * len(opts) + 1, b"", b""
        for token, data in opts:
            head += struct.pack(">BHH", token, offset, len(data))
            body += data
            offset += len(data)
        self.send(0x12, head + b"\xff" + body)
        self.reply()
        # LOGIN7
        def scramble(pw: str) -> bytes:
            return bytes((((b << 4) & 0xF0) | (b >> 4)) ^ 0xA5 for b in pw.encode("utf-16-le"))
        fields = [("host", "rawclient".encode("utf-16-le")), ("user", user.encode("utf-16-le")),
                  ("password", scramble(password)), ("app", "rawtest".encode("utf-16-le")),
                  ("server", b""), ("ext", b""), ("lib", "raw".encode("utf-16-le")), ("lang", b""),
                  ("db", database.encode("utf-16-le"))]
        header_size = 36 + 4 * len(fields) + 6 + 4 + 4 + 4 + 4
        pos, table, data = header_size, b"", b""
        for _, raw in fields:
            table += struct.pack("<HH", pos, len(raw) // 2)
            data += raw
            pos += len(raw)
        table += b"\x00" * 6 + struct.pack("<HH", pos, 0) * 3 + struct.pack("<I", 0)
        fixed = struct.pack("<IIIIIIBBBBiI", header_size + len(data), 0x74000004, self.packet_size, 7, 1234, 0,
                            0xE0, 0x03, 0, 0, 0, 0x0409)
        self.send(0x10, fixed + table + data)
        self.server_names = []
        return tokens(self.reply(), self.server_names)

    def batch(self, sql: str) -> list[tuple]:
        self.send(0x01, struct.pack("<IIHQI", 22, 18, 2, 0, 1) + sql.encode("utf-16-le"))
        self.server_names = []
        return tokens(self.reply(), self.server_names)

    def rpc(self, proc: int | str, params: list[bytes]) -> list[tuple]:
        all_headers = struct.pack("<IIHQI", 22, 18, 2, 0, 1)
        if isinstance(proc, int):
            head = struct.pack("<HH", 0xFFFF, proc)
        else:
            name = proc.encode("utf-16-le")
            head = struct.pack("<H", len(name) // 2) + name
        self.send(0x03, all_headers + head + b"\x00\x00" + b"".join(params))
        self.server_names = []
        return tokens(self.reply(), self.server_names)

    def attention(self) -> list[tuple]:
        self.send(0x06, b"")
        return tokens(self.reply())


def _read_intn(data: bytes, pos: int) -> tuple[Optional[int], int]:
    n = data[pos]
    if n == 0:
        return None, pos + 1
    return int.from_bytes(data[pos + 1:pos + 1 + n], "little", signed=True), pos + 1 + n


def tokens(data: bytes, server_names: Optional[list[str]] = None) -> list[tuple]:
    """A server message as a list of tuples: ('DONE'|'DONEPROC'|'DONEINPROC', status, count),
    ('COLMETADATA', [names]), ('ROW', [values]), ('RETURNSTATUS', n), ('RETURNVALUE', name, value),
    ('ERROR'|'INFO', number, message), ('ENVCHANGE', kind), ('LOGINACK', program, (major, minor, build)).
    The server name of each ERROR / INFO is appended to server_names when given. Only the column types
    the tests use (INTN, NVARCHAR) are understood."""
    out: list[tuple] = []
    pos = 0
    columns: list[tuple[int, int]] = []
    while pos < len(data):
        t = data[pos]
        pos += 1
        if t in (0xFD, 0xFE, 0xFF):
            status, _cmd, count = struct.unpack_from("<HHQ", data, pos)
            pos += 12
            out.append(({0xFD: "DONE", 0xFE: "DONEPROC", 0xFF: "DONEINPROC"}[t], status, count))
        elif t == 0x79:
            out.append(("RETURNSTATUS", struct.unpack_from("<i", data, pos)[0]))
            pos += 4
        elif t in (0xAA, 0xAB, 0xE3, 0xAD):
            length = struct.unpack_from("<H", data, pos)[0]
            body = data[pos + 2:pos + 2 + length]
            pos += 2 + length
            if t in (0xAA, 0xAB):
                number = struct.unpack_from("<i", body, 0)[0]
                n = struct.unpack_from("<H", body, 6)[0]
                out.append(("ERROR" if t == 0xAA else "INFO", number, body[8:8 + 2 * n].decode("utf-16-le")))
                if server_names is not None:
                    k = 8 + 2 * n
                    server_names.append(body[k + 1:k + 1 + 2 * body[k]].decode("utf-16-le"))
            elif t == 0xE3:
                out.append(("ENVCHANGE", body[0]))
            else:   # interface, TDS version, program name (B_VARCHAR), major, minor, build (big-endian)
                n = body[5]
                k = 6 + 2 * n
                out.append(("LOGINACK", body[6:k].decode("utf-16-le"),
                            (body[k], body[k + 1], (body[k + 2] << 8) | body[k + 3])))
        elif t == 0x81:
            count = struct.unpack_from("<H", data, pos)[0]
            pos += 2
            columns, names = [], []
            for _ in range(count):
                pos += 6  # user type, flags
                ctype = data[pos]
                if ctype == 0x26:
                    columns.append((ctype, data[pos + 1]))
                    pos += 2
                elif ctype == 0xE7:
                    columns.append((ctype, struct.unpack_from("<H", data, pos + 1)[0]))
                    pos += 1 + 2 + 5
                else:
                    raise ValueError(f"test client cannot read column type 0x{ctype:02x}")
                n = data[pos]
                names.append(data[pos + 1:pos + 1 + 2 * n].decode("utf-16-le"))
                pos += 1 + 2 * n
            out.append(("COLMETADATA", names))
        elif t == 0xD1:
            values: list[Any] = []
            for ctype, size in columns:
                if ctype == 0x26:
                    v, pos = _read_intn(data, pos)
                elif size == 0xFFFF:  # PLP: total length, chunks, terminator
                    total = struct.unpack_from("<Q", data, pos)[0]
                    pos += 8
                    v = None
                    if total != 0xFFFFFFFFFFFFFFFF:
                        raw = b""
                        while True:
                            n = struct.unpack_from("<I", data, pos)[0]
                            pos += 4
                            if n == 0:
                                break
                            raw += data[pos:pos + n]
                            pos += n
                        v = raw.decode("utf-16-le")
                else:
                    n = struct.unpack_from("<H", data, pos)[0]
                    v = None if n == 0xFFFF else data[pos + 2:pos + 2 + n].decode("utf-16-le")
                    pos += 2 + (0 if n == 0xFFFF else n)
                values.append(v)
            out.append(("ROW", values))
        elif t == 0xAC:
            pos += 2  # ordinal
            n = data[pos]
            name = data[pos + 1:pos + 1 + 2 * n].decode("utf-16-le")
            pos += 1 + 2 * n + 1 + 4 + 2  # name, status, user type, flags
            if data[pos] != 0x26:
                raise ValueError("test client reads INTN return values only")
            v, pos = _read_intn(data, pos + 2)
            out.append(("RETURNVALUE", name, v))
        else:
            raise ValueError(f"unexpected token 0x{t:02x} at {pos - 1}")
    return out
