"""A model port's field checks: the column-at-a-time check accepts a column exactly when every value
passes the value-by-value check (so the fast path never lets through what the per-row reasons
refuse, nor refuses what they accept), and a scoring function's numpy answers are checked the same."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quanta.ports.model.fields import BadPredictions, Field, InvalidFeatures, columns, predictions

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 2.0, 2.5, -1, 1e300, 2.0**63, -(2.0**63), 2**62 + 1, 2**63, -(2**63), 10**400]),
    st.text(max_size=3),
    st.sampled_from(["a", "b", "c"]),
)
FIELDS = st.builds(
    Field,
    name=st.just("f"),
    logical_type=st.sampled_from(["number", "integer", "boolean", "string"]),
    enum=st.one_of(st.none(), st.just((1, 2.0, "a", "b"))),
    minimum=st.one_of(st.none(), st.sampled_from([0.0, -5.0])),
    maximum=st.one_of(st.none(), st.sampled_from([10.0, 1e301])),
)


@settings(max_examples=600, deadline=None)
@given(field=FIELDS, values=st.lists(VALUES, min_size=1, max_size=6))
def test_a_column_passes_exactly_when_each_of_its_values_does(field: Field, values: list) -> None:
    column = field.column(values)
    every_value_passes = all(field.problem(v) is None for v in values)
    assert (column is not None) is every_value_passes
    if column is not None:  # and it holds the values themselves (integers exactly)
        got = column.tolist() if isinstance(column, np.ndarray) else column
        if field.logical_type == "number":
            assert got == [float(v) for v in values]
        else:
            assert got == values
            assert field.logical_type == "integer" or [type(v) for v in got] == [type(v) for v in values]


ARRAYS = st.one_of(
    st.lists(st.one_of(st.floats(), st.sampled_from([2.0**63, -(2.0**63), 3.0, -1.0])), min_size=1, max_size=6).map(
        lambda v: np.array(v, dtype=np.float64)
    ),
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=6).map(lambda v: np.array(v, dtype=np.int64)),
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=6).map(lambda v: np.array(v, dtype=np.uint64)),
    st.lists(st.booleans(), min_size=1, max_size=6).map(lambda v: np.array(v, dtype=bool)),
)


@settings(max_examples=600, deadline=None)
@given(field=FIELDS, array=ARRAYS)
def test_a_numpy_answer_passes_exactly_when_each_of_its_values_does(field: Field, array: np.ndarray) -> None:
    column = field.column(array)
    assert (column is not None) is all(field.problem(v) is None for v in array.tolist())
    if column is not None and field.logical_type == "number":  # a number is a float64
        assert column.tolist() == [float(v) for v in array.tolist()]
    elif column is not None and field.logical_type != "string":
        assert column.tolist() == array.tolist()


@settings(max_examples=300, deadline=None)
@given(field=FIELDS, values=st.lists(VALUES, min_size=1, max_size=6))
def test_request_rows_are_refused_with_the_per_row_reasons(field: Field, values: list) -> None:
    body = {"rows": [{"f": v} for v in values]}
    expected = [(i, "f", field.problem(v)) for i, v in enumerate(values) if field.problem(v) is not None]
    if expected:
        with pytest.raises(InvalidFeatures) as refused:
            columns(body, (field,), 100)
        assert refused.value.errors == expected
    else:
        assert "f" in columns(body, (field,), 100)


def test_integer_features_arrive_as_int64_and_numbers_as_float64() -> None:
    fields = (Field("n", "integer"), Field("x", "number"), Field("ok", "boolean"), Field("s", "string"))
    got = columns(
        {"rows": [{"n": 3, "x": 1, "ok": True, "s": "a"}, {"n": 4.0, "x": 2.5, "ok": False, "s": "b"}]}, fields, 10
    )
    assert got["n"].dtype == np.int64 and got["n"].tolist() == [3, 4]
    assert got["x"].dtype == np.float64 and got["x"].tolist() == [1.0, 2.5]
    assert got["ok"].dtype == np.bool_ and got["s"] == ["a", "b"]


def test_numpy_predictions_are_checked_and_become_json_values() -> None:
    outputs = (Field("p", "number", minimum=0, maximum=1), Field("n", "integer"), Field("label", "string"))
    checked = predictions({"p": np.array([0.25, 1.0]), "n": np.array([2.0, 3.0]), "label": ["x", "y"]}, outputs, 2)
    assert checked == {"p": [0.25, 1.0], "n": [2, 3], "label": ["x", "y"]}
    assert all(type(v) is int for v in checked["n"])


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (
            {"p": np.array([0.5, math.nan]), "n": np.array([1, 2]), "label": ["x", "y"]},
            "'p' of row 1: expected a number",
        ),
        (
            {"p": np.array([0.5, 1.5]), "n": np.array([1, 2]), "label": ["x", "y"]},
            "'p' of row 1: 1.5 is above the maximum 1",
        ),
        (
            {"p": np.array([0.5, 0.5]), "n": np.array([1.0, 2.5]), "label": ["x", "y"]},
            "'n' of row 1: expected an integer",
        ),
        (
            {"p": np.array([0.5, 0.5]), "n": np.array([True, False]), "label": ["x", "y"]},
            "'n' of row 0: expected an integer",
        ),
        ({"p": np.array([0.5, 0.5]), "n": np.array([1, 2]), "label": ["x", 3]}, "'label' of row 1: expected a string"),
        ({"p": np.array([0.5]), "n": np.array([1, 2]), "label": ["x", "y"]}, "returned 1 values for 'p' for 2 rows"),
    ],
)
def test_bad_numpy_predictions_name_the_output_and_row(answer: dict, says: str) -> None:
    outputs = (Field("p", "number", minimum=0, maximum=1), Field("n", "integer"), Field("label", "string"))
    with pytest.raises(BadPredictions, match=says.replace("(", r"\(")):
        predictions(answer, outputs, 2)
