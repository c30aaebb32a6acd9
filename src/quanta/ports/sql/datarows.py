"""DataRow messages for a batch of rows at once, in text format.

Each column is written as text by Arrow where Arrow's text is PostgreSQL's (integers, dates,
booleans as ``t``/``f``, strings, floats with ``repr`` redoing those Arrow writes otherwise),
else value by value with the port's own encoder (:func:`quanta.ports.sql.types.text_encoder`);
then Arrow joins every row's header, lengths and values without a Python loop over rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from quanta.ports.sql import types as wt

CHUNK_ROWS = 16_384
"""Rows framed per call (bounds the memory one batch of text takes)."""


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
    if pa.types.is_floating(kind) and oid in (wt.FLOAT4, wt.FLOAT8):
        return _float_texts(column)
    encode = wt.text_encoder(oid)
    return pa.array([None if v is None else encode(v) for v in column.to_pylist()], pa.binary())


def _float_texts(column: pa.Array) -> pa.Array:
    """Floats as :func:`quanta.ports.sql.types.text_encoder` writes them: Python's shortest
    round-trip ``repr`` without a trailing ``.0``, and ``NaN``, ``Infinity``, ``-Infinity``.

    Arrow writes the same shortest digits; it differs only in when it switches to an exponent and
    how it writes one, so those values (and any Python writes with an exponent) are redone by
    ``repr``."""
    doubles = pc.cast(column, pa.float64())  # a float4 is sent as the double it is, as the per-value path does
    texts = pc.cast(doubles, pa.string())
    magnitude = pc.abs(doubles)
    python_exponent = pc.or_(
        pc.and_(pc.less(magnitude, 1e-4), pc.not_equal(magnitude, 0.0)), pc.greater_equal(magnitude, 1e16)
    )
    redo = pc.fill_null(pc.or_(pc.match_substring(texts, "e"), python_exponent), False)
    if pc.any(redo).as_py():
        values = pc.filter(doubles, redo).to_pylist()
        texts = pc.replace_with_mask(texts, redo, pa.array([repr(v) for v in values], pa.string()))
    texts = pc.replace_substring_regex(texts, r"\.0$", "")
    texts = pc.if_else(pc.is_nan(doubles), "NaN", texts)
    texts = pc.if_else(pc.equal(doubles, float("inf")), "Infinity", texts)
    return pc.if_else(pc.equal(doubles, float("-inf")), "-Infinity", texts)


def data_rows(columns: list[pa.Array]) -> bytes:
    """The DataRow messages of ``columns`` (text values of equal length, from :func:`text_values`):
    per row, a 7-byte header (``D``, the length, the column count), then each value's 4-byte length
    (``-1`` for NULL) and bytes, joined row by row by Arrow."""
    rows = len(columns[0]) if columns else 0
    if rows == 0:
        return b""
    pieces = []
    row_size = np.full(rows, 6, dtype=np.int64)  # the length counts itself and the column count
    for column in columns:
        lengths = pc.fill_null(pc.binary_length(column), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        valid = column.is_valid().to_numpy(zero_copy_only=False)
        row_size += 4 + lengths
        pieces.append(_fixed(np.where(valid, lengths, -1).astype(">i4").tobytes(), 4, rows))
        pieces.append(pc.fill_null(column.cast(pa.large_binary()), b""))
    header = np.zeros(rows, dtype=[("tag", "u1"), ("size", ">i4"), ("columns", ">i2")])
    header["tag"], header["size"], header["columns"] = ord("D"), row_size, len(columns)
    joined = pc.binary_join_element_wise(_fixed(header.tobytes(), 7, rows), *pieces, pa.scalar(b"", pa.large_binary()))
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64)
    first, last = int(offsets[joined.offset]), int(offsets[joined.offset + rows])
    return joined.buffers()[2].to_pybytes()[first:last]


def _fixed(raw: bytes, width: int, rows: int) -> pa.Array:
    """``rows`` values of ``width`` bytes each, from ``raw``, as a large binary array."""
    array = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), rows, [None, pa.py_buffer(raw)])
    return array.cast(pa.large_binary())
