"""Benchmark: the SQL port (PostgreSQL wire protocol) against embedded DuckDB and PostgreSQL itself.

Builds ``sales.orders`` (``--rows`` rows: integer key, a pii e-mail masked for the reader, country,
amount) and ``sales.archive`` (``--big-rows`` rows), then, in one run with audit on:

- primary-key lookups through psycopg on one connection (a principal without a row filter, and one
  whose grant filters by country), and on ``--connections`` connections at once, against an
  embedded DuckDB cursor doing the same lookup on the snapshot's Parquet file;
- a filtered aggregate over ``sales.archive`` through the port against embedded DuckDB;
- fetching ``--fetch-rows`` rows through the port against the local PostgreSQL 15 serving the same
  table (``--postgres``; a scratch schema is created and dropped).

Targets (issue 17): lookups at least 0.5x the embedded cursor's rate (0.4x with a row filter), the
aggregate within 1.2x of embedded DuckDB, the fetch within 1.5x of PostgreSQL.

    python bench/sql_port.py [--rows 1000000] [--big-rows 10000000] [--fetch-rows 1000000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from benchmesh import write_mesh_yaml

PASSWORD = "bench password"
WARM_UP = 20
"""Calls made before each timed run (first statements parse, plan and open files)."""


def write_mesh(root: Path, data: Path, rows: int, big_rows: int) -> None:
    import duckdb

    data.mkdir(parents=True)
    with duckdb.connect() as connection:
        for name, count in (("orders", rows), ("archive", big_rows)):
            connection.execute(
                f"COPY (SELECT range AS order_id, 'user' || (range % 200000) || '@example.com' AS email,"
                f" ['FR', 'DE', 'ES', 'IT'][1 + range % 4] AS country, round(5 + (hash(range) % 20000) / 100.0, 2)"
                f" AS amount FROM range({count}) ORDER BY order_id) TO '{data}/{name}.parquet' (FORMAT parquet)"
            )
    write_mesh_yaml(root, 2, ("readers", "country-readers"))
    for name in ("orders", "archive"):
        (root / f"products/{name}").mkdir(parents=True)
        (root / f"products/{name}/{name}.sql").write_text("select * from src\n")
        (root / f"products/{name}/dataproduct.yaml").write_text(f"""apiVersion: quanta/v1
kind: DataProduct
name: {name}
domain: sales
version: 1.0.0
inputs: [{{id: src, type: files, path: {data}/{name}.parquet, system: shop}}]
transform: {{type: sql, steps: [{name}.sql]}}
outputs: [{{id: table, type: sql}}]
schema:
  properties:
    - {{name: order_id, logicalType: integer, primaryKey: true}}
    - {{name: email, logicalType: string, classification: pii}}
    - {{name: country, logicalType: string}}
    - {{name: amount, logicalType: number}}
access:
  grants:
    - {{role: readers, ports: [table]}}
    - {{role: country-readers, ports: [table], rowFilter: "country = :principal.country"}}
""")


def rate(call: Any, keys: list[int], seconds: float) -> tuple[float, list[float]]:
    """Calls per second of ``call(key)`` for ``seconds`` (after a warm-up), and each call's milliseconds."""
    for key in keys[-WARM_UP:]:
        call(key)
    times, deadline, i = [], time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        call(keys[i % len(keys)])
        times.append((time.perf_counter() - started) * 1000)
        i += 1
    return len(times) / seconds, times


