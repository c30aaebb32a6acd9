"""Benchmark: what authentication, the decision and the rewrite add to a point lookup.

A 50-product mesh (one product of 1M orders with a classified e-mail column, grants for five
roles, two with a row filter by country; 49 small products) is built once, and 1,000 principals
with an API token each are registered. Then, in one process, for statements by random principals:

- **lookup**: a point lookup by primary key through the read path (the secured relation with the
  key bound as a parameter, on the plane's long-lived reader), decision already made;
- **cached**: authenticating the token and securing the read when the access generation has not
  moved (what every statement but the first of a principal pays);
- **cold**: the same after the generation moved (a grant or principal changed): the token looked
  up in the catalog, the decision made, the relation built and rendered.

Then **audit**: point lookups per second (authenticate, secure, look up) on two planes over the
same catalog and snapshot, one auditing every lookup (batched writes, on a background thread, to
the catalog's chained audit log) and one not, in alternating rounds; the audited total includes
waiting for the last batch to be written.

Targets: the cached decision adds at most 10 % to a point lookup (issue 13); audit costs at most
10 % of the lookups per second (issue 14).

    python bench/access.py [--rows 1000000] [--principals 1000] [--statements 2000] [--threads 2]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmesh import write_mesh_yaml, write_small_products

ROLES = ("analysts", "finance", "support", "marketing", "field-sales")
COUNTRIES = ("FR", "DE", "ES", "IT")


def generate(data: Path, rows: int) -> None:
    import duckdb

    data.mkdir(parents=True)
    with duckdb.connect() as connection:
        connection.execute(f"""COPY (SELECT range AS order_id, 'user' || (range % 200000) || '@example.com' AS email,
            ['FR', 'DE', 'ES', 'IT'][1 + range % 4] AS country,
            round(5 + (hash(range * 13) % 20000) / 100.0, 2) AS amount FROM range({rows}) ORDER BY order_id)
            TO '{data}/orders.parquet' (FORMAT parquet, COMPRESSION zstd)""")
        connection.execute(f"COPY (SELECT range AS id, range * 2 AS v FROM range(1000)) TO '{data}/small.parquet'")


def write_mesh(root: Path, data: Path, threads: int, products: int) -> None:
    write_mesh_yaml(root, threads, ROLES, team="sales-data")
    product = root / "products" / "orders"
    product.mkdir()
    (product / "dataproduct.yaml").write_text(f"""apiVersion: quanta/v1
kind: DataProduct
name: orders
domain: sales
version: 1.0.0
inputs: [{{id: src, type: files, path: {data}/orders.parquet, system: shop}}]
transform: {{type: sql, steps: [orders.sql]}}
outputs: [{{id: table, type: sql}}, {{id: api, type: rest}}]
schema:
  properties:
    - {{name: order_id, logicalType: integer, primaryKey: true}}
    - {{name: email, logicalType: string, classification: pii}}
    - {{name: country, logicalType: string}}
    - {{name: amount, logicalType: number}}
access:
  grants:
    - {{role: analysts, ports: [table, api]}}
    - {{role: finance, ports: [table, api]}}
    - {{role: support, ports: [api], unmask: [email], purpose: answering customers}}
    - {{role: marketing, ports: [table, api], rowFilter: "country = :principal.country"}}
    - {{role: field-sales, ports: [api], rowFilter: "country = :principal.country and amount > 10"}}
