"""The TDS listener: accepts clients on 127.0.0.1, one thread per connection, one lock around the engine.

The engine's protocol-level faults are read on every turn of the accept loop: while
engine.accept_connections() is false the listening socket is closed (clients get "connection refused")
and it is opened again on the same port when the fault ends; engine.answer_on_connect() is read by each
new connection before it answers PRELOGIN.
"""
from __future__ import annotations

import datetime as _dt
import select
import socket
import ssl
import threading
from typing import Any, Optional, TextIO

from . import tls
from .connection import Connection

DEFAULT_VERSION = (16, 0, 4135)  # SQL Server 2022
POLL_SECONDS = 0.1


def parse_version(v: Any) -> tuple[int, int, int]:
    """'16.0.4135.4' or (16, 0, 4135) -> (16, 0, 4135)."""
    if isinstance(v, str):
        parts = [int(p) for p in v.split(".")[:3]]
    else:
        parts = [int(p) for p in tuple(v)[:3]]
    parts += [0] * (3 - len(parts))
    return parts[0] & 0xFF, parts[1] & 0xFF, parts[2] & 0xFFFF


class Server:
    def __init__(self, engine: Any, log: TextIO, host: str = "127.0.0.1", server_name: str = "SQLSIM"):
        self.engine = engine
        self.engine_lock = threading.RLock()
        self.host = host
        self.port = 0
        self.listener: Optional[socket.socket] = None
        self.server_name = str(getattr(engine, "server_name", server_name) or server_name)
        version = getattr(engine, "product_version", None)
        try:
            self.version = parse_version(version() if callable(version) else version) if version \
                else DEFAULT_VERSION
        except (TypeError, ValueError):
            self.version = DEFAULT_VERSION
        self.log_stream = log
        self.log_lock = threading.Lock()
        self.conn_lock = threading.Lock()
        self.connections: set[Connection] = set()
        self.spid_counter = 50
        self.transaction_counter = 0   # transaction descriptors of the ENVCHANGE tokens (begin transaction)
        self.stopping = threading.Event()
        self.tls_context: Optional[ssl.SSLContext] = None  # set by enable_tls: TLS offered to clients

    def enable_tls(self, cert_file: str, key_file: str) -> None:
        """Offer TLS with this certificate and key (PEM files); raises ssl.SSLError / OSError if unusable."""
        self.tls_context = tls.server_context(cert_file, key_file)

    # ------------------------------------------------------------------ engine

    def engine_call(self, name: str, *args: Any, default: Any = None) -> Any:
        """Call an engine method under the engine lock; default if the engine does not have it."""
        fn = getattr(self.engine, name, None)
        if fn is None:
            return default
        with self.engine_lock:
            return fn(*args)

    # ------------------------------------------------------------------ logging

    def log_text(self, text: str) -> None:
        stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        with self.log_lock:
            try:
                self.log_stream.write(f"{stamp} {text}\n")
                self.log_stream.flush()
            except (OSError, ValueError):
                pass

    def log_query(self, spid: int, sql: str, outcome: str) -> None:
        text = " ".join(sql.split())[:200]
        self.log_text(f"spid {spid} | {text} | {outcome}")

    # ------------------------------------------------------------------ connections

    def next_spid(self) -> int:
        with self.conn_lock:
            self.spid_counter += 1
            if self.spid_counter > 32000:
                self.spid_counter = 51
            return self.spid_counter

    def next_transaction(self) -> int:
        with self.conn_lock:
            self.transaction_counter += 1
            return self.transaction_counter

    def forget(self, conn: Connection) -> None:
        with self.conn_lock:
            self.connections.discard(conn)
        if conn.session is not None:
            try:
                self.engine_call("disconnect", conn.session)
            except Exception as e:  # an engine without a sane disconnect hook must not break us
                self.log_text(f"spid {conn.spid}: engine.disconnect failed: {e}")

    def kill_connections(self) -> int:
        with self.conn_lock:
            conns = list(self.connections)
        for c in conns:
            c.close()
        return len(conns)

    def connection_list(self) -> list[dict]:
        with self.conn_lock:
            conns = list(self.connections)
        return [{"spid": c.spid, "login": c.session.login if c.session else None,
                 "app_name": c.session.app_name if c.session else None, "encryption": c.encryption}
                for c in conns]

    # ------------------------------------------------------------------ listening

    def bind(self, port: int) -> int:
        """Open the listening socket; the real port (port 0 picks a free one)."""
        self.port = port
        self._open()
        return self.port

    def _open(self) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(64)
        self.port = s.getsockname()[1]
        self.listener = s

    def _close_listener(self) -> None:
        if self.listener is not None:
            try:
                self.listener.close()
            except OSError:
                pass
            self.listener = None

    def _accepting(self) -> bool:
        try:
            return bool(self.engine_call("accept_connections", default=True))
        except Exception as e:
            self.log_text(f"engine.accept_connections failed: {e}")
            return True

    def serve(self) -> None:
        """Accept clients until stop() is called."""
        while not self.stopping.is_set():
            accepting = self._accepting()
            if not accepting:
                if self.listener is not None:
                    self.log_text("refusing connections (listener closed)")
                    self._close_listener()
                self.stopping.wait(POLL_SECONDS)
                continue
            if self.listener is None:
                try:
                    self._open()
                    self.log_text(f"accepting connections again on {self.port}")
                except OSError as e:
                    self.log_text(f"cannot listen again on {self.port}: {e}")
                    self.stopping.wait(POLL_SECONDS)
                    continue
            try:
                ready, _, _ = select.select([self.listener], [], [], POLL_SECONDS)
            except (OSError, ValueError):
                continue
            if not ready:
                continue
            try:
                sock, peer = self.listener.accept()
            except OSError:
                continue
            if not self._accepting():
                sock.close()
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(self, sock, peer)
            with self.conn_lock:
                self.connections.add(conn)
            threading.Thread(target=conn.run, name=f"spid-{conn.spid}", daemon=True).start()
        self._close_listener()

    def stop(self) -> None:
        self.stopping.set()
