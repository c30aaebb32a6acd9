"""The decision matrix on the read path: ``decide()`` and a read agree on visible columns, masked
values and row counts, for every principal, product and port type. Port tests replay CASES."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from decision_matrix import CASES, REVOKED, UNKNOWN, Case, build_matrix_mesh, enrol, expected_rows, normalised
from quanta.errors import AccessDenied
from quanta.project import Mesh
from quanta.project.platform import Platform


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Platform, dict[str, str]]]:
    root = build_matrix_mesh(tmp_path_factory.mktemp("matrix") / "matrix")
    mesh = Mesh.load(root)
    try:
        tokens = enrol(mesh.platform)
        yield root, mesh.platform, tokens
    finally:
        mesh.close()


def test_the_matrix_covers_every_principal_product_and_port_type() -> None:
    assert {c.principal for c in CASES} >= {"owner", "admin", "analyst", "field", "roamer", "support", "manager"}
    assert {c.port_type for c in CASES} == {"sql", "rest", "files", "report", "model"}
    assert {c.product for c in CASES} == {"sales.orders", "sales.daily-revenue"}
    assert any(c.allowed for c in CASES) and any(not c.allowed for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_decide_and_the_read_path_agree(matrix: tuple[Path, Platform, dict[str, str]], case: Case) -> None:
    root, platform, tokens = matrix
    principal = platform.authenticate(tokens[case.principal])
    spec = platform.spec(case.product)
    decision = platform.plane.decide(principal, spec, case.port, platform.plane.snapshot(spec))
    assert decision.allowed is case.allowed, decision.reason
    if not case.allowed:
        assert not decision.source
        with pytest.raises(AccessDenied):
            platform.plane.table(principal, case.product, case.port)
        return
    assert decision.visible == case.columns
    assert {n: r.kind for n, r in decision.masked.items()} == case.masked
    assert decision.source
    table = platform.plane.table(principal, case.product, case.port)
    assert tuple(table.column_names) == case.columns
    assert normalised(table.to_pylist()) == expected_rows(case, root)


@pytest.mark.parametrize("token", [REVOKED, UNKNOWN])
def test_revoked_and_unknown_tokens_are_refused_before_any_decision(
    matrix: tuple[Path, Platform, dict[str, str]], token: str
) -> None:
    _, platform, tokens = matrix
    with pytest.raises(AccessDenied, match="invalid, expired or revoked token"):
        platform.authenticate(tokens[token], source=f"matrix-{token}")


def test_expectations_are_not_vacuous(matrix: tuple[Path, Platform, dict[str, str]]) -> None:
    root, _, _ = matrix
    filtered = next(c for c in CASES if c.principal == "field" and c.product == "sales.orders")
    everything = next(c for c in CASES if c.principal == "analyst" and c.product == "sales.orders")
    assert 0 < len(expected_rows(filtered, root)) < len(expected_rows(everything, root))
    assert expected_rows(next(c for c in CASES if c.principal == "roamer"), root) == []
