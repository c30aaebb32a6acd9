"""The scoring worker: a child process that loads one port's published scoring code and answers
batches over its standard input and output, one length-prefixed JSON frame each way.

It is started as a script with a clean environment and receives nothing but the code (once), the
snapshot's artefacts (when the snapshot changes) and feature columns; it never sees the catalog,
storage settings, tokens or any secret. Its answers are JSON, never pickles: the server parses no
object the port's code could shape into code.

Messages in: ``{"op": "code", "files": {path: source}, "entrypoint": "score.py:predict", "types":
{feature: logicalType}}``, ``{"op": "artefacts", "snapshot": id, "artefacts": {…}}``, ``{"op":
"predict", "columns": {feature: [values]}}``. Out: ``{"ok": true, …}`` or ``{"ok": false,
"error": kind, "message": text}``.
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

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        op = message.get("op")
        if op == "code":
            self.load(message["files"], message["entrypoint"])
            self.types = dict(message.get("types") or {})
            return {"ok": True}
        if op == "artefacts":
            self.artefacts, self.snapshot = message["artefacts"], message["snapshot"]
            return {"ok": True, "snapshot": self.snapshot}
        if op == "predict":
            return {"ok": True, "columns": self.predict(message["columns"]), "snapshot": self.snapshot}
        return {"ok": False, "error": "protocol", "message": f"unknown operation {op!r}"}

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

    def predict(self, columns: dict[str, list[Any]]) -> dict[str, list[Any]]:
        import numpy as np

        features = {
            name: np.asarray(values, dtype=DTYPES.get(self.types.get(name, ""))) for name, values in columns.items()
        }
        answer = self.function(features, self.artefacts)
        if not isinstance(answer, dict):
            raise ShapeError(f"returned {type(answer).__name__}, not a mapping of prediction name → values")
        out = {}
        for name, values in answer.items():
            array = np.asarray(values)
            if array.ndim != 1:
                raise ShapeError(f"returned {array.ndim}-dimensional values for '{name}', not one value per row")
            out[str(name)] = array.tolist()
        return out


class ShapeError(Exception):
    """The scoring function's answer has the wrong shape."""


def main() -> None:
    inp, out = sys.stdin.buffer, os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the scoring code's prints never reach the protocol
    scorer = Scorer()
    while (payload := read_frame(inp)) is not None:
        try:
            reply = scorer.handle(json.loads(payload))
        except ShapeError as exc:
            reply = {"ok": False, "error": "shape", "message": str(exc)}
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)  # the operator's log; the caller sees only the kind
            reply = {"ok": False, "error": "exception", "message": type(exc).__name__}
        try:
            data = json.dumps(reply, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            refusal = {"ok": False, "error": "shape", "message": f"returned values JSON cannot hold ({exc})"}
            data = json.dumps(refusal).encode()
        write_frame(out, data)


if __name__ == "__main__":
    main()
