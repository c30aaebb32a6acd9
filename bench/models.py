"""Benchmark: the model port (``POST …/models/score:predict`` of the fashion-retail CLV product)
against the same scoring function called in a bare FastAPI endpoint.

The reference mesh is generated and built once (``--scale``). Then, in one run, each server in its
own process on loopback, the same load (``wrk``, one fixed batch of ``--batch`` feature rows per
request, ``--connections`` connections, ``--duration`` seconds):

(a) ``quanta serve``: an API token, the data plane's decision, the features checked against the
    port's declared fields, the batch scored by the port's warm worker process with the current
    snapshot's artefacts, the predictions checked against the declared outputs, the access audited;
(b) a FastAPI app on the same uvicorn settings that imports the product's ``score.py`` and calls
    ``predict(features, artefacts)`` in process with the same artefacts: the rows become numpy
    columns, the answer becomes the same JSON (``{"predictions": [{…}, …]}``) through FastAPI's
    ``JSONResponse``. No authentication, no checks, no worker, no audit;
(c) the same endpoint with orjson (what the model port uses) instead of the json module, so the
    ratio against it shows the port's own overhead, not the JSON library's speed.

Both answers are compared on the batch before the load. Reports req/s and p50/p99 per batch size
and the throughput ratios (a)/(b) and (a)/(c). Target (issue 16): at least 0.8x of (b). Needs ``wrk`` (Debian package).

    python bench/models.py [--scale 0.01] [--batches 1,100,1000] [--duration 8] [--connections 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from serving import Load, free_port, stop, wait_for, wrk

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fashion-retail"
PRODUCT = "customer-relations.customer-lifetime-value"
FOLDER = "products/customer-relations/customer-lifetime-value"
PREDICT = "/api/v1/products/customer-relations/customer-lifetime-value/v1/models/score:predict"

BASELINE = """
import json, sys
import numpy as np, orjson, uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

folder, artefacts_file, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, folder)
from score import predict as score

artefacts = json.loads(open(artefacts_file).read())
app = FastAPI()
FEATURES = ("frequency", "recency", "age", "avg_spend")

@app.post("/predict")
async def predict(request: Request):
    rows = (await request.json())["rows"]
    features = {name: np.asarray([row[name] for row in rows]) for name in FEATURES}
    answer = {name: np.asarray(values).tolist() for name, values in score(features, artefacts).items()}
    names = list(answer)
    return JSONResponse({"predictions": [dict(zip(names, values)) for values in zip(*answer.values())]})

@app.post("/predict/orjson")
async def predict_orjson(request: Request):
    rows = orjson.loads(await request.body())["rows"]
    features = {name: np.asarray([row[name] for row in rows]) for name in FEATURES}
    answer = {name: np.asarray(values).tolist() for name, values in score(features, artefacts).items()}
    names = list(answer)
    body = {"predictions": [dict(zip(names, values)) for values in zip(*answer.values())]}
    return Response(orjson.dumps(body), media_type="application/json")

uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, server_header=False)
"""

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local f = io.open("{body}", "r")
wrk.body = f:read("*a")
f:close()
"""


