"""Benchmark: the data plane against a bare DuckDB cursor over the same files.

A 50-product mesh (one product of 10M orders with a classified e-mail column, 49 small ones) is
built once. Then, in one process, interleaved: (a) the data plane — gate, decision, secured
relation, one long-lived sandboxed reader — as `quanta query` and every port use it, and (b) a
bare DuckDB cursor on a view over the same Parquet files with a prepared statement (warm cache):
a point lookup by primary key, and a filtered aggregate over all 10M rows. Targets: the lookup at
most 2x the bare cursor, the aggregate within 1.1x.

    python bench/read_path.py [--rows 10000000] [--runs 30] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmesh import write_mesh_yaml, write_small_products


def generate(data: Path, rows: int) -> None:
    import duckdb

    data.mkdir(parents=True)
    with duckdb.connect() as connection:
        connection.execute(f"""COPY (SELECT range AS order_id, 'user' || (range % 200000) || '@example.com' AS email,
            (hash(range) % 200000)::BIGINT AS customer_id, ['FR', 'DE', 'ES', 'IT'][1 + range % 4] AS country,
            round(5 + (hash(range * 13) % 20000) / 100.0, 2) AS amount FROM range({rows}) ORDER BY order_id)
            TO '{data}/orders.parquet' (FORMAT parquet, COMPRESSION zstd)""")
        connection.execute(f"COPY (SELECT range AS id, range * 2 AS v FROM range(1000)) TO '{data}/small.parquet'")


def write_mesh(root: Path, data: Path, threads: int, products: int) -> None:
    write_mesh_yaml(root, threads)
    product = root / "products" / "orders"
    product.mkdir()
    (product / "dataproduct.yaml").write_text(f"""apiVersion: quanta/v1
kind: DataProduct
name: orders
domain: sales
version: 1.0.0
inputs: [{{id: src, type: files, path: {data}/orders.parquet, system: shop}}]
transform: {{type: sql, steps: [orders.sql]}}
outputs: [{{id: table, type: sql}}]
schema:
  properties:
    - {{name: order_id, logicalType: integer, primaryKey: true}}
    - {{name: email, logicalType: string, classification: pii}}
    - {{name: customer_id, logicalType: integer}}
    - {{name: country, logicalType: string}}
    - {{name: amount, logicalType: number}}
""")
    (product / "orders.sql").write_text("select * from src\n")
    write_small_products(root, data / "small.parquet", products - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import duckdb

    from quanta.access import LOCAL_OWNER
    from quanta.project import Mesh

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        generate(base / "data", args.rows)
        root = base / "mesh"
        write_mesh(root, base / "data", args.threads, 50)
        env = {**os.environ}
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "quanta", "build", str(root)], check=True, env=env, capture_output=True)
        print(f"built the 50-product mesh in {time.perf_counter() - started:.1f} s")
        mesh = Mesh.load(root)
        plane = mesh.platform.plane
        spec = plane.product("sales.orders")
        files = list(plane.files(spec, plane.snapshot(spec)))
        bare = duckdb.connect(config={"threads": args.threads})
        bare.execute("SET enable_object_cache = true")
        bare.read_parquet(files).create_view("orders")
        lookup_bare = bare.cursor()
        keys = [random.Random(i).randrange(args.rows) for i in range(args.runs)]
        aggregate = "select country, count(*) as n, sum(amount) as total from {t} where amount > 50 group by country"
        cases = {
            "point lookup by primary key": (
                lambda k: plane.query(LOCAL_OWNER, f"select * from sales.orders where order_id = {k}"),
                lambda k: lookup_bare.sql("select * from orders where order_id = $k", params={"k": k}).to_arrow_table(),
            ),
            "filtered aggregate over all rows": (
                lambda k: plane.query(LOCAL_OWNER, aggregate.format(t="sales.orders")),
                lambda k: lookup_bare.sql(aggregate.format(t="orders")).to_arrow_table(),
            ),
        }
        print(f"\n{args.rows:,} rows, {args.runs} runs each, {args.threads} threads, interleaved\n")
        print("| query | data plane ms | bare cursor ms | ratio |\n|---|---|---|---|")
        for name, (ours, theirs) in cases.items():
            ours(keys[0]), theirs(keys[0])  # warm both
            a, b = [], []
            for key in keys:
                t = time.perf_counter()
                result = ours(key)
                a.append(time.perf_counter() - t)
                t = time.perf_counter()
                expected = theirs(key)
                b.append(time.perf_counter() - t)
                assert result.num_rows == expected.num_rows
            ma, mb = statistics.median(a) * 1000, statistics.median(b) * 1000
            print(f"| {name} | {ma:.2f} | {mb:.2f} | {ma / mb:.2f}x |")
        masked = plane.query(LOCAL_OWNER, "select email from sales.orders limit 1").to_pylist()
        print(f"\n(the plane masks: email reads {masked[0]['email']!r})")
        mesh.close()
        bare.close()


if __name__ == "__main__":
    main()
