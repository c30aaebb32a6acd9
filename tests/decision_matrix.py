"""The decision matrix: principals by two products by every port type, with what each must see.

A reusable fixture for every port: ``build_matrix_mesh`` makes and builds a two-product mesh (the
`quanta init` one with policies added), ``enrol`` registers the principals and mints their tokens,
and ``CASES`` says, for each (principal, product, port), whether the read is allowed and, if so,
which columns come back, which are masked and how, and how many rows. Expectations are written
from the CSV the mesh is built from, not computed by Quanta. Port tests replay ``CASES`` over their
protocol and compare with ``expected_rows``.

Principals:

- ``owner``: a member of the owning team ``sales-data`` (every port, classified values masked);
- ``admin``: a platform admin (the platform owner: every port, masked unless it unmasks);
- ``analyst``: role analysts — orders through table/files/api with customer_id masked;
  daily-revenue with a row filter by country (``country=FR``);
- ``field``: role field-sales, whose grant filters orders by its country (``DE``);
- ``roamer``: role field-sales without a country: allowed, sees no rows;
- ``support``: a principal grant that unmasks customer_id for a stated purpose (api only);
- ``manager``: role sales-managers: daily-revenue's table, api and report; its grant on orders
  has expired;
- ``stranger``: no role, no grant: denied everywhere.

Tokens: every principal above gets one; ``REVOKED`` names a revoked token of ``analyst`` and
``UNKNOWN`` a well-formed token the catalog never issued. Both must be refused before any decision.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quanta.blueprints import create_mesh

PRODUCTS = ("sales.orders", "sales.daily-revenue")
PORT_TYPES = {"table": "sql", "api": "rest", "files": "files", "report": "report", "forecast": "model"}
REDACTED = "***"

_ORDERS_ACCESS = """access:
  grants:
    - {role: analysts, ports: [table, files, api]}
    - {role: field-sales, ports: [table, files, api], rowFilter: "country = :principal.country"}
    - {principal: support, ports: [api], unmask: [customer_id], purpose: answering customer enquiries}
    - {role: sales-managers, ports: [table], expires: 2020-01-31}
"""

_REVENUE_ACCESS = """access:
  grants:
    - {role: sales-managers, ports: [table, api, report, forecast]}
    - {role: analysts, ports: [table, api, forecast], rowFilter: "country = :principal.country"}
"""

_FORECAST = """import os
import time

import numpy as np

ALLOWED_ENVIRONMENT = {"PATH", "LANG", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}


def predict(features, artefacts):
    orders = features["orders"]
    if (orders == 1001).any():
        raise RuntimeError("internal detail /srv/secret")
    if (orders == 1002).any():
        os._exit(3)
    if (orders == 1003).any():
        time.sleep(30)
    if (orders == 1004).any():
        return {"revenue": orders[:-1] * 1.0}
    if (orders == 1005).any():
        return {"revenue": np.full(len(orders), float(len(set(os.environ) - ALLOWED_ENVIRONMENT)))}
    if (orders == 1007).any():
        return {"revenue": np.full(len(orders), float(os.getpid()))}
    if (orders == 1006).any():
        return {"revenue": orders * 1.0, "extra": orders}
    return {"revenue": orders * 12.5}
"""
"""The matrix's model port: revenue from orders at EUR 12.5 each; marked order counts make it fail
in each way a scoring function can (tests of the model port use them)."""

_REPORT = """<h1>Daily revenue</h1>
{% set totals = sql('select count(*) as days, sum(orders) as orders, sum(revenue) as revenue from current')[0] %}
<p>Snapshot <span id="snapshot">{{ snapshot.id }}</span></p>
<p>Days: <span id="days">{{ totals.days }}</span></p>
<p>Orders: <span id="orders">{{ totals.orders | number }}</span></p>
<p>Revenue: <span id="revenue">{{ totals.revenue | number(2) }}</span></p>
"""
"""The report: the reader's figures (their rows only), checked against the CSV by :func:`report_figures`."""

