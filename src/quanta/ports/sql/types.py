"""PostgreSQL types on the wire: the type of each Arrow result column, values written as text or
binary, and parameters read from either."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BOOL, BYTEA, INT8, INT2, INT4, TEXT, OID, JSON = 16, 17, 20, 21, 23, 25, 26, 114
FLOAT4, FLOAT8, UNKNOWN, VARCHAR, DATE, TIME = 700, 701, 705, 1043, 1082, 1083
TIMESTAMP, TIMESTAMPTZ, INTERVAL, NUMERIC, UUID = 1114, 1184, 1186, 1700, 2950

NAMES = {
    BOOL: "bool", BYTEA: "bytea", INT8: "int8", INT2: "int2", INT4: "int4", TEXT: "text", OID: "oid", JSON: "json",
    FLOAT4: "float4", FLOAT8: "float8", VARCHAR: "varchar", DATE: "date", TIME: "time",
    TIMESTAMP: "timestamp", TIMESTAMPTZ: "timestamptz", INTERVAL: "interval", NUMERIC: "numeric", UUID: "uuid",
}  # fmt: skip
SIZES = {
    BOOL: 1,
    INT2: 2,
    INT4: 4,
    INT8: 8,
    OID: 4,
    FLOAT4: 4,
    FLOAT8: 8,
    DATE: 4,
    TIME: 8,
    TIMESTAMP: 8,
    TIMESTAMPTZ: 8,
    UUID: 16,
}

ARRAYS = {
    BOOL: 1000, BYTEA: 1001, INT2: 1005, INT4: 1007, TEXT: 1009, VARCHAR: 1015, INT8: 1016, OID: 1028, FLOAT4: 1021,
    FLOAT8: 1022, TIMESTAMP: 1115, DATE: 1182, TIME: 1183, TIMESTAMPTZ: 1185, INTERVAL: 1187, NUMERIC: 1231,
    UUID: 2951,
}  # fmt: skip
"""The one-dimensional array type of each element type (``int8[]`` is 1016, as in PostgreSQL)."""
ELEMENTS = {array: element for element, array in ARRAYS.items()}
NAMES.update({array: "_" + NAMES[element] for element, array in ARRAYS.items()})

EPOCH_DATE = dt.date(2000, 1, 1)
EPOCH = dt.datetime(2000, 1, 1)
EPOCH_TZ = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class BadParameter(ValueError):
    """A parameter value cannot be read as its type (SQLSTATE 22P02)."""


@dataclass(frozen=True)
class WireType:
    oid: int

    @property
    def size(self) -> int:
        return SIZES.get(self.oid, -1)


def wire_type(arrow_type: Any) -> WireType:
    """The PostgreSQL type a column of ``arrow_type`` is sent as."""
    import pyarrow as pa

    t = pa.types
    if t.is_boolean(arrow_type):
        return WireType(BOOL)
    if t.is_int8(arrow_type) or t.is_int16(arrow_type) or t.is_uint8(arrow_type):
        return WireType(INT2)
    if t.is_int32(arrow_type) or t.is_uint16(arrow_type):
        return WireType(INT4)
    if t.is_integer(arrow_type):
        return WireType(INT8) if not t.is_uint64(arrow_type) else WireType(NUMERIC)
    if t.is_float16(arrow_type) or t.is_float32(arrow_type):
        return WireType(FLOAT4)
    if t.is_floating(arrow_type):
        return WireType(FLOAT8)
    if t.is_decimal(arrow_type):
        return WireType(NUMERIC)
    if t.is_date(arrow_type):
        return WireType(DATE)
    if t.is_timestamp(arrow_type):
        return WireType(TIMESTAMPTZ if arrow_type.tz else TIMESTAMP)
    if t.is_time(arrow_type):
        return WireType(TIME)
    if t.is_duration(arrow_type) or pa.types.is_interval(arrow_type):
        return WireType(INTERVAL)
    if t.is_binary(arrow_type) or t.is_large_binary(arrow_type) or t.is_fixed_size_binary(arrow_type):
        return WireType(UUID if getattr(arrow_type, "byte_width", 0) == 16 and _is_uuid(arrow_type) else BYTEA)
    if t.is_list(arrow_type) or t.is_large_list(arrow_type) or t.is_fixed_size_list(arrow_type):
        element = wire_type(arrow_type.value_type).oid  # a list of scalars is an array; of lists, JSON
        return WireType(ARRAYS.get(element, JSON))
    if t.is_struct(arrow_type) or t.is_map(arrow_type):
        return WireType(JSON)
    return WireType(TEXT)


def _is_uuid(arrow_type: Any) -> bool:
    return "uuid" in str(getattr(arrow_type, "extension_name", "")).lower()


# ---------------------------------------------------------------- results


def text_encoder(oid: int) -> Callable[[Any], bytes]:
    """How a value of ``oid`` is written in text format."""
    return _TEXT.get(oid, _text_default)


def binary_encoder(oid: int) -> Callable[[Any], bytes] | None:
    """How a value of ``oid`` is written in binary format (None: only text)."""
    return _BINARY.get(oid)


def _text_default(value: Any) -> bytes:
    if isinstance(value, list | dict):
        import json

        return json.dumps(value, default=str, separators=(",", ":")).encode()
    return str(value).encode()


def _float_text(value: float) -> bytes:
    if math.isnan(value):
        return b"NaN"
    if math.isinf(value):
        return b"Infinity" if value > 0 else b"-Infinity"
    text = repr(float(value))
    return (text[:-2] if text.endswith(".0") else text).encode()


def _timestamp_text(value: dt.datetime) -> bytes:
    text = value.isoformat(sep=" ")
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
        text = value.replace(tzinfo=None).isoformat(sep=" ") + "+00"
    return text.encode()


def _bytea_text(value: bytes) -> bytes:
    return b"\\x" + value.hex().encode()


def _interval_text(value: Any) -> bytes:
    if isinstance(value, dt.timedelta):
        days, seconds = value.days, value.seconds
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        clock = f"{hours:02d}:{minutes:02d}:{secs:02d}" + (f".{value.microseconds:06d}" if value.microseconds else "")
        return (f"{days} days {clock}" if days else clock).encode()
    return str(value).encode()


_TEXT: dict[int, Callable[[Any], bytes]] = {
    BOOL: lambda v: b"t" if v else b"f",
    INT2: lambda v: str(int(v)).encode(),
    INT4: lambda v: str(int(v)).encode(),
    INT8: lambda v: str(int(v)).encode(),
    OID: lambda v: str(int(v)).encode(),
    FLOAT4: _float_text,
    FLOAT8: _float_text,
    NUMERIC: lambda v: str(v).encode(),
    DATE: lambda v: v.isoformat().encode(),
    TIME: lambda v: v.isoformat().encode(),
    TIMESTAMP: _timestamp_text,
    TIMESTAMPTZ: _timestamp_text,
    BYTEA: _bytea_text,
    UUID: lambda v: str(uuid.UUID(bytes=v) if isinstance(v, bytes) else v).encode(),
    INTERVAL: _interval_text,
}


def _timestamp_binary(value: dt.datetime) -> bytes:
    delta = value - (EPOCH_TZ if value.tzinfo is not None else EPOCH)
    return struct.pack("!q", (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)


def _time_binary(value: dt.time) -> bytes:
    return struct.pack("!q", ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond)


_BINARY: dict[int, Callable[[Any], bytes]] = {
    BOOL: lambda v: b"\x01" if v else b"\x00",
    INT2: lambda v: struct.pack("!h", v),
    INT4: lambda v: struct.pack("!i", v),
    INT8: lambda v: struct.pack("!q", v),
    OID: lambda v: struct.pack("!I", v),
    FLOAT4: lambda v: struct.pack("!f", v),
    FLOAT8: lambda v: struct.pack("!d", v),
    TEXT: lambda v: str(v).encode(),
    VARCHAR: lambda v: str(v).encode(),
    JSON: _text_default,
    BYTEA: bytes,
    DATE: lambda v: struct.pack("!i", (v - EPOCH_DATE).days),
    TIME: _time_binary,
    TIMESTAMP: _timestamp_binary,
    TIMESTAMPTZ: _timestamp_binary,
    UUID: lambda v: v if isinstance(v, bytes) else uuid.UUID(str(v)).bytes,
    NUMERIC: lambda v: numeric_binary(decimal.Decimal(v)),
}


def _array_text(element: int) -> Callable[[Any], bytes]:
    """An array's text form, ``{1,2,NULL}``: elements quoted and escaped as PostgreSQL's array_out does."""
    encode = text_encoder(element)

    def write(values: Any) -> bytes:
        return b"{" + b",".join(b"NULL" if v is None else _array_element(encode(v)) for v in values) + b"}"

    return write


def _array_element(text: bytes) -> bytes:
    if text and text.upper() != b"NULL" and not any(c in _ARRAY_SPECIAL for c in text):
        return text
    return b'"' + text.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


_ARRAY_SPECIAL = frozenset(b'{},"\\ \t\n\r\v\f')


def _array_binary(element: int) -> Callable[[Any], bytes] | None:
    """An array's binary form: dimensions, a has-NULL flag, the element type, then each element's
    length (-1 for NULL) and binary value."""
    encode = _BINARY.get(element)
    if encode is None:
        return None

    def write(values: Any) -> bytes:
        if not values:
            return struct.pack("!iii", 0, 0, element)
        parts = [struct.pack("!iiiii", 1, any(v is None for v in values), element, len(values), 1)]
        for value in values:
            if value is None:
                parts.append(b"\xff\xff\xff\xff")
            else:
                data = encode(value)
                parts.append(struct.pack("!i", len(data)) + data)
        return b"".join(parts)

    return write


for _element, _array in ARRAYS.items():
    _TEXT[_array] = _array_text(_element)
    _binary = _array_binary(_element)
    if _binary is not None:
        _BINARY[_array] = _binary


def numeric_binary(value: decimal.Decimal) -> bytes:
    """A numeric in PostgreSQL's binary form: base-10000 digits, weight, sign and scale."""
    if value.is_nan():
        return struct.pack("!hhHh", 0, 0, 0xC000, 0)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    scale = max(0, -exponent)
    text = "".join(map(str, digits))
    if exponent > 0:
        text += "0" * exponent
    integer, fraction = (text[: len(text) - scale], text[len(text) - scale :]) if scale else (text, "")
    integer = integer.lstrip("0")
    integer = "0" * (-len(integer) % 4) + integer
    fraction = fraction + "0" * (-len(fraction) % 4)
    groups = [int(integer[i : i + 4]) for i in range(0, len(integer), 4)]
    weight = len(groups) - 1
    groups += [int(fraction[i : i + 4]) for i in range(0, len(fraction), 4)]
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    header = struct.pack("!hhHh", len(groups), weight, 0x4000 if sign else 0, scale)
    return header + b"".join(struct.pack("!H", g) for g in groups)


