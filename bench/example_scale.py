"""Benchmark: the fashion-retail reference mesh at scale — generation, build and peak memory.

For each scale factor: generate the systems of record (`quanta example fashion-retail generate`),
then `quanta build` the whole mesh in a fresh copy of the example, each as its own process whose
peak RSS is measured. Prints one row per scale, the slowest products of each build, and the
SF(largest)/SF(smallest) ratios against the data ratio (a linear pipeline scales 1:1).

Targets (issue 5): SF1 generates in < 60 s and builds in < 2 min on 2 cores; SF10 generates and
builds within 4 GB peak memory (run that one by hand: `--scales 10`).

    python bench/example_scale.py [--scales 0.1 1] [--seed 42]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fashion-retail"
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "peak_mib": peak_kib / 1024, "rc": done.returncode, "out": done.stdout[-4000:],
                  "err": done.stderr[-4000:]}))
"""


@dataclass
class Run:
    wall: float
    peak_mib: float


def measured(command: list[str], cwd: Path | None = None) -> Run:
    """Run ``command`` as the only child of a fresh interpreter, so its peak RSS is its own."""
    cold = {**os.environ}  # a served command's memory would be the server child's
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, cwd=cwd, env=cold
    )
    report = json.loads(result.stdout)
    if report["rc"] != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{report['out']}\n{report['err']}")
    return Run(report["wall"], report["peak_mib"])


def slowest_products(root: Path, count: int = 3) -> list[tuple[str, float, int | None]]:
    from quanta.project import Mesh

    mesh = Mesh.load(root)
    try:
        steps = [s for s in mesh.workspace.catalog.runs.steps() if s.status == "built"]
    finally:
        mesh.close()
    steps.sort(key=lambda s: -s.duration_s)
    return [(s.product_key.split("@")[0], s.duration_s, s.rows) for s in steps[:count]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0])
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    quanta = str(Path(sys.executable).with_name("quanta"))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for scale in args.scales:
            root = Path(scratch) / f"sf{scale}" / "fashion-retail"
            shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".quanta", "systems"))
            command = ["example", "fashion-retail", "generate", "--scale", str(scale), "--seed", str(args.seed)]
            generation = measured([quanta, *command, "--out", str(root / "systems")])
            summary = json.loads((root / "systems" / "summary.json").read_text())
            build = measured([quanta, "build", str(root)])
            rows.append((scale, summary, generation, build, slowest_products(root)))
            print(f"SF{scale:g} done: generation {generation.wall:.1f} s, build {build.wall:.1f} s", file=sys.stderr)

    print("\n| scale | customers | order lines | generate | gen. peak RSS | build | build peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for scale, summary, generation, build, _ in rows:
        print(
            f"| SF{scale:g} | {summary['customers']:,} | {summary['orderLines']:,} | {generation.wall:.1f} s "
            f"| {generation.peak_mib:,.0f} MiB | {build.wall:.1f} s | {build.peak_mib:,.0f} MiB |"
        )
    print("\nSlowest products per build:")
    for scale, _, _, _, slowest in rows:
        print(f"  SF{scale:g}: " + ", ".join(f"{key} {seconds:.1f} s ({n or 0:,} rows)" for key, seconds, n in slowest))
    if len(rows) > 1:
        (small, s_sum, s_gen, s_build, _), (large, l_sum, l_gen, l_build, _) = rows[0], rows[-1]
        data = l_sum["orderLines"] / s_sum["orderLines"]
        print(
            f"\nSF{large:g}/SF{small:g}: data x{data:.1f}, generation x{l_gen.wall / s_gen.wall:.1f}, "
            f"build x{l_build.wall / s_build.wall:.1f}, build peak RSS x{l_build.peak_mib / s_build.peak_mib:.1f}"
        )
    for scale, _, generation, build, _ in rows:
        if scale == 1:
            print(
                f"SF1 targets: generate < 60 s: {'met' if generation.wall < 60 else 'NOT met'}; "
                f"build < 120 s: {'met' if build.wall < 120 else 'NOT met'}"
            )
        if scale == 10:
            peak = max(generation.peak_mib, build.peak_mib)
            print(f"SF10 target: peak RSS < 4 GiB: {'met' if peak < 4096 else 'NOT met'} ({peak:,.0f} MiB)")


if __name__ == "__main__":
    main()
