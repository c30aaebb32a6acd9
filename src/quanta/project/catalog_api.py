"""The catalog as data, for one caller: search, a product's descriptor, schema, ports with
copy-paste connection snippets, lineage up and down, versions with their schema changes, the
SLO/SLI document and recent runs. The HTTP catalog API returns these shapes as JSON and the web
catalog renders them; ``quanta search --format json`` prints the first.

Metadata is visible to every signed-in principal so they can ask for access, except a product
marked ``access.confidential``: it exists only for those who may read one of its ports (anyone
else gets the same 404 as for a product that does not exist). Rows never appear here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from quanta.access import Principal
from quanta.catalog.search import SearchHit, SearchQuery, SearchResult
from quanta.errors import NotFound
from quanta.project.platform import Platform
from quanta.project.scope import downstream_of, product_details
from quanta.spec.index import sql_names
from quanta.spec.product import DataProduct

RUNS = 20
"""Recent build steps shown per product."""


def search_result(result: SearchResult) -> dict[str, Any]:
    """A search result as JSON data."""
    return {"total": result.total, "hits": [_hit(h) for h in result.hits], "facets": result.facets}


def _hit(hit: SearchHit) -> dict[str, Any]:
    d = hit.document
    return {
        "product": d.ref,
        "key": d.key,
        "domain": d.domain,
        "name": d.name,
        "major": d.major,
        "status": d.status,
        "trust": d.trust,
        "tags": list(d.tags),
        "description": d.description,
        "score": hit.score,
        "matched": list(hit.matched),
    }


@dataclass(frozen=True)
class Endpoints:
    """Where this server is reached, for connection snippets."""

    http: str
    """The HTTP base URL, e.g. ``http://127.0.0.1:8000``."""
    sql: str | None = None
    """``host:port`` of the SQL wire port, when this server runs one."""
    sql_tls: bool = False
    """Whether the SQL port speaks TLS (then an API token is a password)."""


