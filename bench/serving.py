"""Benchmark: Quanta's REST lookup by primary key against a hand-written FastAPI + DuckDB endpoint
on the same Parquet file, and Quanta's files port against a plain Starlette ``FileResponse``.

A 1M-row product (integer key, a pii e-mail column masked for the reader) and a 10M-row one (the
download) are built once. Then, in
one run, each server in its own process on loopback, the same bounded load (``wrk``, random keys,
``--connections`` connections, ``--duration`` seconds): (a) ``quanta serve``, authenticated with an
API token, through the data plane (decision, masks, secured relation), and (b) a FastAPI app with
one long-lived DuckDB connection and a cursor per request doing ``SELECT … WHERE order_id = $k``
over the snapshot's own Parquet file, no authentication, no masks. The download compares the
files port (a caller who sees everything in clear gets the snapshot's own file) with a
``FileResponse`` of the same file. Reports req/s, p50/p99 and each server's peak RSS.
Targets (issue 15): (a) at least 0.8x the throughput of (b), p99 under 20 ms; the download at
least 0.8x the FileResponse; server memory under 300 MiB. Needs ``wrk`` (Debian package).

    python bench/serving.py [--rows 1000000] [--download-rows 10000000] [--duration 10] [--connections 8]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmesh import write_mesh_yaml

BASELINE = """
import sys, duckdb, uvicorn
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from starlette.responses import FileResponse

path, big_file, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
connection = duckdb.connect(config={"threads": 2})
connection.execute(f"CREATE VIEW orders AS SELECT * FROM read_parquet('{path}')")
app = FastAPI()

@app.get("/orders/{key}")
def lookup(key: int):
    cursor = connection.cursor()
    try:
        rows = cursor.execute("SELECT * FROM orders WHERE order_id = $k", {"k": key}).fetchall()
        names = [d[0] for d in cursor.description]
    finally:
        cursor.close()
    if not rows:
        raise HTTPException(404)
    return JSONResponse(dict(zip(names, rows[0])))

@app.get("/file")
def download():
    return FileResponse(big_file, media_type="application/vnd.apache.parquet")

uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""

LUA = """
wrk.headers["Authorization"] = "Bearer {token}"
math.randomseed(42)
request = function()
  return wrk.format(nil, "{prefix}" .. math.random(0, {rows} - 1))
end
"""


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_mesh(root: Path, data: Path, rows: int, download_rows: int) -> None:
    """``sales.orders`` (``rows`` rows: the lookups) and ``sales.archive`` (``download_rows``: the
    download), each from a Parquet file DuckDB writes."""
    import duckdb

    data.mkdir(parents=True)
    with duckdb.connect() as connection:
        for name, count in (("orders", rows), ("archive", download_rows)):
            columns = (
                "range AS order_id, 'user' || (range % 200000) || '@example.com' AS email, "
                "['FR', 'DE', 'ES', 'IT'][1 + range % 4] AS country, "
                "round(5 + (hash(range) % 20000) / 100.0, 2) AS amount"
            )
            target = f"{data}/{name}.parquet"
            connection.execute(
                f"COPY (SELECT {columns} FROM range({count}) ORDER BY order_id) "
                f"TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
            )
    write_mesh_yaml(root, 2, ("services", "downloaders"))
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
outputs: [{{id: api, type: rest}}, {{id: files, type: files, formats: [parquet]}}]
schema:
  properties:
    - {{name: order_id, logicalType: integer, primaryKey: true}}
    - {{name: email, logicalType: string, classification: pii}}
    - {{name: country, logicalType: string}}
    - {{name: amount, logicalType: number}}
access:
  grants:
    - {{role: services, ports: [api]}}
    - {{role: downloaders, ports: [files], unmask: [email], purpose: benchmark}}
