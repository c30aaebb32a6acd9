"""The audit log: every access of the decision matrix appears exactly once, changes to access are
recorded, no secret or classified value is kept, the HMAC chain detects an edited, a deleted and an
inserted row, and reads fail closed while the audit store cannot be written."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from decision_matrix import CASES, build_matrix_mesh, enrol
from quanta.catalog import AuditEntry, Catalog
from quanta.catalog.audit import AuditUnavailable
from quanta.errors import AccessDenied
from quanta.project import Mesh
from quanta.project.platform import Platform

KEY = "k" * 40
QUANTA = [sys.executable, "-m", "quanta"]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Platform, dict[str, str]]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QUANTA_AUDIT_KEY", KEY)
        root = build_matrix_mesh(tmp_path_factory.mktemp("audit") / "matrix")
        mesh = Mesh.load(root)
        try:
            tokens = enrol(mesh.platform)
            yield root, mesh.platform, tokens
        finally:
            mesh.close()


def _flushed(platform: Platform) -> None:
    assert platform.plane.audit is not None and platform.plane.audit.flush()


def test_every_access_of_the_decision_matrix_is_audited_exactly_once(
    audited: tuple[Path, Platform, dict[str, str]],
) -> None:
    _, platform, tokens = audited
    _flushed(platform)
    before = platform.catalog.audit.count()
    for case in CASES:
        principal = platform.authenticate(tokens[case.principal])
        if case.allowed:
            platform.plane.table(principal, case.product, case.port)
        else:
            with pytest.raises(AccessDenied):
                platform.plane.table(principal, case.product, case.port)
    _flushed(platform)
    rows = [r for r in platform.catalog.audit.rows() if r.seq > before]
    assert all(r.entry.action == "read" for r in rows)
    seen = Counter((r.entry.actor, r.entry.product, r.entry.port, r.entry.decision) for r in rows)
    wanted = Counter((c.principal, f"{c.product}@v1", c.port, "allow" if c.allowed else "deny") for c in CASES)
    assert seen == wanted
    for row in rows:
        assert row.entry.snapshot and row.entry.reason
        if row.entry.decision == "allow":
            assert row.entry.rows is not None and row.entry.data["source"]
    roamer = next(r for r in rows if r.entry.actor == "roamer")
    assert roamer.entry.rows == 0  # lacks the attribute its row filter binds


def test_no_secret_or_classified_value_reaches_the_audit_log(audited: tuple[Path, Platform, dict[str, str]]) -> None:
    _, platform, tokens = audited
    support = platform.authenticate(tokens["support"])  # sees customer_id in clear through api
    spec = platform.spec("sales.orders")
    read = platform.plane.secure(support, spec, "api")
    customer = platform.plane.table(support, "sales.orders", "api").column("customer_id")[0].as_py()
    assert platform.plane.lookup(read, {"customer_id": customer}).num_rows >= 1
    analyst = platform.authenticate(tokens["analyst"])
    platform.plane.query(analyst, f"select count(*) as n from sales.orders where customer_id = '{customer}'")
    token, _ = platform.create_token("field")
    _flushed(platform)
    dumped = json.dumps([_as_data(r) for r in platform.catalog.audit.rows()], default=str)
    assert customer not in dumped
    for secret in [*tokens.values(), token]:
        assert secret.split("_", 2)[-1] not in dumped  # no token (nor its secret part, which may hold "_")
    lookup = [r for r in platform.catalog.audit.rows(action="read") if r.entry.statement == "lookup"][-1]
    assert lookup.entry.data["filters"] == {"customer_id": "<classified>"}
    query = [
        r
        for r in platform.catalog.audit.rows(actor="analyst")
        if r.entry.statement and "where" in r.entry.statement.lower()
    ]
    assert query and "?" in (query[-1].entry.statement or "")  # literals replaced
    issued = platform.catalog.audit.rows(action="token.issue")
    assert issued and issued[-1].entry.data["subject"] == "field"


def test_changes_to_access_are_audited_with_their_actor(audited: tuple[Path, Platform, dict[str, str]]) -> None:
    root, platform, _ = audited
    request = platform.requests.request("stranger", "sales.orders", ["table"], "audit test", timedelta(hours=1))
    approved = platform.requests.approve(request.id or 0, platform.principal("owner"))
    platform.revoke_grant(approved.grant_id or 0, by="admin")
    platform.catalog.access.update("stranger", attributes={"country": "NL"})
    actions = [(r.entry.action, r.entry.actor) for r in platform.catalog.audit.rows() if r.entry.action != "read"]
    assert ("request.created", "stranger") in actions
    assert ("request.approved", "owner") in actions and ("grant.added", "owner") in actions
    assert ("grant.revoked", "admin") in actions
    update = [r for r in platform.catalog.audit.rows(action="principal.update")][-1]
    assert update.entry.data == {"subject": "stranger", "attributes": ["country"]}  # names, never values
    assert {"principal.add", "token.issue", "token.revoke"} <= {a for a, _ in actions}
    listed = subprocess.run(
        [*QUANTA, "audit", "--product", "sales.orders", "--principal", "stranger", "--format", "ndjson"],
        cwd=root, capture_output=True, text=True, timeout=60, env=_env(),
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert lines and all(line["actor"] == "stranger" for line in lines)
    assert {line["action"] for line in lines} >= {"read", "request.created"}


def test_verify_finds_an_edited_a_deleted_and_an_inserted_row(tmp_path: Path) -> None:
    for tamper, seq, words in (
        ("UPDATE audit_log SET rows = 999 WHERE seq = 3", 3, "does not match its MAC"),
        ("DELETE FROM audit_log WHERE seq = 4", 4, "missing (deleted)"),
        ("DELETE FROM audit_log WHERE seq = 6", 5, "head records row 6"),
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1", 1, "does not match its MAC"),
        (
            "INSERT INTO audit_log SELECT 7, at, actor, action, product, port, snapshot, statement, rows, decision, "
            "reason, data, mac, mac FROM audit_log WHERE seq = 6",
            7,
            "past the chain's head (inserted)",
        ),
    ):
        catalog = _filled(tmp_path / f"{seq}-{len(words)}.db")
        try:
            assert catalog.audit.verify().intact
            with catalog.engine.begin() as connection:
                connection.execute(text(tamper))
            found = catalog.audit.verify()
            assert not found.intact
            assert any(f.seq == seq and words in f.problem for f in found.findings), found.findings
        finally:
            catalog.close()


def test_an_inserted_row_is_found_even_when_renumbered_with_a_copied_link(tmp_path: Path) -> None:
    catalog = _filled(tmp_path / "insert.db")
    try:
        with catalog.engine.begin() as connection:  # make room at 3 and put a forged row there
            for seq in range(6, 2, -1):
                connection.execute(text(f"UPDATE audit_log SET seq = {seq + 1} WHERE seq = {seq}"))
            row = connection.execute(text("SELECT * FROM audit_log WHERE seq = 2")).mappings().one()
            forged = dict(row) | {"seq": 3, "actor": "mallory", "prev": row["mac"], "mac": "0" * 64}
            columns = ", ".join(forged)
            connection.execute(
                text(f"INSERT INTO audit_log ({columns}) VALUES ({', '.join(':' + c for c in forged)})"), forged
            )
        found = catalog.audit.verify()
        assert any(f.seq == 3 and "MAC" in f.problem for f in found.findings)
        assert any(f.seq == 4 for f in found.findings)  # the next row's MAC covers its old seq
    finally:
        catalog.close()


def test_verify_through_the_cli_exits_1_on_tampering(audited: tuple[Path, Platform, dict[str, str]]) -> None:
    root, platform, _ = audited
    _flushed(platform)
    intact = subprocess.run([*QUANTA, "audit", "verify"], cwd=root, capture_output=True, text=True, env=_env())
    assert intact.returncode == 0 and "audit log intact" in intact.stdout, intact.stderr
    wrong_key = subprocess.run(
        [*QUANTA, "audit", "verify"], cwd=root, capture_output=True, text=True, env=_env("z" * 40)
    )
    assert wrong_key.returncode == 1 and "TAMPERED" in wrong_key.stdout


def test_reads_fail_closed_while_the_audit_store_cannot_be_written(
    audited: tuple[Path, Platform, dict[str, str]],
) -> None:
    _, platform, tokens = audited
    analyst = platform.authenticate(tokens["analyst"])
    writer = platform.plane.audit
    assert writer is not None
    _flushed(platform)
    before = platform.catalog.audit.count()
    with platform.catalog.engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TRIGGER audit_read_only BEFORE INSERT ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'attempt to write a readonly database'); END"
            )
        )
    try:
        platform.plane.table(analyst, "sales.orders", "table")  # queued; its batch will fail
        deadline = time.monotonic() + 10
        while writer.failure is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert writer.failure is not None and "readonly" in writer.failure
        with pytest.raises(AuditUnavailable, match="reads are refused"):
            platform.plane.table(analyst, "sales.orders", "table")
        with pytest.raises(AuditUnavailable):
            platform.plane.query(analyst, "select 1 as one from sales.orders")
    finally:
        with platform.catalog.engine.begin() as connection:
            connection.execute(text("DROP TRIGGER audit_read_only"))
    assert writer.flush(15)  # retried: nothing was lost
    assert writer.failure is None
    assert platform.catalog.audit.count() == before + 1
    platform.plane.table(analyst, "sales.orders", "table")
    _flushed(platform)
    assert platform.catalog.audit.verify().intact


def test_entries_recorded_together_are_written_in_one_batch(tmp_path: Path) -> None:
    """A burst of reads is one transaction (one fsync), not one per entry; a full batch goes at once."""
    from quanta.catalog.audit import AuditWriter

    catalog = Catalog(f"sqlite:///{tmp_path / 'c.db'}", audit_key=KEY.encode())
    writes = text("SELECT writes FROM audit_head WHERE id = 1")
    with catalog.engine.connect() as connection:
        before = connection.execute(writes).scalar() or 0
    writer = AuditWriter(catalog.audit, interval_s=0.6, batch=50)
    try:
        for n in range(40):
            writer.record(AuditEntry("ann", "read", "sales.orders@v1", "api", "s1", "rows", n, "allow", "granted"))
        time.sleep(0.05)  # less than the interval: nothing was due yet
        assert catalog.audit.count() == 0
        assert writer.flush()
        for n in range(50):  # a full batch is written without waiting for the interval
            writer.record(AuditEntry("ann", "read", "sales.orders@v1", "api", "s1", "rows", n, "allow", "granted"))
        deadline = time.monotonic() + 0.4  # sooner than the interval
        while catalog.audit.count() < 90 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert catalog.audit.count() == 90
    finally:
        writer.close()
    with catalog.engine.connect() as connection:
        assert (connection.execute(writes).scalar() or 0) - before == 2
    catalog.close()


def _filled(path: Path) -> Catalog:
    catalog = Catalog(f"sqlite:///{path}", audit_key=KEY.encode())
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    entries = [
        AuditEntry("ann", "read", "sales.orders@v1", "api", "s1", "rows", n, "allow", "granted", {"n": n}, at)
        for n in range(1, 7)
    ]
    catalog.audit.append(entries[:2])
    catalog.audit.append(entries[2:])
    return catalog


def _as_data(row: object) -> dict[str, object]:
    from dataclasses import asdict

    return asdict(row)  # type: ignore[call-overload,no-any-return]


def _env(key: str = KEY) -> dict[str, str]:
    import os

    return {**os.environ, "QUANTA_AUDIT_KEY": key}
