"""Benchmark: `quanta validate` on a generated mesh of N products (default 200).

Compares, as whole processes and interleaved, (a) `quanta validate` against (b) a baseline
that only parses every YAML file with PyYAML's C loader and does nothing else; prints medians
and the ratio, then a `python -X importtime` summary of the CLI start-up.

    python bench/validate_mesh.py [--products 200] [--runs 7]
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

DOMAINS = ["customer", "sales", "after-sales", "merchandising", "marketing", "finance", "logistics", "stores"]


def generate(root: Path, count: int) -> None:
    """A valid mesh: product i consumes up to two earlier products; grants, row filters and SLOs on each."""
    (root / "data").mkdir(parents=True)
    (root / "data" / "source.csv").write_text("id\n1\n")
    domains = "\n".join(f"  - {{name: {d}, team: {d}-team}}" for d in DOMAINS)
    (root / "mesh.yaml").write_text(f"""apiVersion: quanta/v1
kind: Mesh
name: generated
domains:
{domains}
roles:
  - {{name: analysts}}
  - {{name: managers}}
businessKeys:
  - {{name: entity_id, logicalType: string, owner: customer.product-0}}
systems:
  - {{name: erp, domain: finance}}
useCases:
  - {{id: uc-1, persona: analyst, domain: sales, statement: I need everything.,
     consumes: [{{product: customer.product-0, port: table}}]}}
products: [products/**/dataproduct.yaml]
""")
    for i in range(count):
        domain = DOMAINS[i % len(DOMAINS)]
        folder = root / "products" / domain / f"product-{i}"
        folder.mkdir(parents=True)
        inputs = [
            f"  - {{id: up{j}, type: product, product: {DOMAINS[j % len(DOMAINS)]}.product-{j}, major: 1}}"
            for j in (i // 2, i // 3)
            if j < i
        ]
        inputs = list(dict.fromkeys(inputs)) or ["  - {id: src, type: files, path: data/source.csv, system: erp}"]
        ids = [line.split("id: ")[1].split(",")[0] for line in inputs]
        (folder / "step.sql").write_text(f"select * from {ids[0]}\n")
        (folder / "dataproduct.yaml").write_text(f"""apiVersion: quanta/v1
kind: DataProduct
name: product-{i}
domain: {domain}
version: 1.0.0
status: active
team: {{name: {domain}-team, email: team@example.com}}
description: Generated product number {i} for the validation benchmark.
introducedBy: uc-1
schedule: "0 6 * * *"
inputs:
{chr(10).join(inputs)}
transform: {{type: sql, steps: [step.sql]}}
schema:
  properties:
    - {{name: entity_id, logicalType: string, required: true, primaryKey: true, businessKey: entity_id,
       description: Key.}}
    - {{name: country, logicalType: string, logicalTypeOptions: {{pattern: "^[A-Z]{{2}}$"}}, description: Country.}}
    - {{name: email, logicalType: string, classification: pii, description: Email.}}
    - {{name: amount, logicalType: number, logicalTypeOptions: {{minimum: 0}}, description: Amount.}}
    - {{name: status, logicalType: string, enum: [open, closed], description: Status.}}
outputs:
  - {{id: table, type: sql}}
  - {{id: api, type: rest}}
  - {{id: files, type: files, formats: [parquet, csv]}}
slos:
  freshness: {{maxAge: 1d}}
  completeness: {{properties: [email], minRatio: 95%}}
  volume: {{minRows: 1, maxChange: 20%}}
  availability: {{ports: [api], target: 99.5%}}
access:
  grants:
    - {{role: managers, ports: [api]}}
    - {{role: analysts, ports: [table, files], rowFilter: "country = :principal.country and amount >= {i % 17}"}}
""")


BASELINE = (
    "import sys, yaml, pathlib\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.yaml')): yaml.CSafeLoader(p.read_text()).get_single_data()"
)


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command} failed:\n{result.stderr[-2000:]}")
    return elapsed


def importtime_summary(top: int = 12) -> list[tuple[str, float]]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "quanta", "--help"], capture_output=True, text=True
    )
    rows: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and len(match.group(2)) <= 1:  # top-level imports only (cumulative)
            name = match.group(3).split(".")[0]
            rows[name] = rows.get(name, 0.0) + int(match.group(1)) / 1e6
    return sorted(rows.items(), key=lambda kv: -kv[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mesh"
        generate(root, args.products)
        quanta = [sys.executable, "-m", "quanta", "validate", str(root)]
        baseline = [sys.executable, "-c", BASELINE, str(root)]
        timed(quanta)  # warm the file cache and .pyc files
        a, b = [], []
        for _ in range(args.runs):
            a.append(timed(quanta))
            b.append(timed(baseline))
    med_a, med_b = statistics.median(a), statistics.median(b)
    print(f"\nquanta validate, {args.products} products, {args.runs} interleaved runs\n")
    print(f"{'run':<48}{'median s':>10}{'min s':>9}{'max s':>9}{'x (b)':>8}")
    print(f"{'(a) quanta validate':<48}{med_a:>10.3f}{min(a):>9.3f}{max(a):>9.3f}{med_a / med_b:>8.2f}")
    print(f"{'(b) baseline: parse every YAML file (C loader)':<48}{med_b:>10.3f}{min(b):>9.3f}{max(b):>9.3f}")
    print(f"target: (a) < 1.0 s -> {'met' if med_a < 1.0 else 'NOT met'}\n")
    print("python -X importtime -m quanta --help (cumulative, top-level packages)")
    for name, seconds in importtime_summary():
        print(f"  {name:<30}{seconds * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