""")


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def wrk(url: str, script: Path | None, args: argparse.Namespace, duration: int | None = None) -> Load:
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration or args.duration}s"]
    command += ["--latency", "--timeout", "5s"] + (["-s", str(script)] if script else []) + [url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    return Load(rps, _percentile(out, "50"), _percentile(out, "99"), errors)


def _percentile(out: str, which: str) -> float:
    found = re.search(rf"^\s+{which}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, flags=re.M)
    if found is None:
        return float("nan")
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def stop(*processes: subprocess.Popen[bytes]) -> None:
    """Terminate the servers, and kill any that has not exited within 30 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the product looked up")
    parser.add_argument("--download-rows", type=int, default=10_000_000, help="rows of the product downloaded")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    from quanta.catalog import PrincipalRecord
    from quanta.project import Mesh
    from quanta.project.platform import Platform
    from quanta.read.plane import Selector

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "bench"
        write_mesh(root, Path(scratch) / "data", args.rows, args.download_rows)
        started = time.perf_counter()
        mesh = Mesh.load(root)
        mesh.build()
        platform = Platform.open(mesh.settings(), root)
        platform.add_principal(PrincipalRecord("svc", "service", roles=("services",)))
        platform.add_principal(PrincipalRecord("dl", "service", roles=("downloaders",)))
        lookup_token, _ = platform.create_token("svc")
        download_token, _ = platform.create_token("dl")
        spec = platform.plane.product("sales.orders@v1")
        (snapshot_file,) = platform.plane.files(spec, platform.plane.snapshot(spec, Selector()))
        archive = platform.plane.product("sales.archive@v1")
        (archive_file,) = platform.plane.files(archive, platform.plane.snapshot(archive, Selector()))
        platform.close()
        mesh.close()
        print(f"built {args.rows:,} + {args.download_rows:,} rows in {time.perf_counter() - started:.1f} s")

        quanta_port, base_port = free_port(), free_port()
        env = {**os.environ, "QUANTA_SERVER_SECRET": "b" * 40}
        quanta = subprocess.Popen(
            [sys.executable, "-m", "quanta", "serve", str(root), "--port", str(quanta_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        baseline = subprocess.Popen(
            [sys.executable, "-c", BASELINE, snapshot_file, archive_file, str(base_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for(f"http://127.0.0.1:{quanta_port}/api/v1/health", quanta)
            wait_for(f"http://127.0.0.1:{base_port}/orders/1", baseline)
            prefix = "/api/v1/products/sales/orders/v1/rows/"
            quanta_lua = Path(scratch) / "quanta.lua"
            quanta_lua.write_text(LUA.format(token=lookup_token, prefix=prefix, rows=args.rows))
            base_lua = Path(scratch) / "base.lua"
            base_lua.write_text(LUA.format(token="none", prefix="/orders/", rows=args.rows))
            wrk(f"http://127.0.0.1:{quanta_port}", quanta_lua, args, 2)  # warm both
            wrk(f"http://127.0.0.1:{base_port}", base_lua, args, 2)
            a = wrk(f"http://127.0.0.1:{quanta_port}", quanta_lua, args)
            b = wrk(f"http://127.0.0.1:{base_port}", base_lua, args)
            download_lua = Path(scratch) / "download.lua"
            download_lua.write_text(f'wrk.headers["Authorization"] = "Bearer {download_token}"\n')
            files_url = f"http://127.0.0.1:{quanta_port}/api/v1/products/sales/archive/v1/files/files"
            c = wrk(files_url, download_lua, args, max(3, args.duration // 2))
            d = wrk(f"http://127.0.0.1:{base_port}/file", None, args, max(3, args.duration // 2))
            rss_quanta, rss_base = peak_rss_mib(quanta.pid), peak_rss_mib(baseline.pid)
            size_mib = Path(archive_file).stat().st_size / 2**20
        finally:
            stop(quanta, baseline)
    print(
        f"\nlookups: {args.rows:,} rows, random keys; download: {args.download_rows:,} rows ({size_mib:.0f} MiB); "
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s\n"
    )
    print("| load | Quanta req/s | p50 ms | p99 ms | baseline req/s | p50 ms | p99 ms | ratio (throughput) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, q, base in (("lookup by key", a, b), ("download (whole file)", c, d)):
        print(
            f"| {name} | {q.rps:,.0f} | {q.p50_ms:.2f} | {q.p99_ms:.2f} | {base.rps:,.0f} | {base.p50_ms:.2f} "
            f"| {base.p99_ms:.2f} | {q.rps / base.rps:.2f}x |"
        )
    print(f"\npeak RSS: quanta serve {rss_quanta:.0f} MiB, baseline {rss_base:.0f} MiB")
    if a.errors or b.errors or c.errors or d.errors:
        print(f"non-2xx responses: quanta {a.errors + c.errors}, baseline {b.errors + d.errors}")


if __name__ == "__main__":
    main()
