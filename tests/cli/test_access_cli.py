"""`quanta access` and `quanta query --as` as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from quanta.blueprints import create_mesh
from quanta.project import Mesh

QUANTA = [sys.executable, "-m", "quanta"]


def quanta(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QUANTA, *args], cwd=cwd, capture_output=True, text=True, timeout=60, input=stdin)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built mesh whose orders classify customer_id and filter analysts' rows by country."""
    root = tmp_path_factory.mktemp("access") / "demo"
    create_mesh("demo", root)
    orders = root / "products/sales/orders/dataproduct.yaml"
    text = orders.read_text().replace(
        "{name: customer_id, logicalType: string, required: true,",
        "{name: customer_id, logicalType: string, required: true, classification: pii,",
    )
    text = text.replace(
        "- {role: analysts, ports: [table, files]}",
        '- {role: analysts, ports: [table, files], rowFilter: "country = :principal.country"}',
    )
    orders.write_text(text)
    mesh = Mesh.load(root)
    try:
        assert {o.status for o in mesh.build().outcomes} == {"built"}
    finally:
        mesh.close()
    for args in (
        ("ann", "--role", "analysts", "--attr", "country=FR", "--team", "sales", "--display-name", "Ann"),
        ("bob", "--role", "sales-managers"),
        ("root", "--admin"),
        ("svc:recommender", "--service", "--role", "analysts"),
    ):
        added = quanta("access", "principal", "add", *args, cwd=root)
        assert added.returncode == 0, added.stderr
    return root


def test_principals_are_added_listed_shown_and_removed(shop: Path) -> None:
    again = quanta("access", "principal", "add", "ann", cwd=shop)
    assert again.returncode == 1 and "principal 'ann' already exists" in again.stderr
    unknown = quanta("access", "principal", "add", "zed", "--role", "analyst", cwd=shop)
    assert unknown.returncode == 1 and "role 'analyst' is in no published mesh's roles" in unknown.stderr
    assert "did you mean 'analysts'" in unknown.stderr
    bad = quanta("access", "principal", "add", "zed", "--attr", "country", cwd=shop)
    assert bad.returncode == 1 and "write name=value" in bad.stderr
    listed = json.loads(quanta("access", "principal", "list", "-f", "json", cwd=shop).stdout)
    by_id = {p["id"]: p for p in listed}
    assert set(by_id) >= {"ann", "bob", "root", "svc:recommender"}
    assert by_id["ann"]["attributes"] == {"country": "FR"} and by_id["ann"]["team"] == "sales"
    assert by_id["root"]["admin"] and by_id["svc:recommender"]["kind"] == "service"
    table = quanta("access", "principal", "list", cwd=shop)
    assert "country=FR" in table.stdout and "analysts" in table.stdout
    shown = quanta("access", "principal", "show", "ann", cwd=shop)
    assert "roles: analysts" in shown.stdout and "SQL password: none" in shown.stdout
    assert quanta("access", "principal", "add", "temp", cwd=shop).returncode == 0
    assert quanta("access", "principal", "remove", "temp", cwd=shop).returncode == 0
    gone = quanta("access", "principal", "show", "temp", cwd=shop)
    assert gone.returncode == 1 and "no principal 'temp'" in gone.stderr


def test_a_token_is_shown_once_listed_without_its_secret_and_revoked(shop: Path) -> None:
    created = quanta("access", "token", "create", "bob", "--days", "7", cwd=shop)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("qt_") and "shown once" in created.stderr
    listed = quanta("access", "token", "list", "bob", "-f", "json", cwd=shop)
    (record,) = json.loads(listed.stdout)
    assert token not in listed.stdout and token.split("_", 2)[2] not in listed.stdout
    assert record["expiresAt"] and record["revokedAt"] is None
    assert quanta("access", "token", "revoke", record["id"], cwd=shop).returncode == 0
    (revoked,) = json.loads(quanta("access", "token", "list", "bob", "-f", "json", cwd=shop).stdout)
    assert revoked["revokedAt"] is not None
    twice = quanta("access", "token", "revoke", record["id"], cwd=shop)
    assert twice.returncode == 1 and "already revoked" in twice.stderr
    database = (shop / ".quanta" / "catalog.db").read_bytes()
    assert token.encode() not in database


def test_a_password_is_read_from_stdin_and_kept_as_a_scram_verifier(shop: Path) -> None:
    empty = quanta("access", "password", "svc:recommender", cwd=shop, stdin="")
    assert empty.returncode == 1 and "no password on stdin" in empty.stderr
    done = quanta("access", "password", "svc:recommender", cwd=shop, stdin="s3cret-pw\n")
    assert done.returncode == 0, done.stderr
    assert "SQL password: set" in quanta("access", "principal", "show", "svc:recommender", cwd=shop).stdout
    assert b"s3cret-pw" not in (shop / ".quanta" / "catalog.db").read_bytes()


def test_query_as_a_principal_shows_exactly_what_it_sees(shop: Path) -> None:
    sql = "select country, customer_id from sales.orders order by all"
    ann = quanta("query", sql, "--as", "ann", "-f", "json", cwd=shop)
    assert ann.returncode == 0, ann.stderr
    rows = json.loads(ann.stdout)
    assert rows and {r["country"] for r in rows} == {"FR"}  # the row filter, bound to ann's country
    assert {r["customer_id"] for r in rows} == {"***"}  # masked
    owner = json.loads(quanta("query", sql, "-f", "json", cwd=shop).stdout)
    assert len(owner) > len(rows)
    bob = quanta("query", sql, "--as", "bob", cwd=shop)
    assert bob.returncode == 1 and "bob may not run this query: no grant gives bob access" in bob.stderr
    unmasked = quanta("query", sql, "--as", "ann", "--unmask", cwd=shop)
    assert unmasked.returncode == 1 and "cannot be combined with --as" in unmasked.stderr
    nobody = quanta("query", sql, "--as", "nobody", cwd=shop)
    assert nobody.returncode == 1 and "no principal 'nobody'" in nobody.stderr


def test_explain_says_which_grant_masks_and_row_filter(shop: Path) -> None:
    ann = quanta("access", "explain", "ann", "sales.orders", cwd=shop)
    assert ann.returncode == 0, ann.stderr
    assert "allowed: ann → sales.orders@v1 port table" in ann.stdout
    assert "grant: role analysts, ports table, files" in ann.stdout
    assert "masked: customer_id by redact" in ann.stdout
    assert "row filter: country = :principal.country  →  country = 'FR'" in ann.stdout
    data = json.loads(
        quanta("access", "explain", "ann", "sales.orders", "--port", "files", "-f", "json", cwd=shop).stdout
    )
    assert data["allowed"] and data["port"] == "files" and data["grant"]["role"] == "analysts"
    assert data["rowFilter"] == {"text": "country = :principal.country", "bound": "country = 'FR'", "missing": []}
    assert data["source"] == "spec grant 1"
    bob = quanta("access", "explain", "bob", "sales.orders", cwd=shop)
    assert bob.returncode == 0 and "denied" in bob.stdout and "no grant gives bob access" in bob.stdout
    root = json.loads(quanta("access", "explain", "root", "sales.orders", "-f", "json", cwd=shop).stdout)
    assert root["allowed"] and root["reason"] == "platform owner" and root["masked"] == {"customer_id": "redact"}
    no_port = quanta("access", "explain", "ann", "sales.orders", "--port", "nope", cwd=shop)
    assert "denied" in no_port.stdout and "has no port 'nope'" in no_port.stdout
