"""The PostgreSQL frontend/backend protocol v3: reading frontend messages and building backend ones.

Only framing and encoding live here (no I/O policy, no SQL): :func:`read_startup` and
:func:`read_message` read from an ``asyncio.StreamReader`` and refuse lengths outside bounds;
the ``*_message`` builders return bytes ready to write. Reference: the PostgreSQL documentation,
"Frontend/Backend Protocol" (chapter 55 in PostgreSQL 15).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PROTOCOL_V3 = 196608  # 3.0
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102

MAX_STARTUP = 10_000
"""Largest startup packet accepted (PostgreSQL's own limit)."""
MAX_MESSAGE = 64 * 1024 * 1024
"""Largest frontend message accepted: a bigger one is a protocol violation."""


class ProtocolViolation(Exception):
    """The client broke the protocol; the connection ends after an error with SQLSTATE 08P01."""


@dataclass(frozen=True)
class Startup:
    """The first packet: a startup message, or one of the special requests."""

    code: int
    parameters: dict[str, str]
    process_id: int = 0
    secret: int = 0


async def read_startup(reader: asyncio.StreamReader) -> Startup:
    header = await reader.readexactly(4)
    (length,) = struct.unpack("!I", header)
    if not 8 <= length <= MAX_STARTUP:
        raise ProtocolViolation(f"invalid startup packet length {length}")
    body = await reader.readexactly(length - 4)
    (code,) = struct.unpack("!I", body[:4])
    if code == CANCEL_REQUEST:
        if len(body) != 12:
            raise ProtocolViolation("invalid cancel request")
        process_id, secret = struct.unpack("!ii", body[4:12])
        return Startup(code, {}, process_id, secret)
    if code in (SSL_REQUEST, GSSENC_REQUEST):
        return Startup(code, {})
    if code >> 16 != 3:
        raise ProtocolViolation(f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}: server supports 3.0")
    parts = body[4:].split(b"\0")
    if len(parts) < 2 or parts[-1] != b"" or parts[-2] != b"":
        raise ProtocolViolation("invalid startup packet layout")
    fields = [p.decode("utf-8", "replace") for p in parts[:-2]]
    if len(fields) % 2:
        raise ProtocolViolation("invalid startup packet layout")
    return Startup(code, dict(zip(fields[::2], fields[1::2], strict=True)))


async def read_message(reader: asyncio.StreamReader, max_size: int = MAX_MESSAGE) -> tuple[bytes, bytes]:
    """(type byte, body) of the next frontend message."""
    header = await reader.readexactly(5)
    kind = header[:1]
    (length,) = struct.unpack("!I", header[1:])
    if length < 4 or length - 4 > max_size:
        raise ProtocolViolation(f"invalid message length {length} for message '{kind.decode('latin-1')}'")
    return kind, await reader.readexactly(length - 4)


class Body:
    """A cursor over a message body."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def cstring(self) -> str:
        end = self.data.find(b"\0", self.at)
        if end < 0:
            raise ProtocolViolation("a string is not terminated")
        value = self.data[self.at : end].decode("utf-8", "strict")
        self.at = end + 1
        return value

    def int16(self) -> int:
        return int(self._unpack("!h", 2))

    def int32(self) -> int:
        return int(self._unpack("!i", 4))

    def byte(self) -> bytes:
        return self.take(1)

    def take(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise ProtocolViolation("a message is shorter than its contents say")
        value = self.data[self.at : self.at + size]
        self.at += size
        return value

    def rest(self) -> bytes:
        value = self.data[self.at :]
        self.at = len(self.data)
        return value

    def _unpack(self, fmt: str, size: int) -> int:
        value: int = struct.unpack(fmt, self.take(size))[0]
        return value


# ---------------------------------------------------------------- backend messages


def message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


def cstring(text: str) -> bytes:
    return text.encode() + b"\0"


def authentication_ok() -> bytes:
    return message(b"R", struct.pack("!i", 0))


def authentication_cleartext() -> bytes:
    return message(b"R", struct.pack("!i", 3))


def authentication_sasl(mechanisms: Iterable[str]) -> bytes:
    return message(b"R", struct.pack("!i", 10) + b"".join(cstring(m) for m in mechanisms) + b"\0")


def authentication_sasl_continue(data: bytes) -> bytes:
    return message(b"R", struct.pack("!i", 11) + data)


def authentication_sasl_final(data: bytes) -> bytes:
    return message(b"R", struct.pack("!i", 12) + data)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstring(name) + cstring(value))


def backend_key_data(process_id: int, secret: int) -> bytes:
    return message(b"K", struct.pack("!ii", process_id, secret))


def ready_for_query(status: bytes) -> bytes:
    return message(b"Z", status)


@dataclass(frozen=True)
class Field:
    """One column of a RowDescription."""

    name: str
    type_oid: int
    type_size: int
    type_modifier: int = -1
    format: int = 0
    table_oid: int = 0
    column: int = 0


def row_description(fields: Sequence[Field]) -> bytes:
    parts = [struct.pack("!h", len(fields))]
    for f in fields:
        parts.append(
            cstring(f.name)
            + struct.pack("!ihihih", f.table_oid, f.column, f.type_oid, f.type_size, f.type_modifier, f.format)
        )
    return message(b"T", b"".join(parts))


def data_row(values: Sequence[bytes | None]) -> bytes:
    parts = [struct.pack("!h", len(values))]
    for value in values:
        parts.append(b"\xff\xff\xff\xff" if value is None else struct.pack("!i", len(value)) + value)
    return message(b"D", b"".join(parts))


def command_complete(tag: str) -> bytes:
    return message(b"C", cstring(tag))


def empty_query_response() -> bytes:
    return message(b"I")


def parse_complete() -> bytes:
    return message(b"1")


def bind_complete() -> bytes:
    return message(b"2")


def close_complete() -> bytes:
    return message(b"3")


def no_data() -> bytes:
    return message(b"n")


def portal_suspended() -> bytes:
    return message(b"s")


def parameter_description(oids: Sequence[int]) -> bytes:
    return message(b"t", struct.pack("!h", len(oids)) + b"".join(struct.pack("!I", o) for o in oids))


def copy_out_response(columns: int) -> bytes:
    return message(b"H", struct.pack("!bh", 0, columns) + struct.pack("!h", 0) * columns)


def copy_data(data: bytes) -> bytes:
    return message(b"d", data)


def copy_done() -> bytes:
    return message(b"c")


def error_response(sqlstate: str, text: str, severity: str = "ERROR", hint: str | None = None) -> bytes:
    return _notice_or_error(b"E", sqlstate, text, severity, hint)


def notice_response(sqlstate: str, text: str, severity: str = "WARNING") -> bytes:
    return _notice_or_error(b"N", sqlstate, text, severity, None)


def _notice_or_error(kind: bytes, sqlstate: str, text: str, severity: str, hint: str | None) -> bytes:
    fields = [b"S" + cstring(severity), b"V" + cstring(severity), b"C" + cstring(sqlstate), b"M" + cstring(text)]
    if hint:
        fields.append(b"H" + cstring(hint))
    return message(kind, b"".join(fields) + b"\0")
