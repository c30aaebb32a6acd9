"""The scoring worker's frames: numeric columns travel as raw arrays of three dtypes beside a JSON
header, and a frame that is malformed, or holds any other dtype (an object array could carry a
pickle), is refused before anything is read from it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from quanta.ports.model.worker import HEADER, as_sent, decode, encode


def test_arrays_and_json_columns_round_trip() -> None:
    arrays = {"x": np.array([1.5, -2.0]), "n": np.array([3, 2**62 + 1]), "ok": np.array([True, False])}
    message, got = decode(encode({"op": "predict", "columns": {"s": ["a", "b"]}}, arrays))
    assert message == {"op": "predict", "columns": {"s": ["a", "b"]}}
    assert {name: a.tolist() for name, a in got.items()} == {name: a.tolist() for name, a in arrays.items()}
    assert [a.dtype.str for a in got.values()] == ["<f8", "<i8", "|b1"]


def test_columns_travel_as_arrays_only_when_numeric_and_flat() -> None:
    assert as_sent(np.array([1, 2], dtype=np.int32))[0].dtype.str == "<i8"
    assert as_sent(np.array([2**63], dtype=np.uint64)) == (None, [2**63])  # past int64: as JSON
    assert as_sent(["a", "b"]) == (None, ["a", "b"])
    assert as_sent(np.array(["a"], dtype=object)) == (None, ["a"])


def _frame(header: dict, blob: bytes = b"") -> bytes:
    head = json.dumps(header).encode()
    return HEADER.pack(len(head)) + head + blob


@pytest.mark.parametrize(
    "payload",
    [
        _frame({"op": "predict", "arrays": [["x", "|O", 1]]}, b"\0" * 8),  # an object array
        _frame({"op": "predict", "arrays": [["x", "<f8", 2]]}, b"\0" * 8),  # shorter than its arrays
        _frame({"op": "predict", "arrays": [["x", "<f8", 1]]}, b"\0" * 9),  # bytes left over
        _frame({"op": "predict", "arrays": [["x", "<f8", -1]]}),
        _frame({"op": "predict", "arrays": {"x": 1}}),
        _frame(["not", "an", "object"]),  # type: ignore[arg-type]
        b"\0\0",
    ],
)
def test_a_malformed_frame_is_refused(payload: bytes) -> None:
    with pytest.raises(ValueError):
        decode(payload)
