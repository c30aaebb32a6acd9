"""Benchmark: catalog search over 10,000 registered products, on SQLite and on PostgreSQL.

Registers ``--products`` synthetic product descriptors (40 domains, words drawn from a retail
vocabulary for names, job descriptions, tags and 6-14 properties; 1 % confidential) in a fresh
catalog, then, in one run:

- builds the search index once (cold) and measures ``--queries`` searches (one to three words,
  some with facet filters, some browsing) through ``Platform.search`` as a principal who may read
  nothing (so every confidential product's decision is asked for) — Quanta's search;
- the same queries through the HTTP catalog API (``GET /api/v1/catalog/products``) on a real
  uvicorn server over loopback;
- the baseline: the search Quanta had before (a substring scan over every product's spec), on the
  same specs and queries;
- the web catalog on the same server: the search results page for the same queries (compared with
  the API's JSON), and one product page per query (a spread of products).

Target (issue 16): search p95 under 100 ms. The PostgreSQL run needs a server at
``--postgres`` (default the CI one, database ``test``; a scratch schema is created and dropped).

    python bench/catalog.py [--products 10000] [--queries 300] [--postgres postgresql://127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

WORDS = (  # noqa: SIM905 (a paragraph of words reads better than a list of 57 strings)
    "customer order return refund stock warehouse shipment carrier price discount campaign email click "
    "session basket checkout payment invoice supplier season collection size colour fabric store region "
    "country forecast demand margin revenue loyalty churn segment lifetime value review rating delivery "
    "sku brand category style inventory replenishment promotion voucher footfall conversion weekly daily "
    "monthly history snapshot profile consent address"
).split()


def synthetic_spec(i: int, rng: random.Random) -> dict[str, Any]:
    """A valid published spec, as the catalog stores it."""
    words = rng.sample(WORDS, 3)
    properties = [
        {
            "name": f"{rng.choice(WORDS)}_{j}",
            "logicalType": rng.choice(["string", "integer", "number", "date"]),
            "description": " ".join(rng.sample(WORDS, 5)).capitalize() + ".",
        }
        for j in range(rng.randint(6, 14))
    ]
    properties[0] |= {"name": "id", "primaryKey": True, "logicalType": "integer"}
    return {
        "apiVersion": "quanta/v1",
        "kind": "DataProduct",
        "name": f"{'-'.join(words[:2])}-{i}",
        "domain": f"domain-{i % 40}",
        "version": "1.0.0",
        "status": rng.choice(["active", "active", "active", "draft", "deprecated"]),
        "description": " ".join(rng.sample(WORDS, 14)).capitalize() + ".",
        "tags": rng.sample(WORDS, 2),
        "inputs": [{"id": "src", "type": "files", "path": "data/x.parquet", "system": "shop"}],
        "transform": {"type": "sql", "steps": ["x.sql"]},
        "outputs": [{"id": "table", "type": "sql"}, {"id": "api", "type": "rest"}],
        "schema": {"properties": properties},
        "access": {"confidential": i % 100 == 0, "grants": [{"role": "analysts", "ports": ["table"]}]},
    }


def register(catalog: Any, count: int) -> float:
    from quanta.catalog import Descriptor, ProductEntry
    from quanta.catalog.database import database_now

    rng = random.Random(7)
    started = time.perf_counter()
    with catalog.engine.begin() as connection:
        now = database_now(connection)
        for i in range(count):
            spec = synthetic_spec(i, rng)
            key = f"{spec['domain']}.{spec['name']}@v1"
            descriptor = Descriptor(key, "1.0.0", spec, mesh="bench")
            entry = ProductEntry(
                key, key[:-3], spec["domain"], spec["name"], 1, "1.0.0", spec["description"], "bench", descriptor.id
            )
            catalog.products.register(connection, entry, descriptor, now)
    return time.perf_counter() - started


def queries(count: int) -> list[Any]:
    from quanta.catalog.search import SearchQuery

    rng = random.Random(11)
    made = []
    for i in range(count):
        text = " ".join(rng.sample(WORDS, rng.choice([1, 1, 2, 2, 3])))
        if i % 10 == 0:
            made.append(SearchQuery("", domains=(f"domain-{i % 40}",)))  # browsing one domain
        elif i % 5 == 0:
            made.append(SearchQuery(text, statuses=("active",), tags=(rng.choice(WORDS),)))
        else:
            made.append(SearchQuery(text))
    return made


def old_search(specs: list[Any], text: str) -> list[Any]:
    """The search before this one: every word a substring of a weighted field, scanned per spec."""
    words = [w.lower() for w in text.split()]
    hits = []
    for spec in specs:
        fields = [(spec.ref, 5), (spec.description or "", 2), (" ".join(spec.tags), 3)]
        fields += [(f"{p.name} {p.description or ''}", 1) for p in spec.schema_.properties]
        score = 0
        for word in words:
            found = [weight for value, weight in fields if word in value.lower()]
            if not found:
                break
            score += sum(found)
        else:
            hits.append((score, spec.ref))
    return sorted(hits, reverse=True)[:20]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(call: Any, items: list[Any]) -> list[float]:
    times = []
    for item in items:
        started = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def run(url: str, label: str, products: int, count: int) -> list[tuple[str, list[float]]]:
    from quanta.access import Principal
    from quanta.catalog import Catalog, PrincipalRecord
    from quanta.project.platform import Platform

    catalog = Catalog(url)
    seconds = register(catalog, products)
    platform = Platform(catalog, None)
    reader = Principal("reader", roles=frozenset({"nobody"}))
    started = time.perf_counter()
    platform.discovery.refresh(force=True)
    cold = time.perf_counter() - started
    print(f"{label}: registered {products:,} products in {seconds:.1f} s; index built in {cold:.1f} s")
    made = queries(count)
    quanta = timed(lambda q: platform.search(q, reader), made)

    platform.add_principal(PrincipalRecord("reader", roles=()))
    token, _ = platform.create_token("reader")
    http = _http_times(platform, token, made)

    specs = platform.specs()
    baseline = timed(lambda q: old_search(specs, q.text), made)
    platform.close()
    return [
        (f"{label}: Quanta search (in process)", quanta),
        (f"{label}: Quanta search over HTTP", http["api"]),
        (f"{label}: baseline substring scan", baseline),
        (f"{label}: web search page (HTML)", http["web search"]),
        (f"{label}: web product page (HTML)", http["web product"]),
    ]


def _http_times(platform: Any, token: str, made: list[Any]) -> dict[str, list[float]]:
    """Over a real uvicorn server on loopback, as ``token``: each query through the catalog API's
    JSON and through the web catalog's search page, then a sample of product pages."""
    import httpx
    import uvicorn

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from quanta.server.app import create_app
    from quanta.server.state import ServeOptions
    from quanta.web import router as web_catalog
    from serving_mesh import free_port

    port = free_port()
    keys = sorted(platform.discovery.products())[:: max(1, len(platform.discovery.products()) // len(made))]
    pages = [f"/products/{k.split('.', 1)[0]}/{k.split('.', 1)[1].rsplit('@v', 1)[0]}/v1" for k in keys]
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as cache:
        app = create_app(platform, ServeOptions(Path(cache)), front_ends=(web_catalog,))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}) as client:

            def getter(path: str) -> Any:
                def get(q: Any) -> None:
                    params = [("q", q.text)] + [("domain", d) for d in q.domains] + [("tag", t) for t in q.tags]
                    params += [("status", s) for s in q.statuses]
                    response = client.get(path, params=params)
                    assert response.status_code == 200, response.text

                return get

            def product_page(path: str) -> None:
                response = client.get(path)
                assert response.status_code in (200, 404), response.text  # 404: confidential for this reader
                assert response.status_code == 404 or 'id="schema"' in response.text

            for path in ("/api/v1/catalog/products", "/"):
                getter(path)(made[0])
            times["api"] = timed(getter("/api/v1/catalog/products"), made)
            times["web search"] = timed(getter("/"), made)
            product_page(pages[0])
            times["web product"] = timed(product_page, pages)
        server.should_exit = True
        thread.join(timeout=20)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results += run(f"sqlite:///{folder}/catalog.db", "SQLite", args.products, args.queries)
    if args.postgres:
        results += _postgres(args.postgres, args.products, args.queries)
    print(f"\n| search over {args.products:,} products | p50 ms | p95 ms | p99 ms | p95 vs baseline |")
    print("|---|---|---|---|---|")
    baselines = {label.split(":")[0]: percentile(t, 0.95) for label, t in results if "baseline" in label}
    for label, times in results:
        if "web" in label:
            continue
        p95 = percentile(times, 0.95)
        ratio = p95 / baselines[label.split(":")[0]]
        print(
            f"| {label} | {statistics.median(times):.1f} | {p95:.1f} | {percentile(times, 0.99):.1f} | {ratio:.3f}x |"
        )
    print("\ntarget: search p95 under 100 ms")
    print("\n| web catalog pages (loopback round trip) | p50 ms | p95 ms | p99 ms | p95 vs the API's JSON |")
    print("|---|---|---|---|---|")
    api = {label.split(":")[0]: percentile(t, 0.95) for label, t in results if "over HTTP" in label}
    for label, times in results:
        if "web" not in label:
            continue
        p95 = percentile(times, 0.95)
        ratio = p95 / api[label.split(":")[0]]
        print(
            f"| {label} | {statistics.median(times):.1f} | {p95:.1f} | {percentile(times, 0.99):.1f} | {ratio:.2f}x |"
        )
    print("targets (issue 18): product page p95 under 150 ms; search page p95 within 1.3x of the API's JSON")


def _postgres(url: str, products: int, count: int) -> list[tuple[str, list[float]]]:
    import sqlalchemy

    schema = f"bench_catalog_{int(time.time())}"
    admin = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    try:
        return run(f"{url}?options=-csearch_path%3D{schema}", "PostgreSQL", products, count)
    finally:
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