# ---------------------------------------------------------------- parameters


def read_parameter(raw: bytes | None, oid: int, binary: bool) -> Any:
    """A parameter's Python value (None for SQL NULL)."""
    if raw is None:
        return None
    try:
        return _read_binary(raw, oid) if binary else _read_text(raw.decode("utf-8"), oid)
    except (ValueError, struct.error, decimal.InvalidOperation, UnicodeDecodeError) as exc:
        raise BadParameter(f"invalid input for a parameter of type {NAMES.get(oid, oid)}: {exc}") from None


def _read_text(text: str, oid: int) -> Any:
    if oid in ELEMENTS:
        return _array_from_text(text, ELEMENTS[oid])
    if oid in (INT2, INT4, INT8, OID):
        return int(text)
    if oid in (FLOAT4, FLOAT8):
        return float(text)
    if oid == NUMERIC:
        return decimal.Decimal(text)
    if oid == BOOL:
        lowered = text.strip().lower()
        if lowered in ("t", "true", "y", "yes", "on", "1"):
            return True
        if lowered in ("f", "false", "n", "no", "off", "0"):
            return False
        raise ValueError(f"'{text}' is not a boolean")
    if oid == DATE:
        return dt.date.fromisoformat(text)
    if oid in (TIMESTAMP, TIMESTAMPTZ):
        value = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
        return (
            value.astimezone(dt.UTC) if value.tzinfo else (value if oid == TIMESTAMP else value.replace(tzinfo=dt.UTC))
        )
    if oid == UUID:
        return str(uuid.UUID(text))
    if oid == BYTEA:
        return bytes.fromhex(text[2:]) if text.startswith("\\x") else text.encode()
    return text