def batch(rows: int, seed: int = 16) -> list[dict[str, float | int]]:
    """``rows`` plausible feature rows (the CLV port's four features)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    frequency = rng.integers(0, 12, rows)
    age = np.round(rng.uniform(1, 104, rows), 4)
    recency = np.round(age * rng.uniform(0, 1, rows), 4) * (frequency > 0)
    spend = np.round(rng.uniform(5, 300, rows), 2)
    return [
        {"frequency": int(f), "recency": float(r), "age": float(a), "avg_spend": float(s)}
        for f, r, a, s in zip(frequency, recency, age, spend, strict=True)
    ]


def build(root: Path, scale: float) -> tuple[str, dict]:  # type: ignore[type-arg]
    """Build the reference mesh at ``scale``; a token for a data scientist and the artefacts."""
    from quanta.catalog import PrincipalRecord
    from quanta.examples.fashion_retail import Settings, generate
    from quanta.project import Mesh
    from quanta.project.platform import Platform

    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".quanta", "systems"))
    generate(root / "systems", Settings(scale=scale, seed=5))
    mesh = Mesh.load(root)
    try:
        failed = [o for o in mesh.build().outcomes if o.status != "built"]
        if failed:
            raise SystemExit(f"the reference mesh did not build: {failed}")
        platform = Platform.open(mesh.settings(), root)
        try:
            platform.add_principal(PrincipalRecord("dana", roles=("data-scientists",)))
            token, _ = platform.create_token("dana")
            spec = platform.plane.product(PRODUCT)
            artefacts = platform.plane.manifest(spec, platform.plane.snapshot(spec))["artefacts"]
        finally:
            platform.close()
    finally:
        mesh.close()
    return token, artefacts


def same_answers(quanta_url: str, base_url: str, token: str, body: bytes) -> None:
    """Both servers answer the batch with the same predictions (else the comparison means nothing)."""
    import httpx

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    a = httpx.post(quanta_url, content=body, headers=headers, timeout=30)
    b = httpx.post(base_url, content=body, headers=headers, timeout=30)
    if a.status_code != 200 or b.status_code != 200:
        raise SystemExit(f"quanta {a.status_code} {a.text[:300]}; baseline {b.status_code} {b.text[:300]}")
    if a.json()["predictions"] != b.json()["predictions"]:
        raise SystemExit("the model port and the baseline answer different predictions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.01, help="reference mesh scale")
    parser.add_argument("--batches", default="1,100,1000", help="rows per request, comma-separated")
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    sizes = [int(n) for n in args.batches.split(",")]
    results: list[tuple[int, Load, Load, Load]] = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "fashion-retail"
        token, artefacts = build(root, args.scale)
        artefacts_file = Path(scratch) / "artefacts.json"
        artefacts_file.write_text(json.dumps(artefacts))
        log = (Path(scratch) / "servers.log").open("wb")  # a pipe nobody reads would fill and block them
        quanta_port, base_port = free_port(), free_port()
        env = {**os.environ, "QUANTA_SERVER_SECRET": "b" * 40, "QUANTA_AUDIT_KEY": "a" * 40}  # audit on, as served
        quanta = subprocess.Popen(
            [sys.executable, "-m", "quanta", "serve", str(root), "--port", str(quanta_port), "--sql-port", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        baseline = subprocess.Popen(
            [sys.executable, "-c", BASELINE, str(root / FOLDER), str(artefacts_file), str(base_port)],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            wait_for(f"http://127.0.0.1:{quanta_port}/api/v1/health", quanta)
            wait_for(f"http://127.0.0.1:{base_port}/docs", baseline)
            quanta_url, base_url = f"http://127.0.0.1:{quanta_port}{PREDICT}", f"http://127.0.0.1:{base_port}/predict"
            fast_url = f"{base_url}/orjson"
            for size in sizes:
                body_file = Path(scratch) / f"batch-{size}.json"
                body_file.write_text(json.dumps({"rows": batch(size)}))
                same_answers(quanta_url, base_url, token, body_file.read_bytes())
                same_answers(quanta_url, fast_url, token, body_file.read_bytes())
                script = Path(scratch) / f"load-{size}.lua"
                script.write_text(LUA.format(token=token, body=body_file))
                for url in (quanta_url, base_url, fast_url):
                    wrk(url, script, args, 2)  # warm each
                loads = [wrk(url, script, args) for url in (quanta_url, base_url, fast_url)]
                results.append((size, *loads))
        finally:
            stop(quanta, baseline)
    print(f"\nCLV score port, scale {args.scale}; wrk -t{args.threads} -c{args.connections} -d{args.duration}s\n")
    print(
        "| rows per request | Quanta req/s | p50 ms | p99 ms | bare FastAPI req/s | p50 ms | p99 ms | ratio "
        "| bare FastAPI + orjson req/s | p50 ms | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size, q, b, c in results:
        print(
            f"| {size:,} | {q.rps:,.0f} | {q.p50_ms:.2f} | {q.p99_ms:.2f} | {b.rps:,.0f} | {b.p50_ms:.2f} "
            f"| {b.p99_ms:.2f} | {q.rps / b.rps:.2f}x | {c.rps:,.0f} | {c.p50_ms:.2f} | {q.rps / c.rps:.2f}x |"
        )
    errors = sum(r[1].errors for r in results), sum(r[2].errors + r[3].errors for r in results)
    if any(errors):
        print(f"\nnon-2xx responses: quanta {errors[0]}, baseline {errors[1]}")


if __name__ == "__main__":
    main()
