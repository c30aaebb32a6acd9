"""A small mesh with REST and files ports, a pii column and a row-filter grant, built and served by
a real uvicorn server on a free loopback port (in a thread, so tests compare with the data plane)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import httpx

from quanta.access import Principal
from quanta.blueprints import create_mesh
from quanta.catalog import PrincipalRecord
from quanta.project import Mesh
from quanta.project.platform import Platform

ROWS = 240
COUNTRIES = ("DE", "FR", "IT", "ES")
ROLES = {
    "api-readers": "Read orders over REST with customers masked.",
    "country-readers": "Read orders of their country over REST.",
    "clear-readers": "Read orders over REST with customers in clear.",
}
PRINCIPALS = {
    "ann": PrincipalRecord("ann", roles=("api-readers",)),
    "carl": PrincipalRecord("carl", roles=("country-readers",), attributes={"country": "FR"}),
    "cleo": PrincipalRecord("cleo", roles=("clear-readers",)),
    "nora": PrincipalRecord("nora", roles=("analysts",)),  # SQL and files only: no REST grant
    "root": PrincipalRecord("root", admin=True),
}


def write_mesh(root: Path, rows: int = ROWS) -> Path:
    """The `quanta init` mesh, with ``rows`` orders, REST ports and grants for each kind of reader."""
    create_mesh("demo", root)
    mesh_yaml = root / "mesh.yaml"
    roles = "".join(f"  - {{name: {name}, description: {text}}}\n" for name, text in ROLES.items())
    mesh_yaml.write_text(mesh_yaml.read_text().replace("roles:\n", "roles:\n" + roles))
    orders = root / "products/sales/orders/dataproduct.yaml"
    text = orders.read_text()
    text = text.replace(
        "{name: customer_id, logicalType: string, required: true,",
        "{name: customer_id, logicalType: string, required: true, classification: pii,",
    )
    text = text.replace(
        "  - {id: files, type: files, formats: [parquet, csv]}\n",
        "  - {id: files, type: files, formats: [parquet, csv]}\n  - {id: api, type: rest, maxPageSize: 50}\n",
    )
    text = text.replace(
        "    - {role: analysts, ports: [table, files]}\n",
        "    - {role: analysts, ports: [table, files]}\n"
        "    - {role: api-readers, ports: [api, files]}\n"
        '    - {role: country-readers, ports: [api, files], rowFilter: "country = :principal.country"}\n'
        "    - {role: clear-readers, ports: [api, files], unmask: [customer_id], purpose: order support}\n",
    )
    orders.write_text(text)
    revenue = root / "products/sales/daily-revenue/dataproduct.yaml"
    text = revenue.read_text().replace(
        "  - {id: table, type: sql}\n", "  - {id: table, type: sql}\n  - {id: api, type: rest}\n"
    )
    text = text.replace(
        "    - {role: sales-managers, ports: [table]}\n",
        "    - {role: sales-managers, ports: [table]}\n    - {role: api-readers, ports: [api]}\n",
    )
    revenue.write_text(text)
    write_orders(root, rows)
    return root


def write_orders(root: Path, rows: int, offset: int = 0) -> None:
    lines = ["order_id,customer_id,country,amount,order_date"]
    for i in range(offset, offset + rows):
        lines.append(f"o-{i:05d},c-{i % 37},{COUNTRIES[i % 4].lower()},{(i * 7) % 500 + 0.5},2026-11-{i % 28 + 1:02d}")
    (root / "data/orders.csv").write_text("\n".join(lines) + "\n")


def build(root: Path) -> None:
    mesh = Mesh.load(root)
    try:
        outcomes = mesh.build().outcomes
        assert {o.status for o in outcomes} <= {"built", "unchanged", "skipped"}, outcomes
    finally:
        mesh.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _enrol(platform: Platform) -> dict[str, str]:
    tokens = {}
    known = {p.id for p in platform.catalog.access.all()}
    for record in PRINCIPALS.values():
        if record.id not in known:
            platform.add_principal(record)
        tokens[record.id], _ = platform.create_token(record.id)
    return tokens


@dataclass
class Served:
    """A platform served over loopback, with a token per principal."""

    root: Path
    platform: Platform
    url: str
    tokens: dict[str, str] = field(default_factory=dict)
    sql_port: int | None = None
    """The SQL wire port's port, when it was asked for."""

    def client(self, who: str | None = None, **headers: str) -> httpx.Client:
        auth = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers={**auth, **headers}, timeout=30)

    def principal(self, who: str) -> Principal:
        return self.platform.principal(who)


