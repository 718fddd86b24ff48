"""TLS the TDS way ([MS-TDS] 2.2.6.5, 3.2.5.2): after PRELOGIN, the TLS handshake travels inside PRELOGIN
(0x12) packets; once it is done, TLS records go straight on the socket. With ENCRYPT_ON every later packet is
inside TLS; with ENCRYPT_OFF only the LOGIN7 message is, and the connection is plain again afterwards.

Python's ssl module does the TLS work on memory buffers (ssl.MemoryBIO / SSLObject), so the protocol layer
decides what goes on the wire. TLS 1.2 at most: TDS 7.x servers do not offer TLS 1.3 (that is TDS 8's
strict mode, where TLS comes before PRELOGIN).

Certificates: given as files (--tls-cert / --tls-key), or made once by `ensure_certificates(folder)` with the
openssl command line: a CA (ca.pem, ca.key) and a server certificate it signed (server.pem, server.key) for
localhost and 127.0.0.1, so that a client can check the chain and the host name against ca.pem.
"""
from __future__ import annotations

import fcntl
import os
import socket
import ssl
import subprocess
import tempfile
from . import packets as P


class TlsError(Exception):
    """The TLS handshake failed (the client gave up, or it refused our certificate)."""


def server_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_TICKET
    ctx.load_cert_chain(cert_file, key_file)
    return ctx


class TlsSocket:
    """What PacketReader / PacketWriter need of a socket (recv, sendall, fileno), with TLS records on the
    real socket underneath. recv returns everything decrypted so far, so that select() on the real socket
    stays a true test of whether more can be read."""

    def __init__(self, sock: socket.socket, obj: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO):
        self.sock = sock
        self.obj = obj
        self.incoming = incoming
        self.outgoing = outgoing

    def fileno(self) -> int:
        return self.sock.fileno()

    def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def recv(self, _n: int) -> bytes:
        while True:
            out = bytearray()
            try:
                while True:
                    chunk = self.obj.read(65536)
                    if not chunk:
                        return bytes(out)  # close_notify: end of file
                    out += chunk
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as e:
                raise OSError(f"TLS: {e}") from e
            if out:
                return bytes(out)
            raw = self.sock.recv(65536)
            if not raw:
                return b""
            self.incoming.write(raw)

    def sendall(self, data: bytes) -> None:
        try:
            self.obj.write(data)
        except ssl.SSLError as e:
            raise OSError(f"TLS: {e}") from e
        self._flush()


def handshake(ctx: ssl.SSLContext, sock: socket.socket, reader: P.PacketReader, writer: P.PacketWriter,
              timeout: float = 30.0) -> TlsSocket:
    """Runs the server side of the handshake, its records wrapped in PRELOGIN packets. The TlsSocket for
    what follows. Raises TlsError (with the TLS library's reason) when it fails."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=True)

    def send_wrapped() -> None:
        data = outgoing.read()
        if data:
            writer.send(data, ptype=P.PRELOGIN)

    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            send_wrapped()
            if not reader.wait_readable(timeout):
                raise TlsError("the client sent nothing for the TLS handshake")
            try:
                ptype, _status, payload = reader.read_message()
            except P.ConnectionClosed as e:
                raise TlsError(f"the client closed the connection during the TLS handshake ({e}); a client that "
                               "checks certificates does this when it does not trust ours") from e
            if ptype != P.PRELOGIN:
                raise TlsError(f"expected a PRELOGIN packet with TLS handshake data, got type 0x{ptype:02x}")
            incoming.write(payload)
        except ssl.SSLError as e:
            try:
                send_wrapped()  # the alert, so that the client learns why
            except P.ConnectionClosed:
                pass
            raise TlsError(e.reason or str(e)) from e
    send_wrapped()
    return TlsSocket(sock, obj, incoming, outgoing)


def _openssl(args: list[str], cwd: str) -> None:
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {r.stderr.strip()}")


def make_certificates(folder: str, ca_name: str = "dmvlog simulator test CA",
                      hosts: tuple[str, ...] = ("localhost", "127.0.0.1")) -> dict[str, str]:
    """Writes ca.pem/ca.key and server.pem/server.key (EC P-256, valid 10 years) into folder."""
    os.makedirs(folder, exist_ok=True)
    san = ",".join(("IP:" if h.replace(".", "").isdigit() else "DNS:") + h for h in hosts)
    with tempfile.TemporaryDirectory(dir=folder) as work:
        _openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj", f"/CN={ca_name}",
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"], work)
        _openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={hosts[0]}"], work)
        with open(os.path.join(work, "ext.cnf"), "w", encoding="ascii") as f:
            f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
        _openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                  "-out", "server.pem", "-days", "3650", "-extfile", "ext.cnf"], work)
        names = ("ca.pem", "ca.key", "server.pem", "server.key")
        for n in names:  # each file appears whole (rename), so a parallel reader never sees half of one
            os.replace(os.path.join(work, n), os.path.join(folder, n))
    return {n.replace(".", "_"): os.path.join(folder, n) for n in names}


def ensure_certificates(folder: str) -> dict[str, str]:
    """The certificate files in folder, made first when one is missing."""
    paths = {n.replace(".", "_"): os.path.join(folder, n) for n in ("ca.pem", "ca.key", "server.pem", "server.key")}
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, ".lock"), "w") as lock:  # simulators started together make one set
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all(os.path.exists(p) for p in paths.values()):
            return paths
        return make_certificates(folder)
