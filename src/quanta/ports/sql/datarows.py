"""DataRow messages for a batch of rows at once, in text format.

Each column is written as text by Arrow where Arrow's text is PostgreSQL's (integers, dates,
booleans as ``t``/``f``, strings), else value by value with the port's own encoder
(:func:`quanta.ports.sql.types.text_encoder`); then numpy frames every row (``D``, length,
column count, and each value's length and bytes, ``-1`` for a NULL) without a Python loop over
rows. A million-row fetch spends its time in the client, not here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from quanta.ports.sql import types as wt

CHUNK_ROWS = 16_384
"""Rows framed per call (bounds the index arrays numpy builds: a few bytes per byte of text)."""


def text_values(column: Any, oid: int) -> pa.Array:
    """``column`` (an Arrow array or chunked array) as PostgreSQL text, one string per value
    (NULL stays NULL)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "t", "f")
    if (pa.types.is_integer(kind) and oid in (wt.INT2, wt.INT4, wt.INT8)) or pa.types.is_date(kind):
        return pc.cast(column, pa.string())
    if oid == wt.TEXT and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return column.cast(pa.string())
    encode = wt.text_encoder(oid)
    return pa.array([None if v is None else encode(v) for v in column.to_pylist()], pa.binary())


def data_rows(columns: list[pa.Array]) -> bytes:
    """The DataRow messages of ``columns`` (text values of equal length, from :func:`text_values`)."""
    rows = len(columns[0]) if columns else 0
    if rows == 0:
        return b""
    lengths, nulls, starts, buffers = [], [], [], []
    for column in columns:
        offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset : column.offset + rows + 1]
        null = column.is_null().to_numpy(zero_copy_only=False)
        lengths.append(np.where(null, 0, np.diff(offsets)).astype(np.int64))
        nulls.append(null)
        starts.append(offsets[:-1].astype(np.int64))
        data = column.buffers()[2]
        buffers.append(np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8))
    row_size = np.full(rows, 6, dtype=np.int64)  # the length counts itself and the column count
    for length in lengths:
        row_size += 4 + length
    begin = np.zeros(rows, dtype=np.int64)
    np.cumsum(1 + row_size[:-1], out=begin[1:])
    out = np.zeros(int(begin[-1] + 1 + row_size[-1]), dtype=np.uint8)
    out[begin] = ord("D")
    _put(out, begin + 1, row_size, ">i4")
    _put(out, begin + 5, np.full(rows, len(columns)), ">i2")
    at = begin + 7
    for length, null, start, data in zip(lengths, nulls, starts, buffers, strict=True):
        _put(out, at, np.where(null, -1, length), ">i4")
        total = int(length.sum())
        if total:
            within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(length) - length, length)
            out[np.repeat(at + 4, length) + within] = data[np.repeat(start, length) + within]
        at = at + 4 + length
    return out.tobytes()


def _put(out: np.ndarray, at: np.ndarray, values: np.ndarray, dtype: str) -> None:
    """Write ``values`` big-endian as ``dtype`` at the byte positions ``at``."""
    raw = values.astype(dtype).view(np.uint8).reshape(len(values), -1)
    for byte in range(raw.shape[1]):
        out[at + byte] = raw[:, byte]
