"""TDS packets ([MS-TDS] 2.2.3): an 8-byte header (type, status, big-endian length, spid, packet id,
window) in front of at most packet-size bytes. A message is one or more packets, the last one with the
end-of-message status bit."""
from __future__ import annotations

import select
import socket
import struct
from typing import Optional

HEADER = struct.Struct(">BBHHBB")
HEADER_SIZE = 8

# packet types
SQL_BATCH = 0x01
RPC = 0x03
REPLY = 0x04
ATTENTION = 0x06
BULK_LOAD = 0x07
TRANSACTION_MANAGER = 0x0E
LOGIN7 = 0x10
SSPI = 0x11
PRELOGIN = 0x12

# status bits
EOM = 0x01
RESET_CONNECTION = 0x08

DEFAULT_PACKET_SIZE = 4096
MAX_MESSAGE = 64 * 1024 * 1024


class ConnectionClosed(Exception):
    """The peer closed the socket (or it was shut down under us)."""


class PacketReader:
    """Reads whole messages from a socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self, n: int) -> None:
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except OSError as e:
                raise ConnectionClosed(str(e)) from e
            if not chunk:
                raise ConnectionClosed("peer closed")
            self.buf += chunk

    def read_packet(self) -> tuple[int, int, bytes]:
        """(type, status, payload) of the next packet."""
        self._fill(HEADER_SIZE)
        ptype, status, length, _spid, _pid, _win = HEADER.unpack_from(self.buf, 0)
        if length < HEADER_SIZE:
            raise ConnectionClosed(f"bad packet length {length}")
        self._fill(length)
        payload = bytes(self.buf[HEADER_SIZE:length])
        del self.buf[:length]
        return ptype, status, payload

    def read_message(self) -> tuple[int, int, bytes]:
        """(type, status of the first packet, payload) of the next message.

        An attention packet is a message of its own, even when it arrives between the packets of another
        message (the half-read message is dropped)."""
        ptype, status, payload = self.read_packet()
        first_status = status
        parts = [payload]
        total = len(payload)
        while not status & EOM:
            t, status, payload = self.read_packet()
            if t == ATTENTION:
                return t, status, payload
            total += len(payload)
            if total > MAX_MESSAGE:
                raise ConnectionClosed("message too large")
            parts.append(payload)
        return ptype, first_status, b"".join(parts)

    def wait_readable(self, timeout: Optional[float]) -> bool:
        """True when a packet (or EOF) can be read without blocking for long."""
        if self.buf:
            return True
        try:
            r, _, _ = select.select([self.sock], [], [], timeout)
        except (OSError, ValueError) as e:
            raise ConnectionClosed(str(e)) from e
        return bool(r)


class PacketWriter:
    """Writes messages as packets of the negotiated size."""

    def __init__(self, sock: socket.socket, spid: int = 0, packet_size: int = DEFAULT_PACKET_SIZE):
        self.sock = sock
        self.spid = spid
        self.packet_size = packet_size
        self.packet_id = 1

    def send(self, data: bytes, eom: bool = True, ptype: int = REPLY) -> None:
        """Send data as packets; the last one carries end-of-message unless eom is false (more of the same
        message follows later)."""
        room = self.packet_size - HEADER_SIZE
        n = len(data)
        if n == 0 and not eom:
            return
        packets = []
        pos = 0
        while True:
            chunk = data[pos:pos + room]
            pos += len(chunk)
            last = pos >= n
            status = EOM if (last and eom) else 0
            packets.append(HEADER.pack(ptype, status, len(chunk) + HEADER_SIZE, self.spid & 0xFFFF,
                                       self.packet_id, 0))
            packets.append(chunk)
            self.packet_id = (self.packet_id + 1) & 0xFF
            if last:
                break
        try:
            self.sock.sendall(b"".join(packets))
        except OSError as e:
            raise ConnectionClosed(str(e)) from e