class CatalogApi:
    """The catalog of ``platform`` as one principal sees it."""

    def __init__(self, platform: Platform, endpoints: Endpoints) -> None:
        self.platform = platform
        self.endpoints = endpoints

    def search(self, principal: Principal, query: SearchQuery) -> dict[str, Any]:
        result = self.platform.search(query, principal)
        data = search_result(result)
        specs = self.platform.discovery.products()
        snapshots = self.platform.catalog.snapshots
        for hit in data["hits"]:
            spec = specs.get(hit["key"])
            hit["access"] = self._access_summary(principal, spec) if spec is not None else "unknown"
            hit["links"] = {"self": self._url(spec)} if spec is not None else {}
            hit["owner"] = spec.team.name if spec is not None and spec.team else None
            current = snapshots.current(hit["key"])
            published = current.published_at if current is not None else None
            hit["publishedAt"] = published.isoformat() if published is not None else None
        return data

    def product(self, principal: Principal, key: str) -> DataProduct:
        """The product major ``key`` (``domain.name@vN``) if ``principal`` may see it; else 404."""
        return self.platform.discoverable(principal, key)

    def descriptor(self, principal: Principal, key: str) -> dict[str, Any]:
        """The product's page: details, ports with this caller's access and snippets, links."""
        spec = self.product(principal, key)
        catalog = self.platform.catalog
        details = product_details(catalog, spec, self.platform.specs())
        details["downstream"] = [k for k in details["downstream"] if self._visible_key(principal, k)]
        details["tags"] = list(spec.tags)
        details["schedule"] = spec.schedule
        details["confidential"] = spec.access.confidential
        details["outputs"] = [self._port(principal, spec, port.id) for port in spec.outputs]
        details["spec"] = spec.model_dump(by_alias=True, mode="json", exclude_none=True)
        base = self._url(spec)
        details["links"] = {name: f"{base}/{name}" for name in ("schema", "lineage", "versions", "slo", "runs")} | {
            "self": base
        }
        return jsonable(details)

    def schema(self, principal: Principal, key: str) -> dict[str, Any]:
        spec = self.product(principal, key)
        snapshot = self.platform.catalog.snapshots.current(spec.key)
        declared = product_details(self.platform.catalog, spec, [])["properties"]
        return {
            "key": spec.key,
            "properties": declared,
            "published": snapshot.schema if snapshot is not None else None,
            "snapshot": snapshot.id if snapshot is not None else None,
        }

    def lineage(self, principal: Principal, key: str) -> dict[str, Any]:
        """What the current snapshot was built from, and which visible products read this one."""
        spec = self.product(principal, key)
        catalog = self.platform.catalog
        snapshot = catalog.snapshots.current(spec.key)
        upstream = []
        for record in catalog.lineage.of(snapshot.id) if snapshot is not None else []:
            if record.upstream_key is not None and not self._visible_key(principal, record.upstream_key):
                continue
            upstream.append(
                {
                    "input": record.input_id,
                    "type": record.input_type,
                    "product": record.upstream_key,
                    "snapshot": record.upstream_snapshot_id,
                    "system": record.system,
                }
            )
        declared = [
            {"input": i.id, "type": i.type, "product": f"{i.options.product}@v{i.options.major}"}
            for i in spec.inputs
            if i.type == "product" and i.options is not None
        ]
        downstream = downstream_of(spec, self.platform.specs())
        return {
            "key": spec.key,
            "snapshot": snapshot.id if snapshot is not None else None,
            "upstream": upstream,
            "declaredUpstream": [d for d in declared if self._visible_key(principal, d["product"])],
            "downstream": [k for k in downstream if self._visible_key(principal, k)],
        }

    def versions(self, principal: Principal, key: str) -> dict[str, Any]:
        """Published snapshots, newest first, each with its schema changes from the one before."""
        spec = self.product(principal, key)
        records = [s for s in self.platform.catalog.snapshots.list(spec.key) if s.status == "published"]
        records.sort(key=lambda s: (s.published_at or s.created_at, s.id))
        versions: list[dict[str, Any]] = []
        before: list[dict[str, Any]] | None = None
        for record in records:
            versions.append(
                {
                    "snapshot": record.id,
                    "version": record.version,
                    "publishedAt": record.published_at.isoformat() if record.published_at else None,
                    "rows": record.rows,
                    "contentHash": record.content_hash,
                    "schemaChanges": schema_changes(before, record.schema) if before is not None else [],
                }
            )
            before = record.schema
        return {"key": spec.key, "versions": versions[::-1]}

    def slo(self, principal: Principal, key: str) -> dict[str, Any]:
        from quanta.quality.document import slo_document

        return slo_document(self.platform.catalog, self.product(principal, key))

    def runs(self, principal: Principal, key: str) -> dict[str, Any]:
        """The product's recent build steps; their error messages only for those who may read it."""
        spec = self.product(principal, key)
        readable = self.platform.may_read(principal, spec)
        steps = self.platform.catalog.runs.steps(product_key=spec.key)[:RUNS]
        return {
            "key": spec.key,
            "runs": [
                {
                    "run": s.run_id,
                    "status": s.status,
                    "startedAt": s.started_at.isoformat(),
                    "durationS": round(s.duration_s, 3),
                    "rows": s.rows,
                    "snapshot": s.snapshot_id,
                    "reasons": s.reasons,
                    **({"error": s.error} if readable and s.error else {}),
                }
                for s in steps
            ],
        }

    # ---------------------------------------------------------------- helpers

    def _visible_key(self, principal: Principal, key: str) -> bool:
        try:
            return self.platform.visible(principal, self.platform.spec(key))
        except NotFound:
            return False

    def _access_summary(self, principal: Principal, spec: DataProduct) -> str:
        return "granted" if self.platform.may_read(principal, spec) else "requestable"

    def _url(self, spec: DataProduct | None) -> str:
        assert spec is not None
        return f"{self.endpoints.http}/api/v1/catalog/products/{spec.domain}/{spec.name}/v{spec.major}"

    def _port(self, principal: Principal, spec: DataProduct, port_id: str) -> dict[str, Any]:
        port = spec.output(port_id)
        assert port is not None
        snapshot = self.platform.catalog.snapshots.current(spec.key)
        decision = self.platform.plane.decide(principal, spec, port_id, snapshot)
        entry: dict[str, Any] = {
            "id": port.id,
            "type": port.type,
            "description": port.description,
            "access": "granted" if decision.allowed else "requestable",
        }
        if decision.allowed:
            entry["masked"] = sorted(decision.masked)
            entry["rowFilter"] = decision.row_filter is not None
            entry["snippets"] = snippets(spec, port.type, port_id, principal, self.endpoints, port.options)
        return entry


