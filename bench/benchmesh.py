"""The parts of the benchmarks' generated meshes they share: one `sales` domain fed by one system,
and small filler products, so each benchmark writes only the product it measures."""

from __future__ import annotations

from pathlib import Path


def write_mesh_yaml(root: Path, threads: int, roles: tuple[str, ...] = (), team: str | None = None) -> None:
    """``root/mesh.yaml``: platform defaults in ``.quanta/``, one domain ``sales`` (owned by
    ``team``), one system ``shop``, ``roles`` and every product under ``products/``."""
    (root / "products").mkdir(parents=True, exist_ok=True)
    owner = f", team: {team}" if team else ""
    declared = "roles: [" + ", ".join(f"{{name: {r}}}" for r in roles) + "]\n" if roles else ""
    (root / "mesh.yaml").write_text(f"""apiVersion: quanta/v1
kind: Mesh
name: bench
platform: {{engine: duckdb, storage: .quanta/warehouse, catalog: sqlite:///.quanta/catalog.db, threads: {threads}}}
domains: [{{name: sales{owner}}}]
{declared}systems: [{{name: shop, domain: sales}}]
products: [products/**/dataproduct.yaml]
""")


def write_small_products(root: Path, source: Path, count: int, grant_role: str | None = None) -> None:
    """``count`` products ``sales.small-<i>`` copying the Parquet file ``source`` (columns ``id``,
    ``v``), each granting its table to ``grant_role`` when given."""
    access = f"access:\n  grants: [{{role: {grant_role}, ports: [table]}}]\n" if grant_role else ""
    for i in range(count):
        folder = root / "products" / f"small-{i}"
        folder.mkdir(parents=True)
        (folder / "dataproduct.yaml").write_text(f"""apiVersion: quanta/v1
kind: DataProduct
name: small-{i}
domain: sales
version: 1.0.0
inputs: [{{id: src, type: files, path: {source}, system: shop}}]
transform: {{type: sql, steps: [small.sql]}}
outputs: [{{id: table, type: sql}}]
schema:
  properties:
    - {{name: id, logicalType: integer, primaryKey: true}}
    - {{name: v, logicalType: integer}}
{access}""")
        (folder / "small.sql").write_text("select * from src\n")