def _read_binary(raw: bytes, oid: int) -> Any:
    if oid in ELEMENTS:
        return _array_from_binary(raw, ELEMENTS[oid])
    if oid == INT2:
        return struct.unpack("!h", raw)[0]
    if oid == INT4:
        return struct.unpack("!i", raw)[0]
    if oid == INT8:
        return struct.unpack("!q", raw)[0]
    if oid == OID:
        return struct.unpack("!I", raw)[0]
    if oid == FLOAT4:
        return struct.unpack("!f", raw)[0]
    if oid == FLOAT8:
        return struct.unpack("!d", raw)[0]
    if oid == BOOL:
        return raw != b"\x00"
    if oid == DATE:
        return EPOCH_DATE + dt.timedelta(days=struct.unpack("!i", raw)[0])
    if oid in (TIMESTAMP, TIMESTAMPTZ):
        moment = dt.timedelta(microseconds=struct.unpack("!q", raw)[0])
        return EPOCH_TZ + moment if oid == TIMESTAMPTZ else EPOCH + moment
    if oid == UUID:
        return str(uuid.UUID(bytes=raw))
    if oid == NUMERIC:
        return _numeric_from_binary(raw)
    if oid == BYTEA:
        return raw
    return raw.decode("utf-8")


def _numeric_from_binary(raw: bytes) -> decimal.Decimal:
    count, weight, sign, scale = struct.unpack("!hhHh", raw[:8])
    if sign == 0xC000:
        return decimal.Decimal("NaN")
    digits = struct.unpack(f"!{count}H", raw[8 : 8 + 2 * count])
    value = sum(decimal.Decimal(d) * decimal.Decimal(10000) ** (weight - i) for i, d in enumerate(digits))
    value = value.quantize(decimal.Decimal(1).scaleb(-scale)) if scale else value
    return -value if sign == 0x4000 else value


