"""`quanta export`: a snapshot to one Parquet or CSV file, classified properties masked by default."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from quanta.cli.main import app
from quanta.errors import QuantaError
from quanta.project import Mesh

ORDERS = "products/sales/orders/dataproduct.yaml"


@pytest.fixture
def mesh(mesh_dir: Path) -> Mesh:
    spec = mesh_dir / ORDERS
    spec.write_text(
        spec.read_text().replace(
            "{name: customer_id, logicalType: string, required: true,",
            "{name: customer_id, logicalType: string, required: true, classification: pii,",
        )
    )
    built = Mesh.load(mesh_dir)
    built.build()
    return built


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_export_writes_every_row_and_masks_classified_properties(mesh: Mesh, tmp_path: Path, file_format: str) -> None:
    expected = mesh.read("sales.orders", unmask=True).sort_by("order_id").to_pylist()
    masked = mesh.export("sales.orders", file_format, out=tmp_path / f"orders.{file_format}")
    clear = mesh.export("sales.orders", file_format, out=tmp_path / f"clear.{file_format}", unmask=True)
    reader = "read_parquet" if file_format == "parquet" else "read_csv"
    rows = duckdb.sql(f"select * from {reader}('{clear.path}') order by order_id").to_arrow_table().to_pylist()
    assert masked.rows == clear.rows == len(expected) > 0
    assert [r["order_id"] for r in rows] == [r["order_id"] for r in expected]
    assert [r["customer_id"] for r in rows] == [r["customer_id"] for r in expected]
    hidden = duckdb.sql(f"select distinct customer_id from {reader}('{masked.path}')").fetchall()
    assert hidden == [("***",)]
    assert not list(tmp_path.glob(".*.partial"))


def test_export_a_past_snapshot_and_refuse_unknown_ones(mesh: Mesh, tmp_path: Path) -> None:
    first = mesh.workspace.catalog.snapshots.current("sales.orders@v1")
    assert first is not None
    data = mesh.source.root / "data/orders.csv"
    data.write_text(data.read_text() + data.read_text().splitlines()[1].replace(",", "9,", 1) + "\n")
    mesh.build()
    now = mesh.export("sales.orders", "csv", out=tmp_path / "now.csv")
    then = mesh.export("sales.orders", "csv", out=tmp_path / "then.csv", snapshot_id=first.id)
    assert now.rows == then.rows + 1 == first.rows + 1
    with pytest.raises(QuantaError, match="has no published snapshot nope"):
        mesh.export("sales.orders", "csv", snapshot_id="nope")
    with pytest.raises(QuantaError, match="unknown export format"):
        mesh.export("sales.orders", "xlsx", out=tmp_path / "x.xlsx")


def test_export_cli(mesh: Mesh, tmp_path: Path) -> None:
    out = tmp_path / "o.parquet"
    result = CliRunner().invoke(app, ["export", "sales.orders", "--mesh", str(mesh.source.root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"rows to {out}" in result.output.replace("\n", "") and out.stat().st_size > 0


def test_export_into_a_folder_names_the_file(mesh: Mesh, tmp_path: Path) -> None:
    record = mesh.workspace.catalog.snapshots.current("sales.orders@v1")
    assert record is not None
    result = mesh.export("sales.orders", "csv", out=tmp_path)
    assert result.path == tmp_path / f"sales.orders-{record.id}.csv" and result.path.is_file()


def test_a_failed_export_leaves_no_partial_file_and_keeps_the_previous_one(tmp_path: Path) -> None:
    import sqlglot

    from quanta.read import DataPlane
    from quanta.read.plane import QueryError, SecuredRead
    from quanta.storage import LocalSnapshotStore

    store = LocalSnapshotStore(tmp_path / "warehouse")
    data = tmp_path / "warehouse" / "products" / "numbers.parquet"
    data.parent.mkdir(parents=True)
    duckdb.execute(f"COPY (SELECT range AS i FROM range(3000000)) TO '{data}' (FORMAT parquet)")
    target = tmp_path / "out" / "numbers.csv"
    target.parent.mkdir()
    target.write_text("i\n1\n")
    failing = sqlglot.parse_one(  # fails after rows were written
        f"SELECT CASE WHEN i > 2500000 THEN error('boom') ELSE i END AS i FROM read_parquet(['{data}'])", read="duckdb"
    )
    plane = DataPlane(None, lambda: store)  # type: ignore[arg-type]
    read = SecuredRead(None, None, None, (str(data),), failing, None, None)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="boom"):
        plane.export(read, "csv", target)
    assert target.read_text() == "i\n1\n"
    assert [p.name for p in target.parent.iterdir()] == ["numbers.csv"]