""")
    (product / "orders.sql").write_text("select * from src\n")
    write_small_products(root, data / "small.parquet", products - 1, grant_role="analysts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--principals", type=int, default=1000)
    parser.add_argument("--statements", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from quanta.catalog import PrincipalRecord
    from quanta.project import Mesh

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        generate(base / "data", args.rows)
        root = base / "mesh"
        write_mesh(root, base / "data", args.threads, 50)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "quanta", "build", str(root)], check=True, capture_output=True)
        print(f"built the 50-product mesh in {time.perf_counter() - started:.1f} s")
        mesh = Mesh.load(root)
        platform = mesh.platform
        plane = platform.plane
        started = time.perf_counter()
        tokens = []
        for i in range(args.principals):
            role = ROLES[i % len(ROLES)]
            record = PrincipalRecord(f"p{i:04d}", roles=(role,), attributes={"country": COUNTRIES[i % len(COUNTRIES)]})
            platform.add_principal(record)
            tokens.append(platform.create_token(record.id)[0])
        print(f"registered {args.principals} principals with tokens in {time.perf_counter() - started:.1f} s")
        spec = plane.product("sales.orders")
        rng = random.Random(7)
        statements = [(rng.choice(tokens), rng.randrange(args.rows)) for _ in range(args.statements)]

        def secured(token: str) -> object:
            return plane.secure(platform.authenticate(token, source="bench"), spec, "api")

        def forget() -> None:
            """What a moved access generation does: every cached token check and decision dropped."""
            platform._authenticated.clear()
            plane._generation = None

        for token in tokens:  # warm: every principal authenticated and decided once
            secured(token)
        lookup_ms, cached_ms, cold_ms, rows = [], [], [], 0
        for token, key in statements:  # every principal decided already: the cached path
            t = time.perf_counter()
            read = secured(token)
            cached_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            rows += plane.lookup(read, {"order_id": key}).num_rows  # type: ignore[arg-type]
            lookup_ms.append((time.perf_counter() - t) * 1000)
        for token, _ in statements:  # the generation moved before every statement: the cold path
            forget()
            t = time.perf_counter()
            secured(token)
            cold_ms.append((time.perf_counter() - t) * 1000)

        def row(name: str, values: list[float]) -> str:
            median, p99 = statistics.median(values), statistics.quantiles(values, n=100)[98]
            return f"| {name} | {median:.3f} | {p99:.3f} | {median / statistics.median(lookup_ms):.2f}x |"

        print(
            f"\n{args.rows:,} orders, 50 products, {args.principals} principals, {args.statements} statements, "
            f"{rows} rows found\n"
        )
        print("| per statement | median ms | p99 ms | of a point lookup |\n|---|---|---|---|")
        print(row("point lookup through the read path (decided)", lookup_ms))
        print(row("authentication + decision + rewrite, cached", cached_ms))
        print(row("authentication + decision + rewrite, cold", cold_ms))
        ratio = statistics.median(cached_ms) / statistics.median(lookup_ms)
        print(f"\ncached overhead: {ratio:.1%} of a point lookup (target: at most 10 %)")
        audit_on_off(platform, spec, statements)
        mesh.close()


def audit_on_off(platform: object, spec: object, statements: list[tuple[str, int]], rounds: int = 10) -> None:
    """Lookups per second with audit on and off, alternating rounds over the same statements."""
    from quanta.catalog.audit import AuditLog, AuditWriter
    from quanta.read import DataPlane

    catalog = platform.catalog  # type: ignore[attr-defined]
    store = platform.store  # type: ignore[attr-defined]
    writer = AuditWriter(AuditLog(catalog.engine, b"b" * 40))
    planes = {"off": DataPlane(catalog, lambda: store), "on": DataPlane(catalog, lambda: store, audit=writer)}
    elapsed = {"off": 0.0, "on": 0.0}
    done = {"off": 0, "on": 0}
    chunk = max(1, len(statements) // rounds)
    for plane in planes.values():  # warm both
        for token, key in statements[:chunk]:
            read = plane.secure(platform.authenticate(token, source="bench"), spec, "api")  # type: ignore[attr-defined]
            plane.lookup(read, {"order_id": key})
    writer.flush()
    before = catalog.audit.count() if catalog.audit.enabled else None
    for start in range(0, len(statements), chunk):
        part = statements[start : start + chunk]
        for name in ("off", "on") if start // chunk % 2 == 0 else ("on", "off"):
            plane = planes[name]
            t = time.perf_counter()
            for token, key in part:
                read = plane.secure(platform.authenticate(token, source="bench"), spec, "api")  # type: ignore[attr-defined]
                plane.lookup(read, {"order_id": key})
            if name == "on":
                writer.flush()
            elapsed[name] += time.perf_counter() - t
            done[name] += len(part)
    rate = {name: done[name] / elapsed[name] for name in elapsed}
    written = AuditLog(catalog.engine, b"b" * 40).count() if before is None else catalog.audit.count() - before
    print("\n| point lookups (authenticate + secure + look up) | per second | ratio |\n|---|---|---|")
    print(f"| audit off | {rate['off']:.0f} | 1.00x |")
    print(f"| audit on (every lookup chained into the catalog) | {rate['on']:.0f} | {rate['on'] / rate['off']:.2f}x |")
    cost = 1 - rate["on"] / rate["off"]
    print(f"\naudit cost: {cost:.1%} of the lookups per second (target: at most 10 %); {written} audit rows in the log")
    for plane in planes.values():
        plane.close()


if __name__ == "__main__":
    main()
