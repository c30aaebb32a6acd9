"""Access requests: asked, approved by an approver in another process and visible on the next
statement of a long-lived plane; expiry and revocation take the access away the same way; every
step is an event. The CLI runs in subprocesses, so two processes share one catalog."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from decision_matrix import build_matrix_mesh, enrol
from quanta.errors import AccessDenied, ConfigError, Conflict
from quanta.project import Mesh
from quanta.project.platform import Platform
from quanta.read import DataPlane

QUANTA = [sys.executable, "-m", "quanta"]
COUNT = "select count(*) as n from sales.orders"


def quanta(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI; its output with Rich's line wrapping undone."""
    done = subprocess.run([*QUANTA, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    if "json" in args:
        return done
    return subprocess.CompletedProcess(
        done.args, done.returncode, " ".join(done.stdout.split()), " ".join(done.stderr.split())
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_matrix_mesh(tmp_path_factory.mktemp("requests") / "matrix")
    mesh = Mesh.load(root)
    try:
        enrol(mesh.platform)
    finally:
        mesh.close()
    return root


@pytest.fixture
def platform(built: Path) -> Iterator[Platform]:
    mesh = Mesh.load(built)
    try:
        yield mesh.platform
    finally:
        mesh.close()


def _request_id(result: subprocess.CompletedProcess[str]) -> int:
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[1].rstrip(":"))


def test_an_approval_in_another_process_opens_every_port_at_once_and_revocation_closes_it(
    built: Path, platform: Platform
) -> None:
    plane = DataPlane(platform.catalog, lambda: platform.store, refresh_s=3600)
    stranger = platform.principal("stranger")
    try:
        with pytest.raises(AccessDenied):
            plane.query(stranger, COUNT)
        asked = quanta(
            "access", "request", "sales.orders", "--as", "stranger", "--port", "table", "--port", "api",
            "--purpose", "churn study", "--for", "7d", cwd=built,
        )  # fmt: skip
        request_id = _request_id(asked)
        assert "decided by the owning team sales-data" in asked.stdout
        with pytest.raises(AccessDenied):  # asked is not granted
            plane.query(stranger, COUNT)

        pending = json.loads(quanta("access", "requests", "--as", "owner", "--format", "json", cwd=built).stdout)
        assert [r["id"] for r in pending] == [request_id] and pending[0]["purpose"] == "churn study"
        refused = quanta("access", "approve", str(request_id), "--as", "analyst", cwd=built)
        assert refused.returncode == 1 and "analyst may not decide requests for sales.orders" in refused.stderr
        own = quanta("access", "approve", str(request_id), "--as", "stranger", cwd=built)
        assert own.returncode == 1 and "may not decide their own request" in own.stderr

        approved = quanta("access", "approve", str(request_id), "--as", "owner", "--note", "ok for Q1", cwd=built)
        assert approved.returncode == 0, approved.stderr
        assert plane.query(stranger, COUNT).to_pylist() == [{"n": 5}]  # the very next statement
        spec = plane.product("sales.orders")
        for port in ("table", "api"):
            decision = plane.decide(stranger, spec, port, None)
            assert decision.allowed and decision.source.startswith("catalog grant")
            assert decision.masked["customer_id"].kind == "redact"  # nothing unmasked was asked
        assert not plane.decide(stranger, spec, "files", None).allowed  # not asked for

        record = platform.catalog.requests.require(request_id)
        assert record.status == "approved" and record.decided_by == "owner" and record.note == "ok for Q1"
        grant = platform.catalog.grants.get(record.grant_id or 0)
        assert grant is not None and grant.source == "request" and grant.request_id == request_id
        assert grant.expires_at is not None
        assert 6.9 * 86400 < (grant.expires_at - platform.catalog.access.now()).total_seconds() <= 7 * 86400
        twice = quanta("access", "approve", str(request_id), cwd=built)
        assert twice.returncode == 1 and "already approved" in twice.stderr

        revoked = quanta("access", "revoke", str(record.grant_id), cwd=built)
        assert revoked.returncode == 0, revoked.stderr
        with pytest.raises(AccessDenied):
            plane.query(stranger, COUNT)
        kinds = [e.kind for e in platform.catalog.events.find() if e.subject in (f"request {request_id}",)]
        assert kinds == ["request.created", "request.approved"]
        grant_events = [e for e in platform.catalog.events.find(kind="grant.") if e.subject == f"grant {grant.id}"]
        assert [e.kind for e in grant_events] == ["grant.added", "grant.revoked"]
        assert grant_events[0].actor == "owner" and grant_events[0].data["request"] == request_id
    finally:
        plane.close()


def test_an_approved_grant_is_gone_the_moment_it_expires(built: Path, platform: Platform) -> None:
    plane = DataPlane(platform.catalog, lambda: platform.store, refresh_s=3600)
    roamer = platform.principal("roamer")
    try:
        request = platform.requests.request("roamer", "sales.daily-revenue", ["api"], "one-off export", _seconds(3))
        platform.requests.approve(request.id or 0, platform.principal("owner"))
        spec = plane.product("sales.daily-revenue")
        read = plane.secure(roamer, spec, "api")  # cached from here on
        assert read.decision.expires_at is not None
        assert plane.secure(roamer, spec, "api") is read
        time.sleep(max(0.0, (read.decision.expires_at - platform.catalog.access.now()).total_seconds()) + 0.2)
        with pytest.raises(AccessDenied):  # no write, no generation bump: the cached decision ran out
            plane.secure(roamer, spec, "api")
        delivered = quanta("events", "deliver", cwd=built)
        assert delivered.returncode == 0, delivered.stderr
        assert "1 expired grant(s)" in delivered.stdout
        again = quanta("events", "deliver", cwd=built)
        assert "0 expiring and 0 expired" in again.stdout  # announced once
        expired = [e for e in platform.catalog.events.find(kind="grant.expired")]
        assert [e.subject for e in expired] == [f"grant {platform.catalog.requests.require(request.id or 0).grant_id}"]
    finally:
        plane.close()


def test_grants_expiring_soon_are_listed_and_announced_once(built: Path, platform: Platform) -> None:
    request = platform.requests.request("support", "sales.orders", ["table"], "quarter close", _seconds(3 * 86400))
    approved = platform.requests.approve(request.id or 0, platform.principal("admin"))
    listed = json.loads(quanta("access", "grants", "--expiring", "7d", "--format", "json", cwd=built).stdout)
    assert approved.grant_id in [g["id"] for g in listed]
    later = json.loads(quanta("access", "grants", "--expiring", "1d", "--format", "json", cwd=built).stdout)
    assert approved.grant_id not in [g["id"] for g in later]
    expiring, _ = platform.catalog.grants.announce(_seconds(7 * 86400))
    assert approved.grant_id in [g.id for g in expiring]
    assert approved.grant_id not in [g.id for g in platform.catalog.grants.announce(_seconds(7 * 86400))[0]]


def test_bad_requests_are_refused_with_a_reason(platform: Platform) -> None:
    with pytest.raises(ConfigError, match="port 'nope'"):
        platform.requests.request("stranger", "sales.orders", ["nope"], "x", _seconds(60))
    with pytest.raises(ConfigError, match="purpose"):
        platform.requests.request("stranger", "sales.orders", ["table"], "  ", _seconds(60))
    with pytest.raises(ConfigError, match="366 days"):
        platform.requests.request("stranger", "sales.orders", ["table"], "x", _seconds(400 * 86400))
    with pytest.raises(ConfigError, match="'order_id' is not classified"):
        platform.requests.request("stranger", "sales.orders", ["table"], "x", _seconds(60), ["order_id"])
    first = platform.requests.request("field", "sales.orders", ["api"], "visit planning", _seconds(86400))
    with pytest.raises(Conflict, match=f"request {first.id}"):
        platform.requests.request("field", "sales.orders", ["api"], "again", _seconds(86400))
    with pytest.raises(AccessDenied, match="only field"):
        platform.requests.withdraw(first.id or 0, platform.principal("analyst"))
    withdrawn = platform.requests.withdraw(first.id or 0, platform.principal("field"))
    assert withdrawn.status == "withdrawn"
    with pytest.raises(Conflict, match="already withdrawn"):
        platform.requests.reject(first.id or 0, platform.principal("owner"), "too late")


def test_a_rejection_keeps_its_note_and_gives_nothing(built: Path, platform: Platform) -> None:
    request = platform.requests.request("roamer", "sales.daily-revenue", ["report"], "curiosity", _seconds(3600))
    rejected = quanta("access", "reject", str(request.id), "--as", "owner", "--note", "use the dashboard", cwd=built)
    assert rejected.returncode == 0, rejected.stderr
    record = platform.catalog.requests.require(request.id or 0)
    assert (record.status, record.note, record.grant_id) == ("rejected", "use the dashboard", None)
    spec = platform.spec("sales.daily-revenue")
    assert not platform.plane.decide(platform.principal("roamer"), spec, "report", None).allowed
    event = platform.catalog.events.find(kind="request.rejected")[-1]
    assert event.data["note"] == "use the dashboard" and event.actor == "owner"


def _seconds(n: float) -> timedelta:
    return timedelta(seconds=n)
