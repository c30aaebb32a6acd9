"""The scoring worker: a child process that loads one port's published scoring code and answers
batches over its standard input and output, one length-prefixed frame each way: a JSON header,
then the raw bytes of the numeric columns (see :func:`encode`).

It is started as a script with a clean environment and receives nothing but the code (once), the
snapshot's artefacts (when the snapshot changes) and feature columns; it never sees the catalog,
storage settings, tokens or any secret. Its answers are JSON and flat arrays of three dtypes,
never pickles: the server parses no object the port's code could shape into code.

Messages in: ``{"op": "code", "files": {path: source}, "entrypoint": "score.py:predict", "types":
{feature: logicalType}}``, ``{"op": "artefacts", "snapshot": id, "artefacts": {…}}``, ``{"op":
"predict", "columns": {feature: [values]}}`` (numeric features travel as arrays). Out: ``{"ok":
true, …}`` (the prediction columns as ``columns`` and arrays) or ``{"ok": false, "error": kind,
"message": text}``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any, BinaryIO

HEADER = struct.Struct(">I")
DTYPES = {"number": "float64", "integer": "int64", "boolean": "bool", "string": "object"}
ARRAY_DTYPES = ("<f8", "<i8", "|b1")
"""The dtypes a column may travel as raw bytes (anything else travels as a JSON list)."""


def encode(message: dict[str, Any], arrays: dict[str, Any] | None = None) -> bytes:
    """``message`` as a frame's payload: the length of its JSON header, the header (``message``
    with ``arrays``: [[name, dtype, length], …]) and each array's bytes, in that order."""
    layout, blobs = [], []
    for name, array in (arrays or {}).items():
        layout.append([name, array.dtype.str, len(array)])
        blobs.append(array.tobytes())
    head = json.dumps({**message, "arrays": layout} if layout else message, allow_nan=False).encode()
    return b"".join([HEADER.pack(len(head)), head, *blobs])


def decode(payload: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """A frame's payload as (header, {name: array}); ``ValueError`` for a malformed frame or a
    dtype other than :data:`ARRAY_DTYPES`."""
    import numpy as np

    if len(payload) < HEADER.size:
        raise ValueError("a frame shorter than its header")
    (size,) = HEADER.unpack_from(payload)
    end = HEADER.size + size
    message = json.loads(payload[HEADER.size : end])
    if not isinstance(message, dict):
        raise ValueError("a frame header that is not an object")
    arrays = {}
    offset = end
    layout = message.pop("arrays", [])
    if not isinstance(layout, list) or not all(isinstance(entry, list) and len(entry) == 3 for entry in layout):
        raise ValueError("a frame whose array layout is not [[name, dtype, length], …]")
    for name, dtype, length in layout:
        if dtype not in ARRAY_DTYPES or not isinstance(length, int) or length < 0:
            raise ValueError(f"an array of dtype {dtype!r}")
        kind = np.dtype(dtype)
        if offset + kind.itemsize * length > len(payload):
            raise ValueError("a frame shorter than its arrays")
        arrays[str(name)] = np.frombuffer(payload, dtype=kind, count=length, offset=offset)
        offset += kind.itemsize * length
    if offset != len(payload):
        raise ValueError("a frame whose arrays do not fill it")
    return message, arrays


def as_sent(values: Any) -> tuple[Any, Any]:
    """A column as it travels: (an array of :data:`ARRAY_DTYPES`, None) or (None, a JSON list)."""
    import numpy as np

    array = np.asarray(values)
    if array.ndim == 1 and array.dtype.kind in "fiub":
        target = {"f": "<f8", "i": "<i8", "u": "<i8", "b": "|b1"}[array.dtype.kind]
        if array.dtype.kind != "u" or not len(array) or array.max() < 2**63:
            return np.ascontiguousarray(array, dtype=target), None
    return None, array.tolist()


def read_frame(stream: BinaryIO) -> bytes | None:
    """One frame's payload; None at end of stream."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


class Scorer:
    """The loaded scoring function and the artefacts of the current snapshot."""

    def __init__(self) -> None:
        self.function: Any = None
        self.types: dict[str, str] = {}
        self.artefacts: dict[str, Any] = {}
        self.snapshot: str | None = None

    def handle(self, message: dict[str, Any], arrays: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The reply to one message: (header, arrays)."""
        op = message.get("op")
        if op == "code":
            self.load(message["files"], message["entrypoint"])
            self.types = dict(message.get("types") or {})
            return {"ok": True}, {}
        if op == "artefacts":
            self.artefacts, self.snapshot = message["artefacts"], message["snapshot"]
            return {"ok": True, "snapshot": self.snapshot}, {}
        if op == "predict":
            columns, out = self.predict({**message.get("columns", {}), **arrays})
            return {"ok": True, "columns": columns, "snapshot": self.snapshot}, out
        return {"ok": False, "error": "protocol", "message": f"unknown operation {op!r}"}, {}

    def load(self, files: dict[str, str], entrypoint: str) -> None:
        folder = Path(tempfile.mkdtemp(prefix="quanta-model-"))
        for name, source in files.items():
            target = (folder / name).resolve()
            if not target.is_relative_to(folder.resolve()):
                raise ValueError(f"{name} leads outside the code folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source, encoding="utf-8")
        path, _, function = entrypoint.partition(":")
        sys.path.insert(0, str(folder))
        os.chdir(folder)
        spec = importlib.util.spec_from_file_location("quanta_scoring_" + Path(path).stem, folder / path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.function = getattr(module, function)

    def predict(self, columns: dict[str, Any]) -> tuple[dict[str, list[Any]], dict[str, Any]]:
        """The scoring function's answer for ``columns``: (JSON columns, numeric arrays)."""
        import numpy as np

        features = {  # copies: the code may write to them, and arrays read from a frame are read-only
            name: np.array(values, dtype=DTYPES.get(self.types.get(name, ""))) for name, values in columns.items()
        }
        answer = self.function(features, self.artefacts)
        if not isinstance(answer, dict):
            raise ShapeError(f"returned {type(answer).__name__}, not a mapping of prediction name → values")
        listed, arrays = {}, {}
        for name, values in answer.items():
            if np.ndim(values) != 1:
                raise ShapeError(f"returned {np.ndim(values)}-dimensional values for '{name}', not one value per row")
            array, plain = as_sent(values)
            if array is not None:
                arrays[str(name)] = array
            else:
                listed[str(name)] = plain
        return listed, arrays


class ShapeError(Exception):
    """The scoring function's answer has the wrong shape."""


def main() -> None:
    inp, out = sys.stdin.buffer, os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the scoring code's prints never reach the protocol
    scorer = Scorer()
    while (payload := read_frame(inp)) is not None:
        arrays: dict[str, Any] = {}
        try:
            reply, arrays = scorer.handle(*decode(payload))
        except ShapeError as exc:
            reply = {"ok": False, "error": "shape", "message": str(exc)}
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)  # the operator's log; the caller sees only the kind
            reply = {"ok": False, "error": "exception", "message": type(exc).__name__}
        try:
            data = encode(reply, arrays)
        except (TypeError, ValueError) as exc:
            refusal = {"ok": False, "error": "shape", "message": f"returned values JSON cannot hold ({exc})"}
            data = encode(refusal)
        write_frame(out, data)


if __name__ == "__main__":
    main()
