"""A product of many rows (10M by default) for memory tests: an integer key, a pii e-mail, a
country and an amount, written as Parquet by DuckDB and built by `quanta build`. Grants: ``clear``
downloads everything in clear (the snapshot's own file), ``masked`` downloads and reads over REST
with the e-mail masked, ``country`` reads one country over REST (a row filter)."""

from __future__ import annotations

from pathlib import Path

from quanta.catalog import PrincipalRecord
from quanta.project import Mesh
from quanta.project.platform import Platform

PRINCIPALS = {
    "clear": PrincipalRecord("clear", "service", roles=("clear",)),
    "masked": PrincipalRecord("masked", "service", roles=("masked",)),
    "country": PrincipalRecord("country", "service", roles=("country",), attributes={"country": "FR"}),
}


def write_big_mesh(root: Path, rows: int, threads: int = 2) -> Path:
    import duckdb

    data = root / "data"
    data.mkdir(parents=True)
    with duckdb.connect() as connection:
        connection.execute(f"""COPY (SELECT range AS order_id, 'user' || (range % 200000) || '@example.com' AS email,
            ['FR', 'DE', 'ES', 'IT'][1 + range % 4] AS country, round(5 + (hash(range) % 20000) / 100.0, 2) AS amount
            FROM range({rows}) ORDER BY order_id) TO '{data}/orders.parquet' (FORMAT parquet, COMPRESSION zstd)""")
    (root / "products/orders").mkdir(parents=True)
    (root / "mesh.yaml").write_text(f"""apiVersion: quanta/v1
kind: Mesh
name: big
platform: {{engine: duckdb, storage: .quanta/warehouse, catalog: sqlite:///.quanta/catalog.db, threads: {threads}}}
domains: [{{name: sales}}]
roles: [{{name: clear}}, {{name: masked}}, {{name: country}}]
systems: [{{name: shop, domain: sales}}]
products: [products/**/dataproduct.yaml]
""")
    (root / "products/orders/orders.sql").write_text("select * from src\n")
    (root / "products/orders/dataproduct.yaml").write_text("""apiVersion: quanta/v1
kind: DataProduct
name: orders
domain: sales
version: 1.0.0
inputs: [{id: src, type: files, path: data/orders.parquet, system: shop}]
transform: {type: sql, steps: [orders.sql]}
outputs:
  - {id: api, type: rest, maxPageSize: 100000}
  - {id: files, type: files, formats: [parquet, csv]}
schema:
  properties:
    - {name: order_id, logicalType: integer, primaryKey: true}
    - {name: email, logicalType: string, classification: pii}
    - {name: country, logicalType: string}
    - {name: amount, logicalType: number}
access:
  grants:
    - {role: clear, ports: [files, api], unmask: [email], purpose: memory tests}
    - {role: masked, ports: [files, api]}
    - {role: country, ports: [api, files], rowFilter: "country = :principal.country"}
""")
    return root


def build_and_enrol(root: Path) -> dict[str, str]:
    """Build the mesh and register its principals; principal → token."""
    mesh = Mesh.load(root)
    try:
        outcomes = mesh.build().outcomes
        assert {o.status for o in outcomes} == {"built"}, [(o.key, o.status, o.reasons) for o in outcomes]
        platform = Platform.open(mesh.settings(), root)
        try:
            tokens = {}
            for record in PRINCIPALS.values():
                platform.add_principal(record)
                tokens[record.id], _ = platform.create_token(record.id)
            return tokens
        finally:
            platform.close()
    finally:
        mesh.close()
