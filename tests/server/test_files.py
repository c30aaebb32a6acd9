"""The files port: a caller who sees everything in clear gets the snapshot's own file (byte ranges
too); anyone else a rendition made once per (snapshot, decision) and cached, never holding a value
the read path masks or filters. Content-Length and the checksum header match the bytes."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from pathlib import Path

import pyarrow.parquet as pq

from quanta.read.plane import location_of
from serving_mesh import ROWS, Served

FILES = "/api/v1/products/sales/orders/v1/files/files"


def _checked(response: object) -> bytes:
    body: bytes = response.content  # type: ignore[attr-defined]
    headers = response.headers  # type: ignore[attr-defined]
    digest = hashlib.sha256(body).hexdigest()
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert int(headers["content-length"]) == len(body)
    assert headers["x-quanta-sha256"] == digest
    assert headers["repr-digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"
    return body


def _snapshot_files(served: Served) -> list[Path]:
    plane = served.platform.plane
    spec = plane.product("sales.orders@v1")
    return [Path(p) for p in plane.files(spec, plane.snapshot(spec))]


def test_a_caller_seeing_everything_in_clear_gets_the_snapshot_s_own_file(served: Served) -> None:
    (own,) = _snapshot_files(served)
    with served.client("cleo") as client:
        response = client.get(FILES)
        ranged = client.get(FILES, headers={"Range": "bytes=0-3"})
    body = _checked(response)
    assert body == own.read_bytes()
    store = served.platform.store
    plane = served.platform.plane
    spec = plane.product("sales.orders@v1")
    manifest = store.manifest(location_of(spec), plane.snapshot(spec).id)
    assert response.headers["x-quanta-sha256"] == manifest["files"][0]["sha256"]
    assert ranged.status_code == 206 and ranged.content == b"PAR1"
    assert "attachment" in response.headers["content-disposition"]


def test_a_masked_caller_s_download_holds_masked_values_only(served: Served) -> None:
    with served.client("ann") as client:
        body = _checked(client.get(FILES, params={"format": "parquet"}))
    table = pq.read_table(io.BytesIO(body))
    assert table.num_rows == ROWS and set(table.column("customer_id").to_pylist()) == {"***"}
    for raw in _snapshot_files(served):
        assert body != raw.read_bytes()


def test_a_row_filtered_caller_s_download_holds_their_rows_only(served: Served) -> None:
    with served.client("carl") as client:
        parquet = _checked(client.get(FILES))
        text = _checked(client.get(FILES, params={"format": "csv"})).decode()
    table = pq.read_table(io.BytesIO(parquet))
    assert set(table.column("country").to_pylist()) == {"FR"} and table.num_rows == ROWS // 4
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["country"] for r in rows} == {"FR"} and {r["customer_id"] for r in rows} == {"***"}


def test_renditions_are_made_once_and_reused(served: Served, tmp_path: Path) -> None:
    with served.client("ann") as client:
        first = client.get(FILES, params={"format": "csv"})
        cached = sorted(_renditions(served))
        stamps = [p.stat().st_mtime_ns for p in cached]
        second = client.get(FILES, params={"format": "csv"})
        again = client.get(FILES, params={"format": "csv"}, headers={"If-None-Match": first.headers["etag"]})
    assert _checked(first) == _checked(second)
    assert [p.stat().st_mtime_ns for p in sorted(_renditions(served))] == stamps
    assert again.status_code == 304


def _renditions(served: Served) -> list[Path]:
    cache = served.root.parent / "cache"
    return [p for p in cache.rglob("*") if p.suffix in (".csv", ".parquet")]


def test_formats_and_ports_the_port_does_not_offer(served: Served) -> None:
    with served.client("ann") as client:
        json_format = client.get(FILES, params={"format": "json"})
        empty_format = client.get(FILES, params={"format": ""})
        no_port = client.get("/api/v1/products/sales/orders/v1/files/api")
        unknown = client.get(FILES, params={"colour": "red"})
    assert json_format.status_code == 400 and json_format.json()["param"] == "format"
    assert empty_format.status_code == 400 and empty_format.json()["param"] == "format"  # not the default
    assert no_port.status_code == 404 and "no files port 'api'" in no_port.json()["detail"]
    assert unknown.status_code == 400 and unknown.json()["param"] == "colour"