def snippets(
    spec: DataProduct, port_type: str, port_id: str, principal: Principal, endpoints: Endpoints, options: Any
) -> dict[str, str]:
    """Copy-paste ways to reach one port as ``principal``; the token stays a variable, never a value."""
    base = f"{endpoints.http}/api/v1/products/{spec.domain}/{spec.name}/v{spec.major}"
    auth = '-H "Authorization: Bearer $QUANTA_TOKEN"'
    py_headers = 'headers={"Authorization": f"Bearer {os.environ[\'QUANTA_TOKEN\']}"}'
    if port_type == "rest":
        return {
            "curl": f'curl {auth} "{base}/rows?limit=10"',
            "python": f'import os, httpx\nrows = httpx.get("{base}/rows", params={{"limit": 10}}, {py_headers}).json()',
        }
    if port_type == "files":
        file_format = (getattr(options, "formats", None) or ["parquet"])[0]
        url = f"{base}/files/{port_id}?format={file_format}"
        return {
            "curl": f'curl -OJ {auth} "{url}"',
            "python": (
                "import io, os, httpx, pandas as pd\n"
                f'response = httpx.get("{url}", {py_headers})\n'
                f"frame = pd.read_{'parquet' if file_format == 'parquet' else 'csv'}(io.BytesIO(response.content))"
            ),
        }
    if port_type == "report":
        url = f"{base}/reports/{port_id}"
        return {"curl": f'curl -OJ {auth} "{url}?format=pdf"', "browser": f"{url}?format=html"}
    if port_type == "model":
        features = getattr(options, "features", None) or []
        row = ", ".join(f'"{f}": ...' for f in features)
        url = f"{base}/models/{port_id}:predict"
        return {
            "curl": f"curl -X POST {auth} -H 'Content-Type: application/json' \"{url}\" -d '{{\"rows\": [{{{row}}}]}}'",
        }
    if port_type == "sql":
        table = sql_names(spec)[-1]
        statement = f"SELECT * FROM {table} LIMIT 10"
        if endpoints.sql is None:
            return {"sql": statement}
        # Over TLS the port takes an API token as the password; in plain text only the SCRAM exchange
        # of the SQL password (`quanta access password`), which never crosses the wire.
        secret, mode = ("QUANTA_TOKEN", "?sslmode=require") if endpoints.sql_tls else ("QUANTA_SQL_PASSWORD", "")
        url = f"postgresql://{principal.id}@{endpoints.sql}/quanta{mode}"
        return {
            "psql": f'PGPASSWORD="${secret}" psql "{url}" -c "{statement}"',
            "python": (
                "import os, psycopg\n"
                f'with psycopg.connect("{url}", password=os.environ["{secret}"]) as connection:\n'
                f'    rows = connection.execute("{statement}").fetchall()'
            ),
            "sql": statement,
        }
    return {}


def jsonable(value: Any) -> Any:
    """``value`` with every datetime as an ISO 8601 string."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def schema_changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Properties added, removed, or changed in type, classification or requiredness, in order."""
    old = {p["name"]: p for p in before}
    new = {p["name"]: p for p in after}
    changes: list[dict[str, Any]] = [{"change": "removed", "property": name} for name in old if name not in new]
    for name, prop in new.items():
        if name not in old:
            changes.append({"change": "added", "property": name, "logicalType": prop.get("logicalType")})
            continue
        for attribute in ("logicalType", "classification", "required"):
            if old[name].get(attribute) != prop.get(attribute):
                changes.append(
                    {
                        "change": f"{attribute} changed",
                        "property": name,
                        "from": old[name].get(attribute),
                        "to": prop.get(attribute),
                    }
                )
    return changes