def parallel_rate(make: Any, keys: list[int], seconds: float, threads: int) -> float:
    counts = [0] * threads

    def work(n: int) -> None:
        call = make()
        for key in keys[-WARM_UP:]:
            call(key)
        deadline, i = time.perf_counter() + seconds, n
        while time.perf_counter() < deadline:
            call(keys[i % len(keys)])
            i += threads
            counts[n] += 1

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--fetch-rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    os.environ.setdefault("QUANTA_AUDIT_KEY", secrets.token_urlsafe(32))

    import duckdb
    import psycopg

    from quanta.catalog import PrincipalRecord
    from quanta.ports.sql.server import SqlOptions, SqlPort
    from quanta.project import Mesh
    from quanta.project.platform import Platform

    folder = Path(tempfile.mkdtemp(prefix="bench-sql-"))
    root = folder / "mesh"
    started = time.perf_counter()
    write_mesh(root, folder / "data", args.rows, args.big_rows)
    mesh = Mesh.load(root)
    mesh.build()
    mesh.close()
    print(f"built {args.rows:,} + {args.big_rows:,} rows in {time.perf_counter() - started:.0f} s")
    platform = Platform.open(Mesh.load(root).settings(), root)
    platform.add_principal(PrincipalRecord("reader", roles=("readers",)))
    platform.add_principal(PrincipalRecord("local-reader", roles=("country-readers",), attributes={"country": "FR"}))
    for name in ("reader", "local-reader"):
        platform.set_password(name, PASSWORD)
    port = SqlPort(platform, SqlOptions(port=0, workers=args.connections + 2))
    host, number = port.start()

    def connect(user: str) -> Any:
        return psycopg.connect(
            f"host={host} port={number} dbname=quanta user={user} password='{PASSWORD}'", autocommit=True
        )

    rng = random.Random(42)
    keys = [rng.randrange(args.rows) for _ in range(20_000)]
    lookup = "select * from sales.orders where order_id = %s"
    files = platform.plane.files(platform.spec("sales.orders"), platform.catalog.snapshots.current("sales.orders@v1"))
    archive = platform.plane.files(
        platform.spec("sales.archive"), platform.catalog.snapshots.current("sales.archive@v1")
    )
    embedded = duckdb.connect(config={"threads": 2})
    embedded.execute(f"CREATE VIEW orders AS SELECT * FROM read_parquet({list(files)!r})")
    embedded.execute(f"CREATE VIEW archive AS SELECT * FROM read_parquet({list(archive)!r})")

    def embedded_call() -> Any:
        cursor = embedded.cursor()
        return lambda k: cursor.execute("SELECT * FROM orders WHERE order_id = $1", [k]).fetchall()

    results: list[tuple[str, float, str]] = []
    base_rate, base_times = rate(embedded_call(), keys, args.seconds)
    results.append(("lookup: embedded DuckDB cursor (baseline)", base_rate, f"p99 {_p99(base_times):.2f} ms"))
    for user, label in (("reader", "lookup through the port"), ("local-reader", "lookup through the port, row filter")):
        connection = connect(user)
        got, times = rate(lambda k, c=connection: c.execute(lookup, [k]).fetchall(), keys, args.seconds)
        results.append((label, got, f"p99 {_p99(times):.2f} ms; {got / base_rate:.2f}x"))
        connection.close()
    many_base = parallel_rate(embedded_call, keys, args.seconds, args.connections)
    results.append((f"lookup: embedded DuckDB, {args.connections} cursors (baseline)", many_base, ""))

    def port_call() -> Any:
        connection = connect("reader")
        return lambda k: connection.execute(lookup, [k]).fetchall()

    many = parallel_rate(port_call, keys, args.seconds, args.connections)
    results.append((f"lookup through the port, {args.connections} connections", many, f"{many / many_base:.2f}x"))

    aggregate = "select country, count(*), sum(amount) from {t} where amount > 100 group by country order by 1"
    seconds_embedded = _timed(lambda: embedded.execute(aggregate.format(t="archive")).fetchall(), runs=9)
    with connect("reader") as connection:
        seconds_port = _timed(lambda: connection.execute(aggregate.format(t="sales.archive")).fetchall(), runs=9)
        fetch = f"select * from sales.orders order by order_id limit {args.fetch_rows}"
        seconds_fetch = _timed(lambda: connection.execute(fetch).fetchall(), runs=1)
    seconds_pg = _postgres_fetch(args.postgres, files, args.fetch_rows) if args.postgres else None
    port.stop()
    platform.close()

    print(f"\n| SQL port ({args.rows:,}-row lookups, audit on) | per second | notes |")
    print("|---|---|---|")
    for label, per_second, note in results:
        print(f"| {label} | {per_second:,.0f} | {note} |")
    print(f"\n| {args.big_rows:,}-row filtered aggregate | seconds | vs embedded |")
    print("|---|---|---|")
    print(f"| embedded DuckDB | {seconds_embedded:.3f} | 1.00x |")
    print(f"| through the port | {seconds_port:.3f} | {seconds_port / seconds_embedded:.2f}x |")
    if seconds_pg is not None:
        print(f"\n| fetch {args.fetch_rows:,} rows with psycopg | seconds | vs PostgreSQL |")
        print("|---|---|---|")
        print(f"| PostgreSQL 15 | {seconds_pg:.2f} | 1.00x |")
        print(f"| through the port | {seconds_fetch:.2f} | {seconds_fetch / seconds_pg:.2f}x |")
    print("\ntargets: lookups >= 0.5x embedded (0.4x with a row filter); aggregate <= 1.2x; fetch <= 1.5x PostgreSQL")


def _p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100)[98] if len(times) > 100 else max(times)


def _timed(call: Any, runs: int = 3) -> float:
    call()
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def _postgres_fetch(url: str, files: tuple[str, ...], rows: int) -> float:
    """Seconds for psycopg to fetch ``rows`` rows of the same table from PostgreSQL itself."""
    import duckdb
    import psycopg

    schema = f"bench_sql_{int(time.time())}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
        try:
            columns = "order_id bigint primary key, email text, country text, amount double precision"
            connection.execute(f"CREATE TABLE {schema}.orders ({columns})")
            source = duckdb.connect()
            reader = source.execute(f"SELECT * FROM read_parquet({list(files)!r}) ORDER BY order_id LIMIT {rows}")
            with connection.cursor().copy(f"COPY {schema}.orders FROM STDIN") as copy:
                while batch := reader.fetchmany(50_000):
                    for row in batch:
                        copy.write_row(row)
            connection.execute(f"ANALYZE {schema}.orders")
            return _timed(
                lambda: connection.execute(f"select * from {schema}.orders order by order_id limit {rows}").fetchall(),
                runs=1,
            )
        finally:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
