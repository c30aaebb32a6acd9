"""Benchmark: Quanta's build overhead against raw DuckDB on the same work.

10M-row orders Parquet joined to a 20k-row products Parquet, aggregated per customer and
category, written as Parquet: (a) `quanta build --full` of a one-product mesh through the warm
fork server, (a') the same cold (`QUANTA_DAEMON=0`), (b) one DuckDB `COPY (SELECT …) TO` in a
separate process; all whole processes, same threads and Parquet settings (zstd, 122,880-row
groups), interleaved. Then Quanta's fixed overhead: a no-op `quanta build` of a 10-product
mesh both ways, and a `python -X importtime` summary of the cold command.

    python bench/build_overhead.py [--rows 10000000] [--runs 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmesh import write_mesh_yaml

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
    write_mesh_yaml(root, threads)
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


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed


def importtime(command: list[str], top: int = 12) -> list[tuple[str, float]]:
    """Self import time summed per package (Quanta per subpackage), largest first."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    totals: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| \s*(\S+)", line)
        if match:
            parts = match.group(2).split(".")
            name = ".".join(parts[:2]) if parts[0] == "quanta" else parts[0]
            totals[name] = totals.get(name, 0.0) + int(match.group(1)) / 1e6
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return [*ranked[:top], ("(all)", sum(totals.values()))]


FLOOR = [sys.executable, "-c", "import duckdb; duckdb.connect().execute('select 1')"]


def table(title: str, rows: dict[str, list[float]], baseline: list[float]) -> None:
    floor = statistics.median(baseline)
    print(f"\n{title}")
    print(f"{'run':<58}{'median s':>10}{'min s':>9}{'max s':>9}{'ratio':>8}")
    for name, values in rows.items():
        median = statistics.median(values)
        print(f"{name:<58}{median:>10.3f}{min(values):>9.3f}{max(values):>9.3f}{median / floor:>7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    quanta = [sys.executable, "-m", "quanta"]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        generate(base / "data", args.rows)
        write_mesh(base / "ten", base / "data", args.threads, products=10)
        ten = str(base / "ten")
        timed([*quanta, "build", ten])  # builds the ten products once; every later build is a no-op
        startup = {
            "no-op quanta build, 10 products": [*quanta, "build", ten],
            "quanta status, 10 products": [*quanta, "status", ten],
            "quanta --help": [*quanta, "--help"],
        }
        for command in [*startup.values(), FLOOR]:
            timed(command)  # warm the file cache and .pyc files
        samples: dict[str, list[float]] = {name: [] for name in startup}
        floor: list[float] = []
        for _ in range(args.runs * 4):
            floor.append(timed(FLOOR))
            for name, command in startup.items():
                samples[name].append(timed(command))
        imports = importtime(["-m", "quanta", "build", ten])

        write_mesh(base / "one", base / "data", args.threads)
        one = [*quanta, "build", str(base / "one"), "--full"]
        raw = [sys.executable, "-c", raw_script(base / "data", base / "raw.parquet", args.threads)]
        timed(one)  # first build: hashes the inputs once (cached by their stat afterwards)
        timed(raw)
        a, b = [], []
        for _ in range(args.runs):
            a.append(timed(one))
            b.append(timed(raw))
    table(f"start-up, whole processes, {args.runs * 4} interleaved runs (ratio to the floor)", samples, floor)
    print(f"{'floor: python -c import duckdb; connect; select 1':<58}{statistics.median(floor):>10.3f}")
    print("targets: no-op build <= 3x the floor; --help <= 2x")
    table(
        f"one-product build: {args.rows:,} orders x 20,000 products, {args.threads} threads, "
        f"{args.runs} interleaved runs (ratio to raw DuckDB)",
        {"(a) quanta build --full": a, "(b) duckdb COPY (SELECT ...) TO, one process": b},
        b,
    )
    print("target: (a) <= 1.15x (b)")
    print("\npython -X importtime -m quanta build (no-op), self time per package:")
    for name, seconds in imports:
        print(f"  {name:<28}{seconds * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
