"""The control port: JSON lines over TCP on 127.0.0.1, one JSON line answered per line received.

Commands handled here, by the protocol layer:
    {"cmd": "ping"}              -> {"ok": true}
    {"cmd": "kill_connections"}  -> {"ok": true, "killed": N}   closes every client socket
    {"cmd": "protocol_connections"} -> {"ok": true, "connections": [{"spid": 51, "login": "dmvlog", ...}]}
Every other object is handed to engine.control(cmd) (under the engine lock) and its dict is the answer.
Failures are answered as {"ok": false, "error": "..."}; the connection stays open.
"""
from __future__ import annotations

import json
import select
import socket
import threading
from typing import Any

from .tds.server import Server

MAX_LINE = 1024 * 1024


class ControlServer:
    def __init__(self, server: Server, host: str = "127.0.0.1"):
        self.server = server
        self.host = host
        self.listener: socket.socket | None = None
        self.port = 0

    def bind(self, port: int) -> int:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, port))
        s.listen(16)
        self.listener = s
        self.port = s.getsockname()[1]
        return self.port

    def start(self) -> None:
        threading.Thread(target=self._accept_loop, name="control", daemon=True).start()

    def _accept_loop(self) -> None:
        assert self.listener is not None
        while not self.server.stopping.is_set():
            try:
                ready, _, _ = select.select([self.listener], [], [], 0.2)
                if not ready:
                    continue
                sock, _ = self.listener.accept()
            except (OSError, ValueError):
                continue
            threading.Thread(target=self._client, args=(sock,), name="control-client", daemon=True).start()

    def _client(self, sock: socket.socket) -> None:
        buf = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if not line.strip():
                        continue
                    answer = self.handle_line(line)
                    sock.sendall(json.dumps(answer, default=str).encode("utf-8") + b"\n")
                if len(buf) > MAX_LINE:
                    sock.sendall(b'{"ok": false, "error": "line too long"}\n')
                    return
        except OSError:
            pass
        finally:
            sock.close()

    def handle_line(self, line: bytes) -> dict:
        try:
            cmd = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            return {"ok": False, "error": f"not a JSON line: {e}"}
        if not isinstance(cmd, dict):
            return {"ok": False, "error": "expected a JSON object"}
        try:
            return self.handle(cmd)
        except Exception as e:
            return {"ok": False, "error": f"{type(e).__name__}: {e}"}

    def handle(self, cmd: dict) -> dict:
        name = cmd.get("cmd")
        if name == "ping":
            return {"ok": True}
        if name == "kill_connections":
            n = self.server.kill_connections()
            self.server.log_text(f"control: closed {n} client connection(s)")
            return {"ok": True, "killed": n}
        if name == "protocol_connections":
            return {"ok": True, "connections": self.server.connection_list()}
        if getattr(self.server.engine, "control", None) is None:
            return {"ok": False, "error": f"unknown command {name!r}"}
        answer: Any = self.server.engine_call("control", cmd)
        if not isinstance(answer, dict):
            return {"ok": False, "error": f"engine answered {type(answer).__name__}, not an object"}
        return answer

    def close(self) -> None:
        if self.listener is not None:
            try:
                self.listener.close()
            except OSError:
                pass
