"""PostgreSQL arrays on the wire: a list of scalars is sent as the array type of its element, in
text (``{a,"b c",NULL}``) and binary form, and array parameters are read from either."""

from __future__ import annotations

import struct

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quanta.ports.sql import types as wt


def test_a_list_of_scalars_is_the_array_of_its_element_and_a_list_of_lists_is_json() -> None:
    assert wt.wire_type(pa.list_(pa.int64())).oid == 1016
    assert wt.wire_type(pa.large_list(pa.string())).oid == 1009
    assert wt.wire_type(pa.list_(pa.date32())).oid == 1182
    assert wt.wire_type(pa.list_(pa.list_(pa.int64()))).oid == wt.JSON
    assert wt.wire_type(pa.list_(pa.struct([("a", pa.int64())]))).oid == wt.JSON


def test_array_text_quotes_what_postgresql_quotes() -> None:
    encode = wt.text_encoder(1009)
    assert encode(["a", "b c", None, "", "NULL", 'x"y', "back\\slash", "{}", "a,b"]) == (
        b'{a,"b c",NULL,"","NULL","x\\"y","back\\\\slash","{}","a,b"}'
    )
    assert wt.text_encoder(1016)([1, None, -3]) == b"{1,NULL,-3}"
    assert wt.text_encoder(1016)([]) == b"{}"


@given(st.lists(st.one_of(st.none(), st.text())))
def test_text_arrays_read_back_as_written(values: list[str | None]) -> None:
    assert wt.read_parameter(wt.text_encoder(1009)(values), 1009, binary=False) == values


@given(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))))
def test_binary_int8_arrays_read_back_as_written(values: list[int | None]) -> None:
    encoded = wt.binary_encoder(1016)
    assert encoded is not None
    assert wt.read_parameter(encoded(values), 1016, binary=True) == values


def test_array_literals_of_several_shapes_are_read() -> None:
    assert wt.read_parameter(b" { 1 , NULL ,3} ", 1016, binary=False) == [1, None, 3]
    assert wt.read_parameter(b"{{1,2},{3,4}}", 1007, binary=False) == [[1, 2], [3, 4]]
    assert wt.read_parameter(b"[1:2]={5,6}", 1007, binary=False) == [5, 6]
    assert wt.read_parameter(b'{"2026-01-02",NULL}', 1182, binary=False)[1] is None


def test_a_binary_array_is_read_as_the_element_type_its_header_names() -> None:
    int4s = struct.pack("!iiiii", 1, 0, wt.INT4, 2, 1) + struct.pack("!ii", 4, 7) + struct.pack("!ii", 4, 9)
    assert wt.read_parameter(int4s, 1016, binary=True) == [7, 9]  # declared int8[], sent int4[]
    two_by_one = (
        struct.pack("!iiiiiii", 2, 0, wt.INT8, 2, 1, 1, 1) + struct.pack("!iq", 8, 1) + struct.pack("!iq", 8, 2)
    )
    assert wt.read_parameter(two_by_one, 1016, binary=True) == [[1], [2]]
    assert wt.read_parameter(struct.pack("!iii", 0, 0, wt.INT8), 1016, binary=True) == []


@pytest.mark.parametrize("literal", [b"1,2", b"{1,2", b"{1,,2}", b"{1,2}x", b'{"a}', b"{1 2}"])
def test_malformed_array_literals_are_refused_with_a_reason(literal: bytes) -> None:
    with pytest.raises(wt.BadParameter, match="invalid input for a parameter of type _int8"):
        wt.read_parameter(literal, 1016, binary=False)


def test_a_truncated_binary_array_is_refused() -> None:
    header = struct.pack("!iiiii", 1, 0, wt.INT8, 3, 1) + struct.pack("!iq", 8, 1)
    with pytest.raises(wt.BadParameter):
        wt.read_parameter(header, 1016, binary=True)
