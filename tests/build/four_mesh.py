"""Fixtures for build tests: a paginating, throttling local HTTP API; a four-product mesh with
file, API, product and Python inputs; catalogs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest


@dataclass
class FakeCrm:
    """Serves /customers in pages of ``page_size`` with a cursor; the first request for each
    page gets 429 when ``throttle`` is set."""

    customers: list[dict]
    page_size: int = 3
    throttle: bool = True
    requests: int = 0
    throttled: int = 0
    seen_pages: set[str] = field(default_factory=set)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/customers"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _handler(crm: FakeCrm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            crm.requests += 1
            query = parse_qs(urlparse(self.path).query)
            cursor = query.get("cursor", ["0"])[0]
            if crm.throttle and cursor not in crm.seen_pages:
                crm.seen_pages.add(cursor)
                crm.throttled += 1
                self.send_response(429)
                self.send_header("Retry-After", "0")
                self.end_headers()
                return
            start = int(cursor)
            page = crm.customers[start : start + crm.page_size]
            nxt = start + crm.page_size
            body = json.dumps({"data": page, "next": str(nxt) if nxt < len(crm.customers) else None}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def crm() -> Iterator[FakeCrm]:
    customers = [
        {
            "customer_id": f"c-{i}",
            "name": f"Customer {i}",
            "email": f"c{i}@example.com",
            "country": ["fr", "DE", "es"][i % 3],
        }
        for i in range(1, 9)
    ]
    fake = FakeCrm(customers)
    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.stop()


MESH = """apiVersion: quanta/v1
kind: Mesh
name: four
platform: {{engine: duckdb, storage: .quanta/warehouse, catalog: "{catalog}", threads: 2}}
domains:
  - {{name: sales}}
  - {{name: customer}}
roles: [{{name: analysts}}]
systems:
  - {{name: webshop, domain: sales}}
  - {{name: crm, domain: customer}}
products: [products/**/dataproduct.yaml]
"""

ORDERS = """apiVersion: quanta/v1
kind: DataProduct
name: orders
domain: sales
version: 1.0.0
schedule: "0 5 * * *"
inputs:
  - {id: exports, type: files, path: "data/orders/*.csv", system: webshop}
transform: {type: sql, steps: [staging.sql, orders.sql]}
schema:
  properties:
    - {name: order_id, logicalType: string, required: true, primaryKey: true}
    - {name: customer_id, logicalType: string, required: true}
    - {name: amount, logicalType: number, required: true}
    - {name: order_date, logicalType: date, required: true}
"""

CUSTOMERS = """apiVersion: quanta/v1
kind: DataProduct
name: customers
domain: customer
version: 1.0.0
inputs:
  - id: crm-export
    type: api
    url: {url}
    system: crm
    recordsPath: data
    pagination: {{type: cursor, cursorPath: next}}
    retries: 3
    timeout: 5s
transform: {{type: sql, steps: [customers.sql]}}
schema:
  properties:
    - {{name: customer_id, logicalType: string, required: true, primaryKey: true}}
    - {{name: name, logicalType: string}}
    - {{name: email, logicalType: string, classification: pii}}
    - {{name: country, logicalType: string}}
"""

DAILY = """apiVersion: quanta/v1
kind: DataProduct
name: daily-revenue
domain: sales
version: 1.0.0
inputs:
  - {id: orders, type: product, product: sales.orders, major: 1}
transform: {type: sql, steps: [daily.sql]}
schema:
  properties:
    - {name: order_date, logicalType: date, primaryKey: true}
    - {name: revenue, logicalType: number}
    - {name: orders, logicalType: integer}
"""

VALUE = """apiVersion: quanta/v1
kind: DataProduct
name: customer-value
domain: customer
version: 1.0.0
schedule: "0 6 * * 1"
inputs:
  - {id: orders, type: product, product: sales.orders, major: 1}
  - {id: customers, type: product, product: customer.customers, major: 1}
transform: {type: python, entrypoint: value.py:build}
schema:
  properties:
    - {name: customer_id, logicalType: string, primaryKey: true}
    - {name: country, logicalType: string}
    - {name: total, logicalType: number}
    - {name: segment, logicalType: string}
"""

VALUE_PY = """import helpers


def build(inputs, info):
    table = inputs.sql(
        "select c.customer_id, upper(c.country) as country, coalesce(sum(o.amount), 0) as total "
        "from customers c left join orders o using (customer_id) group by all order by 1")
    segments = [helpers.segment(total) for total in table.column("total").to_pylist()]
    import pyarrow as pa
    return table.append_column("segment", pa.array(segments)), {"threshold": helpers.THRESHOLD}
"""

HELPERS_PY = """THRESHOLD = 100


def segment(total):
    return "high" if total >= THRESHOLD else "low"
"""

ORDER_ROWS = [
    "order_id,customer_id,amount,order_date",
    "o-1,c-1,120.0,2026-11-02",
    "o-2,c-2,30.5,2026-11-02",
    "o-3,c-1,10.0,2026-11-03",
    "o-4,c-3,99.0,2026-11-04",
]


@dataclass
class FourMesh:
    root: Path

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))


def make_four_mesh(root: Path, crm_url: str, catalog: str) -> FourMesh:
    mesh = FourMesh(root)
    mesh.write("mesh.yaml", MESH.format(catalog=catalog))
    mesh.write("data/orders/2026-11-02.csv", "\n".join(ORDER_ROWS[:3]) + "\n")
    mesh.write("data/orders/2026-11-03.csv", "\n".join([ORDER_ROWS[0], *ORDER_ROWS[3:]]) + "\n")
    mesh.write("products/sales/orders/dataproduct.yaml", ORDERS)
    mesh.write("products/sales/orders/staging.sql", "-- deduplicate the daily drops\nselect distinct * from exports\n")
    mesh.write(
        "products/sales/orders/orders.sql",
        "select order_id, customer_id, cast(amount as double) as amount, "
        "cast(order_date as date) as order_date from staging\n",
    )
    mesh.write("products/customer/customers/dataproduct.yaml", CUSTOMERS.format(url=crm_url))
    mesh.write(
        "products/customer/customers/customers.sql",
        "select customer_id, name, email, upper(country) as country from crm_export\n",
    )
    mesh.write("products/sales/daily-revenue/dataproduct.yaml", DAILY)
    mesh.write(
        "products/sales/daily-revenue/daily.sql",
        "select order_date, sum(amount) as revenue, count(*) as orders from orders group by order_date\n",
    )
    mesh.write("products/customer/customer-value/dataproduct.yaml", VALUE)
    mesh.write("products/customer/customer-value/value.py", VALUE_PY)
    mesh.write("products/customer/customer-value/helpers.py", HELPERS_PY)
    return mesh


@pytest.fixture
def four(tmp_path: Path, crm: FakeCrm) -> FourMesh:
    return make_four_mesh(tmp_path / "four", crm.url, "sqlite:///.quanta/catalog.db")