@contextmanager
def serving(
    root: Path,
    cache: Path,
    secret: bytes | None = None,
    enrol: Callable[[Platform], dict[str, str]] | None = None,
    sql: bool = False,
) -> Iterator[Served]:
    """Serve the mesh at ``root`` (built already) until the block ends; ``enrol`` registers the
    principals and returns their tokens (the ones of :data:`PRINCIPALS` by default); ``sql``: the
    SQL wire port too, on a free port the connection snippets name."""
    import uvicorn

    from quanta.ports.sql.server import SqlOptions, SqlPort
    from quanta.server.app import create_app
    from quanta.server.state import ServeOptions
    from quanta.web import router as web_catalog

    mesh = Mesh.load(root)
    platform = Platform.open(mesh.settings(), root)
    tokens = (enrol or _enrol)(platform)
    port = free_port()
    listener = SqlPort(platform, SqlOptions(port=0)) if sql else None
    if listener is not None:
        listener.start()
    sql_address = f"127.0.0.1:{listener.address[1]}" if listener is not None and listener.address else None
    config = uvicorn.Config(
        create_app(platform, ServeOptions(cache, secret, sql_address=sql_address), front_ends=(web_catalog,)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield Served(
            root,
            platform,
            f"http://127.0.0.1:{port}",
            tokens,
            int(sql_address.rpartition(":")[2]) if sql_address else None,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        if listener is not None:
            listener.stop()
        platform.close()


@contextmanager
def sql_serving(base: Path, principals: tuple[str, ...], password: str) -> Iterator[int]:
    """The test mesh built under ``base`` and served by a SQL port alone on a free loopback port (its
    port number is yielded), ``principals`` (of :data:`PRINCIPALS`) signing in with ``password``."""
    from quanta.ports.sql.server import SqlOptions, SqlPort

    root = write_mesh(base / "demo")
    build(root)
    platform = Platform.open(Mesh.load(root).settings(), root)
    for who in principals:
        platform.add_principal(PRINCIPALS[who])
        platform.set_password(who, password)
    port = SqlPort(platform, SqlOptions(port=0))
    port.start()
    assert port.address is not None
    try:
        yield port.address[1]
    finally:
        port.stop()
        platform.close()


def start_serve(
    args: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    verify: Any = None,
) -> tuple[subprocess.Popen[str], str]:
    """`quanta serve ARGS` in a child process on a free port, once it answers its health route;
    its stderr (the access log) is piped, or written to ``log`` (a long run would fill a pipe).
    ``verify``: the server answers HTTPS, verified with this (an ``ssl.SSLContext``)."""
    port = free_port()
    if "--sql-port" not in args:  # a port of its own: several servers may run at once
        args = [*args, "--sql-port", str(free_port())]
    with contextlib.ExitStack() as stack:
        stderr = subprocess.PIPE if log is None else stack.enter_context(log.open("w"))
        process = subprocess.Popen(
            [sys.executable, "-m", "quanta", "serve", *args, "--port", str(port)],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, **(env or {})},
        )
    url = f"{'http' if verify is None else 'https'}://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1, verify=verify or True).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("quanta serve did not answer")


def make_certificate(folder: Path, name: str = "server", password: bytes | None = None) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    key_path.chmod(0o600)
    return cert_path, key_path
