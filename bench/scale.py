"""The fashion-retail mesh at a scale factor on DuckDB and on Spark local[2], in one run: wall time,
peak memory (this process and its children, the JVM included), each product's time; then each SQL
product's Spark time against the same transpiled SQL run in a bare SparkSession (the session's
start reported separately). Target: Quanta within 1.25x of the bare session.

    .venv/bin/python bench/scale.py --scale 1        # SF1 (SF10: --scale 10, by hand)
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from quanta.examples.fashion_retail import Settings, generate
from quanta.project import Mesh

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fashion-retail"


class PeakMemory:
    """Samples the resident memory of this process and all its descendants every 0.2 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, sum(_rss(pid) for pid in _family(os.getpid())))


def _family(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def build(root: Path, engine: str) -> dict[str, Any]:
    os.environ["QUANTA_ENGINE"] = engine
    os.environ["QUANTA_MASTER"] = "local[2]"
    with PeakMemory() as memory:
        started = time.perf_counter()
        mesh = Mesh.load(root)
        report = mesh.build()
        wall = time.perf_counter() - started
    failed = [o for o in report.outcomes if not o.ok]
    if failed:
        raise SystemExit(f"{engine}: {[(o.key, o.error) for o in failed]}")
    return {"mesh": mesh, "wall": wall, "peak": memory.peak, "products": {o.key: o.duration_s for o in report.outcomes}}


def bare_spark(mesh: Mesh) -> tuple[float, dict[str, float]]:
    """Each SQL product's steps, transpiled as Quanta does, over the same input files, written as
    Parquet by a plain session: (session start seconds, seconds by product)."""
    from pyspark.sql import SparkSession

    from quanta.engines.base import SqlStep
    from quanta.engines.spark.sql import to_spark
    from quanta.spec.transform import SqlTransform

    start = _session_start()
    session = SparkSession.builder.master("local[2]").getOrCreate()  # the JVM the build started
    session.conf.set("spark.sql.session.timeZone", "UTC")
    times: dict[str, float] = {}
    workspace = mesh.workspace
    for product in mesh.source.products:
        transform = product.spec.transform
        if not isinstance(transform, SqlTransform):
            continue
        from quanta.build.product import resolve_input

        context = workspace.input_context(product)
        relations = [resolve_input(workspace.connectors, i, context).relation for i in product.spec.inputs]
        out = Path(tempfile.mkdtemp(prefix="bare-"))
        began = time.perf_counter()
        for relation in relations:
            paths = [p.removeprefix("file://") for p in relation.paths]
            if relation.format == "parquet":
                frame = session.read.parquet(*paths)
            elif relation.format == "csv":
                options = dict(relation.options)
                frame = session.read.csv(paths, header=True, sep=options.get("delimiter") or ",", inferSchema=True)
            else:
                frame = session.read.json(paths, multiLine=relation.format == "json")
            frame.createOrReplaceTempView(relation.name)
        frame = None
        for step in transform.steps:
            sql = (product.folder / step).read_text()
            frame = session.sql(to_spark(SqlStep(Path(step).stem, sql, transform.dialect)))
            frame.createOrReplaceTempView(Path(step).stem)
        assert frame is not None
        frame.write.mode("overwrite").parquet(str(out / "data"))
        times[product.spec.key] = time.perf_counter() - began
        shutil.rmtree(out, ignore_errors=True)
    return start, times


def _session_start() -> float:
    """Seconds a fresh process takes to start a local[2] SparkSession (JVM included)."""
    import subprocess
    import sys

    script = (
        "import time; t = time.perf_counter(); from pyspark.sql import SparkSession; "
        "SparkSession.builder.master('local[2]').getOrCreate(); print(time.perf_counter() - t)"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return float(shown.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="scale factor (1: 100,000 customers)")
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    base = Path(tempfile.mkdtemp(prefix="quanta-scale-"))
    duck = base / "duckdb" / "fashion-retail"
    shutil.copytree(EXAMPLE, duck, ignore=shutil.ignore_patterns(".quanta", "systems"))
    generated = time.perf_counter()
    generate(duck / "systems", Settings(scale=args.scale, seed=42))
    print(f"generated SF{args.scale:g} in {time.perf_counter() - generated:.1f} s")
    spark_root = base / "spark" / "fashion-retail"
    shutil.copytree(duck, spark_root)
    results = {"duckdb": build(duck, "duckdb"), "spark": build(spark_root, "spark")}
    start, bare = bare_spark(results["spark"]["mesh"])
    print(f"\n{'':40} {'duckdb':>10} {'spark':>10} {'bare spark':>11} {'spark/bare':>11}")
    print(f"{'wall time (s)':40} {results['duckdb']['wall']:10.1f} {results['spark']['wall']:10.1f}")
    peaks = [results[e]["peak"] / 2**20 for e in ("duckdb", "spark")]
    print(f"{'peak memory, JVM included (MiB)':40} {peaks[0]:10.0f} {peaks[1]:10.0f}")
    print(f"{'bare session start (s)':40} {'':10} {'':10} {start:11.1f}")
    for key in results["duckdb"]["products"]:
        d, s = results["duckdb"]["products"][key], results["spark"]["products"][key]
        b = bare.get(key)
        tail = f" {b:11.1f} {s / b:10.2f}x" if b else ""
        print(f"{key:40} {d:10.1f} {s:10.1f}{tail}")
    total_spark = sum(results["spark"]["products"][k] for k in bare)
    total_bare = sum(bare.values())
    print(
        f"{'SQL products together':40} {'':10} {total_spark:10.1f} {total_bare:11.1f} {total_spark / total_bare:10.2f}x"
    )
    for result in results.values():
        result["mesh"].close()
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
