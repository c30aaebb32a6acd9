"""Content negotiation and streaming encoders: JSON, NDJSON, CSV, Parquet and Arrow IPC stream.

Each encoder turns an iterator of pyarrow record batches into an iterator of byte chunks, one or a
few per batch, so a response never holds more than one batch however many rows it has.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from quanta.errors import BadRequest, NotAcceptable

MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.stream",
}
_ACCEPTED: dict[str, str] = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "text/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/vnd.apache.arrow.stream": "arrow",
}


def negotiate(accept: str | None, explicit: str | None) -> str:
    """The format to answer in: ``?format=`` when given, else the best of ``Accept`` (JSON when
    anything goes); :class:`NotAcceptable` when nothing offered is acceptable."""
    if explicit is not None:
        if explicit not in MEDIA_TYPES:
            raise BadRequest(f"format '{explicit}' is not offered: use one of {', '.join(MEDIA_TYPES)}", "format")
        return explicit
    if not accept or not accept.strip():
        return "json"
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        media, *options = [p.strip() for p in part.split(";")]
        quality = 1.0
        for option in options:
            key, _, value = option.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        found = _ACCEPTED.get(media.lower()) or ("json" if media in ("*/*", "application/*", "text/*") else None)
        if found == "json" and media == "text/*":
            found = "csv"
        if found is not None and quality > 0:
            ranked.append((-quality, index, found))
    if not ranked:
        offered = ", ".join(sorted({m.split(";")[0] for m in MEDIA_TYPES.values()}))
        raise NotAcceptable(f"none of the media types in Accept is offered: ask for one of {offered}", "Accept")
    return min(ranked)[2]


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def json_rows(batches: Iterable[Any], head: str, tail: Callable[[], str]) -> Iterator[bytes]:
    """``head`` + the rows as a JSON array + ``tail()``: e.g. ``{"items":[ … ],"next":…}``."""
    yield head.encode()
    first = True
    for batch in batches:
        rows = batch.to_pylist()
        if not rows:
            continue
        text = ",".join(dumps(row) for row in rows)
        yield (text if first else "," + text).encode()
        first = False
    yield tail().encode()


def ndjson_rows(batches: Iterable[Any]) -> Iterator[bytes]:
    for batch in batches:
        rows = batch.to_pylist()
        if rows:
            yield ("\n".join(dumps(row) for row in rows) + "\n").encode()


class _Chunks(io.RawIOBase):
    """A write-only file whose written bytes are taken out after each batch."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        taken, self._parts = b"".join(self._parts), []
        return taken


def binary_rows(batches: Iterable[Any], schema: Any, file_format: str) -> Iterator[bytes]:
    """CSV (with a header), Parquet (zstd, a row group per batch) or an Arrow IPC stream."""
    import pyarrow as pa

    sink = _Chunks()
    writer: Any
    if file_format == "csv":
        from pyarrow import csv

        writer = csv.CSVWriter(sink, schema)
    elif file_format == "parquet":
        from pyarrow import parquet

        writer = parquet.ParquetWriter(sink, schema, compression="zstd")
    else:
        writer = pa.ipc.new_stream(sink, schema)
    try:
        for batch in batches:
            if file_format == "parquet":
                if batch.num_rows:
                    writer.write_batch(batch)
            else:
                writer.write_batch(batch)
            chunk = sink.take()
            if chunk:
                yield chunk
    finally:
        writer.close()
    yield sink.take()


def encode(
    batches: Iterable[Any], schema: Any, file_format: str, head: str = "", tail: Callable[[], str] | None = None
) -> Iterator[bytes]:
    """The rows in ``file_format``; ``head`` and ``tail`` wrap a JSON array (JSON only)."""
    if file_format == "json":
        return json_rows(batches, head or "[", tail or (lambda: "]"))
    if file_format == "ndjson":
        return ndjson_rows(batches)
    return binary_rows(batches, schema, file_format)
