"""Benchmark: Quanta's build overhead against raw DuckDB on the same work.

10M-row orders Parquet joined to a 20k-row products Parquet, aggregated per customer and
category, written as Parquet: (a) `quanta build --full` of a one-product mesh, (b) one DuckDB
`COPY (SELECT …) TO` in a separate process; both whole processes, same threads and Parquet
settings (zstd, 122,880-row groups), interleaved. Then Quanta's fixed overhead: a no-op
`quanta build` of a 10-product mesh, and a `python -X importtime` summary of that command.

    python bench/build_overhead.py [--rows 10000000] [--runs 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERY = """SELECT o.customer_id, p.category, sum(o.quantity * o.price) AS revenue, count(*) AS lines
FROM {orders} AS o JOIN {products} AS p USING (sku)
GROUP BY o.customer_id, p.category"""


def generate(data: Path, rows: int) -> None:
    import duckdb

    data.mkdir(parents=True)
    with duckdb.connect() as connection:
        connection.execute(f"""COPY (SELECT range AS order_id, (hash(range) % 200000)::BIGINT AS customer_id,
            (hash(range * 7) % 20000)::BIGINT AS sku, (1 + range % 4)::INTEGER AS quantity,
            round(5 + (hash(range * 13) % 20000) / 100.0, 2) AS price FROM range({rows}))
            TO '{data}/orders.parquet' (FORMAT parquet, COMPRESSION zstd)""")
        connection.execute(f"""COPY (SELECT range AS sku, 'category-' || (range % 50) AS category
            FROM range(20000)) TO '{data}/products.parquet' (FORMAT parquet, COMPRESSION zstd)""")


def write_mesh(root: Path, data: Path, threads: int, products: int = 1) -> None:
    (root / "products").mkdir(parents=True)
    (root / "mesh.yaml").write_text(f"""apiVersion: quanta/v1
kind: Mesh
name: bench
platform: {{engine: duckdb, storage: .quanta/warehouse, catalog: sqlite:///.quanta/catalog.db, threads: {threads}}}
domains: [{{name: sales}}]
systems: [{{name: shop, domain: sales}}]
products: [products/**/dataproduct.yaml]
""")
    for i in range(products):
        folder = root / "products" / f"revenue-{i}"
        folder.mkdir()
        (folder / "dataproduct.yaml").write_text(f"""apiVersion: quanta/v1
kind: DataProduct
name: revenue-{i}
domain: sales
version: 1.0.0
inputs:
  - {{id: orders, type: files, path: {data}/orders.parquet, system: shop}}
  - {{id: products, type: files, path: {data}/products.parquet, system: shop}}
transform: {{type: sql, steps: [revenue.sql]}}
schema:
  properties:
    - {{name: customer_id, logicalType: integer, primaryKey: true}}
    - {{name: category, logicalType: string, primaryKey: true}}
    - {{name: revenue, logicalType: number}}
    - {{name: lines, logicalType: integer}}
""")
        (folder / "revenue.sql").write_text(QUERY.format(orders="orders", products="products") + "\n")


def raw_script(data: Path, out: Path, threads: int) -> str:
    query = QUERY.format(
        orders=f"read_parquet('{data}/orders.parquet')", products=f"read_parquet('{data}/products.parquet')"
    )
    return (
        f"import duckdb\nc = duckdb.connect(config={{'threads': {threads}}})\n"
        f'c.execute("""COPY ({query}) TO \'{out}\' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)""")\n'
    )


def timed(command: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed


def importtime(command: list[str], top: int = 10) -> list[tuple[str, float]]:
    result = subprocess.run([sys.executable, "-X", "importtime", *command], capture_output=True, text=True)
    totals: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and len(match.group(2)) <= 1:
            name = match.group(3).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(match.group(1)) / 1e6
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        generate(base / "data", args.rows)
        write_mesh(base / "mesh", base / "data", args.threads)
        quanta = [sys.executable, "-m", "quanta", "build", str(base / "mesh"), "--full"]
        raw = [sys.executable, "-c", raw_script(base / "data", base / "raw.parquet", args.threads)]
        timed(quanta)  # first build: hashes the inputs once (cached by size and mtime afterwards)
        timed(raw)
        a, b = [], []
        for _ in range(args.runs):
            a.append(timed(quanta))
            b.append(timed(raw))
        write_mesh(base / "ten", base / "data", args.threads, products=10)
        noop_command = [sys.executable, "-m", "quanta", "build", str(base / "ten")]
        timed(noop_command)
        noop = [timed(noop_command) for _ in range(args.runs)]
        imports = importtime(["-m", "quanta", "build", str(base / "ten")])
    med_a, med_b = statistics.median(a), statistics.median(b)
    print(
        f"\nbuild overhead: {args.rows:,} orders x 20,000 products, {args.threads} threads, "
        f"{args.runs} interleaved runs\n"
    )
    print(f"{'run':<52}{'median s':>10}{'min s':>9}{'max s':>9}")
    print(f"{'(a) quanta build --full':<52}{med_a:>10.2f}{min(a):>9.2f}{max(a):>9.2f}")
    print(f"{'(b) duckdb COPY (SELECT ...) TO, separate process':<52}{med_b:>10.2f}{min(b):>9.2f}{max(b):>9.2f}")
    print(f"{'ratio (a)/(b)   target <= 1.15':<52}{med_a / med_b:>10.2f}")
    print(
        f"{'no-op quanta build, 10 products   target < 1.0 s':<52}{statistics.median(noop):>10.2f}"
        f"{min(noop):>9.2f}{max(noop):>9.2f}"
    )
    print("\npython -X importtime -m quanta build (no-op), cumulative per top-level package:")
    for name, seconds in imports:
        print(f"  {name:<28}{seconds * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
