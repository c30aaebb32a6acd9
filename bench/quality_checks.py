"""Benchmark: ten checks on a 5M-row orders table.

(a) `quanta test` on a product holding the table, (b) one hand-written fused DuckDB query
computing the same ten metrics, (c) one query per check. Whole processes, same threads and
memory limit, interleaved; medians of wall time and peak RSS (each process's own), the ratios,
and Quanta's fixed start-up cost (`quanta test` on a 10-row copy of the product).

    python bench/quality_checks.py [--rows 5000000] [--runs 5] [--threads 2] [--memory 1GB]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKS = {  # the ten metrics, each as a failing-row count or a value
    "customer_id not null": "count(*) FILTER (WHERE customer_id IS NULL)",
    "sku not null": "count(*) FILTER (WHERE sku IS NULL)",
    "order_ts not null": "count(*) FILTER (WHERE order_ts IS NULL)",
    "order_id unique": "count(order_id) - count(DISTINCT order_id)",
    "sku pattern": "count(*) FILTER (WHERE sku IS NOT NULL AND NOT regexp_matches(sku, '^(?:SKU-[0-9]+)$'))",
    "quantity min": "count(*) FILTER (WHERE quantity < 1)",
    "quantity max": "count(*) FILTER (WHERE quantity > 100)",
    "price lower bound": "count(*) FILTER (WHERE price < 0)",
    "country allowed": "count(*) FILTER (WHERE country IS NOT NULL AND country NOT IN ('FR', 'DE', 'ES', 'IT', 'NL'))",
    "row count": "count(*)",
    "freshness": "max(order_ts)",
}

SPEC = """apiVersion: quanta/v1
kind: DataProduct
name: orders
domain: sales
version: 1.0.0
inputs:
  - {{id: raw, type: files, path: {data}, system: shop}}
transform: {{type: sql, steps: [orders.sql]}}
schema:
  properties:
    - {{name: order_id, logicalType: integer, primaryKey: true}}
    - {{name: customer_id, logicalType: integer, required: true}}
    - {{name: sku, logicalType: string, required: true, logicalTypeOptions: {{pattern: "SKU-[0-9]+"}}}}
    - {{name: quantity, logicalType: integer, logicalTypeOptions: {{minimum: 1, maximum: 100}}}}
    - {{name: price, logicalType: number, logicalTypeOptions: {{minimum: 0}}}}
    - {{name: order_ts, logicalType: timestamp, required: true}}
    - {{name: country, logicalType: string, enum: [FR, DE, ES, IT, NL]}}
slos:
  freshness: {{maxAge: 3650d, timestamp: order_ts}}
  volume: {{minRows: 1}}
"""


def prepare(base: Path, rows: int, threads: int, memory: str) -> tuple[Path, Path]:
    import duckdb

    data = base / "orders.parquet"
    duckdb.execute(f"""COPY (SELECT range AS order_id, range % 400000 AS customer_id, 'SKU-' || (range % 20000) AS sku,
        (1 + range % 5)::BIGINT AS quantity, round(1 + (range % 9000) / 100.0, 2) AS price,
        TIMESTAMP '2026-01-01' + INTERVAL (range % 86400) SECOND AS order_ts,
        ['FR', 'DE', 'ES', 'IT', 'NL'][1 + range % 5] AS country FROM range({rows}))
        TO '{data}' (FORMAT parquet, COMPRESSION zstd)""")
    for name, source in (("mesh", data), ("tiny", base / "tiny.parquet")):
        if name == "tiny":
            duckdb.execute(f"COPY (SELECT * FROM '{data}' LIMIT 10) TO '{source}' (FORMAT parquet)")
        root = base / name
        folder = root / "products" / "orders"
        folder.mkdir(parents=True)
        (root / "mesh.yaml").write_text(f"""apiVersion: quanta/v1
kind: Mesh
name: {name}
platform: {{engine: duckdb, threads: {threads}, memoryLimit: {memory}}}
domains: [{{name: sales}}]
systems: [{{name: shop, domain: sales}}]
""")
        (folder / "dataproduct.yaml").write_text(SPEC.format(data=source))
        (folder / "orders.sql").write_text("select * from raw\n")
        build = [sys.executable, "-m", "quanta", "build", str(root)]
        result = subprocess.run(build, capture_output=True, text=True, env={**os.environ})
        if result.returncode != 0:
            raise SystemExit(result.stdout + result.stderr)
    snapshot = next((base / "mesh" / ".quanta" / "warehouse" / "products").glob("sales/orders/v1/*/data/*.parquet"))
    return base / "mesh", snapshot


def script(snapshot: Path, threads: int, memory: str, fused: bool) -> str:
    setup = (
        f"import duckdb\nc = duckdb.connect(config={{'threads': {threads}, 'memory_limit': '{memory}'}})\n"
        f"c.execute(\"CREATE VIEW t AS SELECT * FROM read_parquet('{snapshot}')\")\n"
    )
    if fused:
        return setup + f'print(c.execute("""SELECT {", ".join(CHECKS.values())} FROM t""").fetchall())\n'
    return setup + "".join(f'c.execute("""SELECT {sql} FROM t""").fetchall()\n' for sql in CHECKS.values())


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command} failed: {process.stderr.read().decode() if process.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory", default="1GB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        mesh, snapshot = prepare(base, args.rows, args.threads, args.memory)
        test = [sys.executable, "-m", "quanta", "test", "sales.orders", "--mesh", str(mesh)]
        fused = [sys.executable, "-c", script(snapshot, args.threads, args.memory, True)]
        per_check = [sys.executable, "-c", script(snapshot, args.threads, args.memory, False)]
        commands = {
            "(a) quanta test": test,
            "(b) one fused DuckDB query": fused,
            "(c) one query per check": per_check,
        }
        startup = [sys.executable, "-m", "quanta", "test", "sales.orders", "--mesh", str(base / "tiny")]
        for command in [*commands.values(), startup]:
            measure(command)  # warm caches
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        fixed: list[float] = []
        for _ in range(args.runs):
            for name, command in commands.items():
                samples[name].append(measure(command))
            fixed.append(measure(startup)[0])
    medians = {n: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v)) for n, v in samples.items()}
    base_wall = medians["(b) one fused DuckDB query"][0]
    print(
        f"\nten checks on {args.rows:,} rows, {args.threads} threads, memory limit {args.memory}, "
        f"{args.runs} interleaved runs\n"
    )
    print(f"{'run':<32}{'wall s':>9}{'x (b)':>8}{'peak RSS MiB':>15}")
    for name, (wall, rss) in medians.items():
        print(f"{name:<32}{wall:>9.2f}{wall / base_wall:>8.2f}{rss:>15.0f}")
    print(f"\nquanta fixed start-up (quanta test on a 10-row product): {statistics.median(fixed):.2f} s")
    print("targets: (a) <= 1.2 x (b) in wall time; (a) <= 300 MiB peak RSS")


if __name__ == "__main__":
    main()
