"""One client connection: PRELOGIN, LOGIN7, then SQL batches, RPCs and attentions until the client leaves.

Engine calls go through the server (one lock for all connections); the faults the engine asks for (Delay,
Hang, DropConnection) are carried out here, outside the lock. An attention that arrives while a Delay or
Hang is being waited out cancels it: the answer ends with DONE carrying the attention bit and the
connection stays usable. An attention that arrives after the answer was sent is acknowledged the same way.
"""
from __future__ import annotations

import socket
import time
import traceback
from typing import TYPE_CHECKING, Any, Optional

from .. import results as R
from . import login7, packets as P, prelogin, rpc, tls, tokens as K
from .datatypes import DEFAULT_COLLATION, Reader, WireTypeError

if TYPE_CHECKING:
    from .server import Server

LOGIN_FAILED = 18456
# transaction-manager requests ([MS-TDS] 2.2.6.9)
TM_BEGIN_XACT = 5
TM_COMMIT_XACT = 7
TM_ROLLBACK_XACT = 8


class Cancelled(Exception):
    """An attention arrived while a fault was being waited out."""


class Dropped(Exception):
    """The answer ended by closing the socket (DropConnection)."""


class Connection:
    def __init__(self, server: "Server", sock: socket.socket, peer: Any):
        self.server = server
        self.sock = sock
        self.peer = peer
        self.spid = server.next_spid()
        self.reader = P.PacketReader(sock)
        self.writer = P.PacketWriter(sock, spid=0)
        self.session: Optional[R.Session] = None
        self.prepared: dict[int, tuple[str, Optional[str]]] = {}
        self.next_handle = 1
        self.told_database = "master"
        self.closed = False
        self.encryption = "none"  # "full" (every packet in TLS), "login" (LOGIN7 only) or "none"
        self.transaction = 0      # the descriptor of the open transaction (0: none)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the socket (from any thread): a blocked read in the handler thread then ends.

        The close is orderly (FIN): data already sent still reaches the client, which then meets end of
        file; FreeTDS reports that as native error 20017 "Unexpected EOF from the server" on the call in
        progress and as 08S01 on the next call. (A TCP reset would make Linux discard the rows not yet read
        and FreeTDS report only "Unknown error".)"""
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def run(self) -> None:
        try:
            if not self._handshake():
                return
            while True:
                ptype, status, payload = self.reader.read_message()
                if ptype == P.SQL_BATCH:
                    self._sql_batch(payload)
                elif ptype == P.RPC:
                    self._rpc(payload)
                elif ptype == P.ATTENTION:
                    self.writer.send(K.done(K.DONE_ATTN))
                elif ptype == P.TRANSACTION_MANAGER:
                    self._transaction_manager(payload)
                else:
                    self._send_error(R.Error(4002, f"The incoming tabular data stream (TDS) packet type "
                                                   f"0x{ptype:02x} is not supported.", severity=16))
        except (P.ConnectionClosed, Dropped):
            pass
        except Exception:  # a bug in the simulator: log it, drop the client
            self.server.log_text(f"spid {self.spid}: connection handler failed:\n{traceback.format_exc()}")
        finally:
            self.close()
            self.server.forget(self)

    # ------------------------------------------------------------------ login

    def _handshake(self) -> bool:
        ptype, _status, payload = self.reader.read_message()
        if not self.server.engine_call("answer_on_connect", default=True):
            # fault: accept and never answer; wait for the client to give up
            self.server.log_text(f"spid {self.spid}: connection from {self.peer[0]} left unanswered (fault)")
            while True:
                self.reader.read_packet()
        if ptype == P.PRELOGIN:
            opts = prelogin.parse(payload)
            enc = opts.get(prelogin.ENCRYPTION, b"\x00")
            client_enc = enc[0] if enc else prelogin.ENCRYPT_OFF
            ctx = self.server.tls_context
            answer = prelogin.negotiate(client_enc, ctx is not None)
            if client_enc in (prelogin.ENCRYPT_ON, prelogin.ENCRYPT_REQ) and answer == prelogin.ENCRYPT_NOT_SUP:
                self.server.log_text(f"spid {self.spid}: client requires encryption, which is not supported "
                                     "(start the simulator with --tls-dir or --tls-cert/--tls-key)")
            self.writer.send(prelogin.reply(self.server.version, self.spid, answer))
            if answer != prelogin.ENCRYPT_NOT_SUP:
                assert ctx is not None
                try:
                    secure = tls.handshake(ctx, self.sock, self.reader, self.writer)
                except tls.TlsError as e:
                    self.server.log_text(f"spid {self.spid}: TLS handshake failed: {e}")
                    return False
                plain_reader, plain_writer = self.reader, self.writer
                self.reader = P.PacketReader(secure)  # type: ignore[arg-type]
                self.writer = P.PacketWriter(secure, spid=0)  # type: ignore[arg-type]
                ptype, _status, payload = self.reader.read_message()
                if answer == prelogin.ENCRYPT_OFF:  # login-only: plain again after LOGIN7
                    self.reader, self.writer = plain_reader, plain_writer
                    self.encryption = "login"
                else:
                    self.encryption = "full"
            else:
                ptype, _status, payload = self.reader.read_message()
        login = login7.parse(payload)
        session = R.Session(spid=self.spid, login=login.user_name, database=login.database or "master",
                            app_name=login.app_name, host_name=login.host_name)
        try:
            err = self.server.engine_call("login", session, login.password)
        except Exception as e:
            err = R.Error(LOGIN_FAILED, f"Login failed for user '{login.user_name}'. ({e})", state=1, severity=14)
        if err is not None:
            self.writer.send(self._message(err) + K.done(K.DONE_ERROR))
            self.server.log_query(self.spid, f"LOGIN {login.user_name}", f"login refused: error {err.number}")
            return False
        packet_size = login.packet_size
        if not 512 <= packet_size <= 32767:
            packet_size = P.DEFAULT_PACKET_SIZE
        self.session = session
        self.told_database = session.database
        self.writer.spid = self.spid
        reply = [
            K.envchange_text(K.ENV_DATABASE, session.database, "master"),
            K.envchange_collation(self._collation()),
            K.message(K.INFO, 5701, 2, 0, f"Changed database context to '{session.database}'.",
                      self.server.server_name),
            K.envchange_text(K.ENV_LANGUAGE, "us_english", ""),
            K.loginack("Microsoft SQL Server", self.server.version),
            K.envchange_text(K.ENV_PACKETSIZE, str(packet_size), str(P.DEFAULT_PACKET_SIZE)),
            K.done(K.DONE_FINAL),
        ]
        self.writer.send(b"".join(reply))
        self.writer.packet_size = packet_size
        self.server.log_query(self.spid, f"LOGIN {login.user_name} app={login.app_name!r} db={session.database} "
                                         f"encryption={self.encryption}", "ok")
        return True

    def _collation(self) -> bytes:
        return DEFAULT_COLLATION

    # ------------------------------------------------------------------ requests

    def _sql_batch(self, payload: bytes) -> None:
        text = payload[rpc.skip_all_headers(payload):].decode("utf-16-le", "replace")
        results = self._execute(text, {})
        outcome = self._answer(results, None)
        self.server.log_query(self.spid, text, outcome)

    def _rpc(self, payload: bytes) -> None:
        try:
            calls = rpc.parse(payload)
        except (ValueError, WireTypeError) as e:
            self._send_error(R.Error(8009, f"The incoming tabular data stream (TDS) remote procedure call (RPC) "
                                           f"protocol stream is incorrect: {e}", severity=16))
            self.server.log_query(self.spid, "RPC", f"unreadable: {e}")
            return
        for i, call in enumerate(calls):
            self._rpc_call(call, last=(i == len(calls) - 1))

    def _rpc_call(self, call: rpc.RpcCall, last: bool) -> None:
        ps = call.params
        returns: list[bytes] = []

        def value(i: int) -> Any:
            return ps[i].value if i < len(ps) else None

        sql = ""
        params: dict[str, Any] = {}
        results: list[R.Result]
        if call.proc == "sp_executesql":
            sql = str(value(0) or "")
            params = rpc.bind(ps[2:], value(1))
            results = self._execute(sql, params)
        elif call.proc in ("sp_prepexec", "sp_prepare"):
            sql = str(value(2) or "")
            handle = self._prepare(sql, value(1))
            returns.append(K.returnvalue(0, ps[0].name if ps else "", "int", handle))
            if call.proc == "sp_prepexec":
                params = rpc.bind(ps[3:], value(1))
                results = self._execute(sql, params)
            else:
                results = []
        elif call.proc == "sp_execute":
            handle = value(0)
            if handle not in self.prepared:
                results = [R.Error(8179, f"Could not find prepared statement with handle {handle}.", state=4)]
            else:
                sql, decl = self.prepared[handle]
                params = rpc.bind(ps[1:], decl)
                results = self._execute(sql, params)
        elif call.proc == "sp_unprepare":
            handle = value(0)
            self.prepared.pop(handle, None)
            if self.session is not None:
                self.session.prepared.pop(handle, None)
            sql = f"EXEC sp_unprepare {handle}"
            results = []
        elif call.proc.startswith("sp_cursor"):
            sql = f"EXEC {call.proc}"
            results = [R.Error(16937, "A server cursor is not allowed on a remote stored procedure or stored "
                                      "procedure with more than one SELECT statement. Use a default result set "
                                      "or client cursor.", severity=16)]
        else:
            params = rpc.bind(ps, None)
            sql = f"EXEC {call.proc}" + (" " + ", ".join(f"{k}={k}" for k in params) if params else "")
            results = self._execute(sql, params)
        outcome = self._answer(results, returns, last_rpc=last)
        self.server.log_query(self.spid, f"[{call.proc}] {sql}", outcome)

    def _transaction_manager(self, payload: bytes) -> None:
        """A transaction-manager request ([MS-TDS] 2.2.6.9): TM_BEGIN_XACT (5), TM_COMMIT_XACT (7) and
        TM_ROLLBACK_XACT (8), the latter two with fBeginXact (begin a new transaction at once: FreeTDS's
        SQLEndTran while autocommit is off). Answered as SQL Server does: ENVCHANGE 8 (begin, the new 8-byte
        descriptor), 9 (commit) or 10 (rollback, the old descriptor), then DONE. The engine's transaction()
        is told (the store keeps or discards the session's writes). Other requests (DTC) get a bare DONE."""
        r = Reader(payload, rpc.skip_all_headers(payload))
        try:
            request = r.u16()
            tokens: list[bytes] = []
            if request == TM_BEGIN_XACT:
                r.u8()          # isolation level
                r.b_varchar()   # transaction name
                kind, begin_after = "begin", False
            elif request in (TM_COMMIT_XACT, TM_ROLLBACK_XACT):
                r.b_varchar()   # transaction name
                flags = r.u8() if r.remaining() else 0
                begin_after = bool(flags & 0x01)
                kind = "commit" if request == TM_COMMIT_XACT else "rollback"
            else:
                self.writer.send(K.done(K.DONE_FINAL))
                self.server.log_query(self.spid, f"[transaction manager {request}]", "ok")
                return
        except (ValueError, IndexError) as e:
            self._send_error(R.Error(4002, f"The incoming tabular data stream (TDS) transaction manager request "
                                           f"is incorrect: {e}", severity=16))
            return
        try:
            results = self.server.engine_call("transaction", self.session, kind, begin_after, default=[]) or []
        except Exception as e:
            self.server.log_text(f"spid {self.spid}: engine transaction failed:\n{traceback.format_exc()}")
            results = [R.Error(50000, f"Simulator engine failure: {type(e).__name__}: {e}", severity=16)]
        errors = [x for x in results if isinstance(x, R.Error)]
        if errors:
            self._send_error(errors[0])
            self.server.log_query(self.spid, f"[transaction manager] {kind}", f"error {errors[0].number}")
            return
        if kind != "begin":
            old = self.transaction
            code = K.ENV_COMMIT_TRAN if kind == "commit" else K.ENV_ROLLBACK_TRAN
            if old:
                tokens.append(K.envchange_bytes(code, b"", old.to_bytes(8, "little")))
            self.transaction = 0
        if kind == "begin" or begin_after:
            self.transaction = self.server.next_transaction()
            tokens.append(K.envchange_bytes(K.ENV_BEGIN_TRAN, self.transaction.to_bytes(8, "little"), b""))
        self.writer.send(b"".join(tokens) + K.done(K.DONE_FINAL))
        self.server.log_query(self.spid, f"[transaction manager] {kind}" + (" and begin" if begin_after else ""),
                              "ok")

    def _prepare(self, sql: str, declaration: Optional[str]) -> int:
        handle = self.next_handle
        self.next_handle += 1
        self.prepared[handle] = (sql, declaration)
        if self.session is not None:
            self.session.prepared[handle] = sql
        return handle

    def _execute(self, sql: str, params: dict[str, Any]) -> list[R.Result]:
        try:
            results = self.server.engine_call("execute", self.session, sql, params)
            return list(results or [])
        except Exception as e:
            self.server.log_text(f"spid {self.spid}: engine failed on {sql[:200]!r}:\n{traceback.format_exc()}")
            return [R.Error(50000, f"Simulator engine failure: {type(e).__name__}: {e}", severity=16)]

    # ------------------------------------------------------------------ answers

    def _message(self, item: Any) -> bytes:
        token = K.ERROR if isinstance(item, R.Error) else K.INFO
        return K.message(token, item.number, item.state, item.severity, item.message, self.server.server_name,
                         "", item.line)

    def _send_error(self, err: R.Error) -> None:
        self.writer.send(self._message(err) + K.done(K.DONE_ERROR))

    def _answer(self, results: list[R.Result], returns: Optional[list[bytes]], last_rpc: bool = True) -> str:
        """Send the answer to one batch (returns None) or RPC (returns = RETURNVALUE tokens). The outcome
        for the log."""
        a = _Answer(self, rpc=returns is not None)
        try:
            a.run(results)
        except Cancelled:
            a.buf.clear()
            self.writer.send(K.done(K.DONE_ATTN))
            return a.outcome("cancelled by attention")
        except Dropped:
            return a.outcome("connection dropped")
        except WireTypeError as e:  # the engine gave a value the type cannot carry: a simulator bug
            self.server.log_text(f"spid {self.spid}: cannot encode answer: {e}")
            a.buf.clear()
            a.add_error(R.Error(50000, f"Simulator cannot encode the answer: {e}", severity=16))
        a.finish(returns or [], last_rpc)
        return a.outcome()

    def wait_for_attention(self, seconds: Optional[float]) -> None:
        """Wait out a Delay (seconds) or a Hang (None); raise Cancelled if the client sends attention."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            if self.reader.wait_readable(1.0 if remaining is None else min(remaining, 1.0)):
                ptype, _status, _payload = self.reader.read_packet()
                if ptype == P.ATTENTION:
                    raise Cancelled()
                # anything else while busy is a client error; SQL Server would ignore it too

    def drop(self) -> None:
        self.close()
        raise Dropped()


class _Answer:
    """Builds one answer as tokens, holding back the last DONE until it is known whether more follows."""

    def __init__(self, conn: Connection, rpc: bool):
        self.conn = conn
        self.rpc = rpc
        self.buf: list[bytes] = []
        self.held: Optional[tuple[int, int, int]] = None  # (status, count, cmd) of the last DONE(INPROC)
        self.result_sets = 0
        self.rows = 0
        self.affected: Optional[int] = None   # the sum of the row counts of statements without a result set
        self.errors: list[int] = []
        self.notes: list[str] = []
        self.return_values: list[bytes] = []
        session = conn.session
        if session is not None and session.database != conn.told_database:
            # the engine switched databases (USE ...): tell the client first
            self.buf.append(K.envchange_text(K.ENV_DATABASE, session.database, conn.told_database))
            conn.told_database = session.database

    def _done_token(self) -> int:
        return K.DONEINPROC if self.rpc else K.DONE

    def release(self, more: bool) -> None:
        if self.held is not None:
            status, count, cmd = self.held
            if more:
                status |= K.DONE_MORE
            self.buf.append(K.done(status, count, cmd, self._done_token()))
            self.held = None

    def end_statement(self, status: int, count: int = 0, cmd: int = K.CMD_NONE) -> None:
        self.release(more=True)
        self.held = (status, count, cmd)

    def flush(self) -> None:
        """Send the complete tokens built so far as packets without end-of-message."""
        self.release(more=True)
        if self.buf:
            self.conn.writer.send(b"".join(self.buf), eom=False)
            self.buf.clear()

    def add_error(self, err: R.Error) -> None:
        self.release(more=True)
        self.buf.append(self.conn._message(err))
        self.errors.append(err.number)
        status = K.DONE_ERROR | (K.DONE_SRVERROR if err.severity >= 20 else 0)
        self.held = (status, 0, K.CMD_NONE)

    def run(self, results: list[R.Result]) -> None:
        conn = self.conn
        for i, item in enumerate(results):
            if isinstance(item, R.ResultSet):
                self.release(more=True)
                meta, encoders = K.colmetadata(item.columns)
                self.buf.append(meta)
                self.buf.extend(K.rows(encoders, item.rows))
                self.result_sets += 1
                self.rows += len(item.rows)
                self.held = (K.DONE_COUNT, len(item.rows), K.CMD_SELECT)
            elif isinstance(item, R.RowCount):
                if item.count is None:
                    self.end_statement(K.DONE_FINAL)
                else:
                    self.end_statement(K.DONE_COUNT, item.count)
                    self.affected = (self.affected or 0) + item.count
            elif isinstance(item, R.Info):
                self.release(more=True)
                self.buf.append(conn._message(item))
            elif isinstance(item, R.Error):
                self.add_error(item)
                if item.abort_batch:
                    return
            elif isinstance(item, R.ReturnValue):
                if self.rpc:
                    self.return_values.append(K.returnvalue(len(self.return_values) + 1, item.name, item.type,
                                                            item.value))
            elif isinstance(item, R.Delay):
                self.flush()
                self.notes.append(f"delayed {item.seconds:g}s")
                conn.wait_for_attention(max(0.0, float(item.seconds)))
            elif isinstance(item, R.Hang):
                self.flush()
                self.notes.append("hung")
                conn.wait_for_attention(None)
            elif isinstance(item, R.DropConnection):
                nxt = next((r for r in results[i + 1:] if isinstance(r, R.ResultSet)), None)
                if item.after_rows > 0 and nxt is not None:
                    self.release(more=True)
                    meta, encoders = K.colmetadata(nxt.columns)
                    self.buf.append(meta)
                    sent = nxt.rows[:item.after_rows]
                    self.buf.extend(K.rows(encoders, sent))
                    self.rows += len(sent)
                    self.notes.append(f"{len(sent)} rows sent")
                # complete tokens only (the held DONE is dropped too: the result set is unfinished)
                self.held = None
                if self.buf:
                    conn.writer.send(b"".join(self.buf), eom=False)
                    self.buf.clear()
                conn.drop()
            else:
                raise WireTypeError(f"unknown result item {item!r}")

    def finish(self, return_values: list[bytes], last_rpc: bool) -> None:
        conn = self.conn
        if self.rpc:
            self.release(more=True)
            self.buf.append(K.returnstatus(1 if self.errors else 0))
            self.buf.extend(return_values)
            self.buf.extend(self.return_values)
            status = (K.DONE_ERROR if self.errors else K.DONE_FINAL) | (0 if last_rpc else K.DONE_MORE)
            self.buf.append(K.done(status, 0, K.CMD_NONE, K.DONEPROC))
        else:
            if self.held is None:
                self.held = (K.DONE_FINAL, 0, K.CMD_NONE)
            self.release(more=False)
        conn.writer.send(b"".join(self.buf))
        self.buf.clear()

    def outcome(self, extra: str = "") -> str:
        parts = []
        if self.result_sets:
            parts.append(f"{self.result_sets} result set{'s' if self.result_sets != 1 else ''}, {self.rows} rows")
        if self.affected is not None:
            parts.append(f"{self.affected} row{'s' if self.affected != 1 else ''} affected")
        if self.errors:
            parts.append("error " + ",".join(map(str, self.errors)))
        parts.extend(self.notes)
        if extra:
            parts.append(extra)
        return "; ".join(parts) or "ok"