PRINCIPALS: dict[str, dict[str, Any]] = {
    "owner": {"team": "sales-data"},
    "admin": {"admin": True},
    "analyst": {"roles": ("analysts",), "attributes": {"country": "FR"}},
    "field": {"roles": ("field-sales",), "attributes": {"country": "DE"}},
    "roamer": {"roles": ("field-sales",)},
    "support": {"kind": "service"},
    "manager": {"roles": ("sales-managers",)},
    "stranger": {},
}

REVOKED = "revoked"
UNKNOWN = "qt_0000000000000000_" + "A" * 43


@dataclass(frozen=True)
class Case:
    """One read and what it must give."""

    principal: str
    product: str
    port: str
    allowed: bool
    columns: tuple[str, ...] = ()
    masked: dict[str, str] = field(default_factory=dict)
    """Column → mask kind."""
    country: str | None = None
    """The row filter's country (None: every row); ``""``: the principal sees no rows."""

    @property
    def port_type(self) -> str:
        return PORT_TYPES[self.port]

    @property
    def id(self) -> str:
        return f"{self.principal}-{self.product.split('.')[1]}-{self.port}"


ORDERS_COLUMNS = ("order_id", "customer_id", "country", "amount", "order_date")
REVENUE_COLUMNS = ("order_date", "country", "revenue", "orders")
_PORTS = {"sales.orders": ("table", "files", "api"), "sales.daily-revenue": ("table", "api", "report", "forecast")}


def _cases() -> list[Case]:
    masked = {"customer_id": "redact"}
    cases: list[Case] = []
    for product, ports in _PORTS.items():
        columns = ORDERS_COLUMNS if product == "sales.orders" else REVENUE_COLUMNS
        protected = masked if product == "sales.orders" else {}
        for port in ports:
            cases.append(Case("owner", product, port, True, columns, protected))
            cases.append(Case("admin", product, port, True, columns, protected))
            cases.append(Case("stranger", product, port, False))
    for port in _PORTS["sales.orders"]:
        cases.append(Case("analyst", "sales.orders", port, True, ORDERS_COLUMNS, masked))
        cases.append(Case("field", "sales.orders", port, True, ORDERS_COLUMNS, masked, "DE"))
        cases.append(Case("roamer", "sales.orders", port, True, ORDERS_COLUMNS, masked, ""))
        cases.append(Case("manager", "sales.orders", port, False))  # its grant expired
        allowed = port == "api"
        cases.append(Case("support", "sales.orders", port, allowed, ORDERS_COLUMNS if allowed else ()))
    for port in _PORTS["sales.daily-revenue"]:
        cases.append(Case("manager", "sales.daily-revenue", port, True, REVENUE_COLUMNS))
        allowed = port != "report"
        cases.append(
            Case("analyst", "sales.daily-revenue", port, allowed, REVENUE_COLUMNS if allowed else (), {}, "FR")
        )
        cases.append(Case("field", "sales.daily-revenue", port, False))
        cases.append(Case("support", "sales.daily-revenue", port, False))
    return cases


CASES = _cases()


def build_matrix_mesh(root: Path) -> Path:
    """Create the matrix mesh at ``root`` and build it; returns ``root``."""
    from quanta.project import Mesh

    create_mesh("matrix", root)
    mesh_yaml = root / "mesh.yaml"
    mesh_yaml.write_text(
        mesh_yaml.read_text().replace(
            "  - {name: sales-managers,",
            "  - {name: field-sales, description: Sales staff in one country.}\n  - {name: sales-managers,",
        )
    )
    orders = root / "products/sales/orders/dataproduct.yaml"
    text = orders.read_text().replace(
        "{name: customer_id, logicalType: string, required: true,",
        "{name: customer_id, logicalType: string, required: true, classification: pii,",
    )
    text = text.replace(
        "  - {id: files, type: files, formats: [parquet, csv]}\n", _with_api("files, formats: [parquet, csv]")
    )
    orders.write_text(text[: text.index("access:")] + _ORDERS_ACCESS)
    revenue = root / "products/sales/daily-revenue/dataproduct.yaml"
    text = revenue.read_text().replace(
        "  - {id: table, type: sql}\n",
        "  - {id: table, type: sql}\n  - {id: api, type: rest}\n"
        "  - {id: report, type: report, template: report.html.j2, formats: [html, pdf]}\n"
        "  - {id: forecast, type: model, entrypoint: forecast.py:predict, features: [orders], outputs: [revenue],"
        " timeout: 2s, maxBatch: 50}\n",
    )
    revenue.write_text(text[: text.index("access:")] + _REVENUE_ACCESS)
    (revenue.parent / "report.html.j2").write_text(_REPORT)
    (revenue.parent / "forecast.py").write_text(_FORECAST)
    mesh = Mesh.load(root)
    try:
        outcomes = mesh.build().outcomes
        assert {o.status for o in outcomes} == {"built"}, [(o.key, o.status, o.reason) for o in outcomes]
    finally:
        mesh.close()
    return root