_SPACE = " \t\n\r\v\f"
"""What PostgreSQL skips around array elements (Python's isspace() is wider)."""


def _array_from_text(text: str, element: int) -> list[Any]:
    """An array literal (``{1,2,NULL}``, ``{{1,2},{3,4}}``, ``{"a b","c\\"d"}``) as nested lists of
    ``element`` values."""
    text = text.strip(_SPACE)
    if text.startswith("["):  # explicit bounds, [1:2]={…}: the values are what count
        text = text.partition("=")[2].strip(_SPACE)
    if not text.startswith("{"):
        raise ValueError(f"malformed array literal: {text[:40]!r}")
    values, end = _array_items(text, 1, element)
    if text[end:].strip(_SPACE):
        raise ValueError(f"junk after the closing brace of an array: {text[end:][:40]!r}")
    return values


def _array_items(text: str, at: int, element: int) -> tuple[list[Any], int]:
    """The items of the array whose ``{`` is just before ``at``, and where its ``}`` ends."""
    items: list[Any] = []
    while True:
        while at < len(text) and text[at] in _SPACE:
            at += 1
        if at >= len(text):
            raise ValueError("unterminated array literal")
        char = text[at]
        if char == "}" and not items:
            return items, at + 1
        if char == "{":
            nested, at = _array_items(text, at + 1, element)
            items.append(nested)
        elif char == '"':
            chars, at = [], at + 1
            while at < len(text) and text[at] != '"':
                if text[at] == "\\":
                    at += 1
                chars.append(text[at : at + 1])
                at += 1
            if at >= len(text):
                raise ValueError("unterminated quoted array element")
            items.append(_read_text("".join(chars), element))
            at += 1
        else:
            start = at
            while at < len(text) and text[at] not in ",}":
                at += 1
            word = text[start:at].strip(_SPACE)
            if not word:
                raise ValueError("empty unquoted array element")
            items.append(None if word.upper() == "NULL" else _read_text(word, element))
        while at < len(text) and text[at] in _SPACE:
            at += 1
        if at >= len(text):
            raise ValueError("unterminated array literal")
        if text[at] == "}":
            return items, at + 1
        if text[at] != ",":
            raise ValueError(f"unexpected {text[at]!r} in an array literal")
        at += 1


def _array_from_binary(raw: bytes, element: int) -> list[Any]:
    """A binary array (any number of dimensions) as nested lists; the elements are read as the
    type the array's header names when the port knows it, else as ``element``."""
    dimensions, _, named = struct.unpack("!iii", raw[:12])
    if dimensions == 0:
        return []
    if not 0 < dimensions <= 6:
        raise ValueError(f"an array of {dimensions} dimensions")
    sizes = [struct.unpack("!i", raw[12 + 8 * i : 16 + 8 * i])[0] for i in range(dimensions)]
    element = named if named in _BINARY and named not in ELEMENTS else element
    at, flat = 12 + 8 * dimensions, list[Any]()
    for _ in range(math.prod(sizes)):
        (length,) = struct.unpack("!i", raw[at : at + 4])
        at += 4
        if length < 0:
            flat.append(None)
            continue
        if at + length > len(raw):
            raise ValueError("a binary array shorter than its elements")
        flat.append(_read_binary(raw[at : at + length], element))
        at += length
    for size in reversed(sizes[1:]):
        flat = [flat[i : i + size] for i in range(0, len(flat), size)]
    return flat
