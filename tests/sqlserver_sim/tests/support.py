"""Helpers for the simulator's tests: start sqlserver-sim as a subprocess on a free port, talk to its control
port, connect to it with pyodbc through unixODBC and the FreeTDS driver.

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

    def start(self, timeout: float = 10.0) -> None:
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

    def connect(self, login_timeout: int = 5, query_timeout: int = 0, **kw: Any):
        import pyodbc
        cnxn = pyodbc.connect(self.conn_str(**kw), timeout=login_timeout)
        cnxn.timeout = query_timeout  # applies to cursors created afterwards
        return cnxn

    def control(self, cmd: dict, timeout: float = 5.0) -> dict:
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
                self.proc.wait()
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