def _with_api(files_options: str) -> str:
    return f"  - {{id: files, type: {files_options}}}\n  - {{id: api, type: rest}}\n"


def enrol(platform: Any) -> dict[str, str]:
    """Register the matrix's principals on ``platform`` (a :class:`quanta.project.platform.Platform`)
    and mint a token for each; returns principal → token, with :data:`REVOKED` → a revoked token and
    :data:`UNKNOWN` → a token never issued."""
    from quanta.catalog import PrincipalRecord

    tokens: dict[str, str] = {}
    for name, options in PRINCIPALS.items():
        platform.add_principal(
            PrincipalRecord(
                name,
                options.get("kind", "user"),
                roles=tuple(options.get("roles", ())),
                team=options.get("team"),
                attributes=dict(options.get("attributes", {})),
                admin=bool(options.get("admin", False)),
            )
        )
        tokens[name], _ = platform.create_token(name)
    revoked, record = platform.create_token("analyst")
    platform.revoke_token(record.id)
    tokens[REVOKED] = revoked
    tokens[UNKNOWN] = UNKNOWN
    return tokens


def source_orders(root: Path) -> list[dict[str, str]]:
    """The orders the mesh was built from, as the CSV has them."""
    with (root / "data/orders.csv").open() as handle:
        return list(csv.DictReader(handle))


def expected_rows(case: Case, root: Path) -> list[dict[str, Any]]:
    """The rows ``case`` must read, as strings per column (masked values as their mask shows them),
    sorted, computed from the source CSV."""
    orders = source_orders(root)
    if case.country == "":
        return []
    if case.country is not None:
        orders = [o for o in orders if o["country"] == case.country]
    if case.product == "sales.orders":
        rows = [{k: o[k] for k in ORDERS_COLUMNS} for o in orders]
        for row in rows:
            for column, kind in case.masked.items():
                row[column] = REDACTED if kind == "redact" else None
    else:
        totals: dict[tuple[str, str], list[float]] = defaultdict(list)
        for o in orders:
            totals[(o["order_date"], o["country"])].append(float(o["amount"]))
        rows = [
            {"order_date": d, "country": c, "revenue": f"{sum(v):.2f}", "orders": str(len(v))}
            for (d, c), v in totals.items()
        ]
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in r))


def normalised(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows read from any port in the form :func:`expected_rows` gives (numbers to two decimals,
    dates ISO, everything a string), sorted."""
    out = []
    for row in rows:
        shaped: dict[str, Any] = {}
        for key, value in row.items():
            if value is None:
                shaped[key] = None
            elif isinstance(value, float) or key in ("amount", "revenue"):
                shaped[key] = f"{float(value):.2f}"
            elif hasattr(value, "isoformat"):
                shaped[key] = value.isoformat()
            else:
                shaped[key] = str(value)
        out.append(shaped)
    return sorted(out, key=lambda r: tuple(str(r[k]) for k in r))


def report_figures(case: Case, root: Path) -> dict[str, str]:
    """The figures the matrix report must show ``case`` (days, orders, revenue, formatted as the
    template formats them), computed from the source CSV."""
    rows = expected_rows(case, root)
    orders = sum(int(r["orders"]) for r in rows)
    revenue = sum(float(r["revenue"]) for r in rows)
    return {"days": str(len(rows)), "orders": f"{orders:,}", "revenue": f"{revenue:,.2f}"}
