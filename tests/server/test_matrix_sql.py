"""The decision matrix replayed over the SQL port: every (principal, product, sql port) case of
``decision_matrix`` read with psycopg through the PostgreSQL wire protocol gives the rows, columns
and masks the fixture computes from its CSV (and the read path gives), and 42501 where the read
path refuses; revoked and unknown tokens are refused at sign-in."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from decision_matrix import (
    CASES,
    PRINCIPALS,
    REVOKED,
    UNKNOWN,
    Case,
    build_matrix_mesh,
    enrol,
    expected_rows,
    normalised,
)
from quanta.ports.sql.server import SqlOptions, SqlPort
from quanta.project import Mesh
from quanta.project.platform import Platform
from serving_mesh import make_certificate

SQL_CASES = [c for c in CASES if c.port_type == "sql"]
PASSWORD = "matrix password"
TABLES = {"sales.orders": "sales.orders", "sales.daily-revenue": "sales.daily_revenue"}


@dataclass
class Matrix:
    root: Path
    platform: Platform
    port: int
    tls_port: int
    cert: Path
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    base = tmp_path_factory.mktemp("matrix-sql")
    root = build_matrix_mesh(base / "matrix")
    platform = Platform.open(Mesh.load(root).settings(), root)
    tokens = enrol(platform)
    for name in PRINCIPALS:
        platform.set_password(name, PASSWORD)
    cert, key = make_certificate(base)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    plain, secured = SqlPort(platform, SqlOptions(port=0)), SqlPort(platform, SqlOptions(port=0), context)
    plain.start()
    secured.start()
    assert plain.address and secured.address
    try:
        yield Matrix(root, platform, plain.address[1], secured.address[1], cert, tokens)
    finally:
        plain.stop()
        secured.stop()
        platform.close()


def test_the_replay_covers_allowed_masked_filtered_and_refused_reads() -> None:
    kinds = {(c.allowed, bool(c.masked), c.country) for c in SQL_CASES}
    assert {(False, False, None), (True, True, None), (True, True, "DE"), (True, True, "")} <= kinds
    assert {c.product for c in SQL_CASES} == set(TABLES)


@pytest.mark.parametrize("case", SQL_CASES, ids=lambda c: c.id)
def test_sql_reads_match_the_fixture_and_the_read_path(matrix: Matrix, case: Case) -> None:
    dsn = f"host=127.0.0.1 port={matrix.port} dbname=quanta user={case.principal} password='{PASSWORD}'"
    with psycopg.connect(dsn, autocommit=True) as connection:
        statement = f"select * from {TABLES[case.product]}"
        if not case.allowed:
            with pytest.raises(psycopg.Error) as raised:
                connection.execute(statement)
            assert raised.value.sqlstate == "42501", raised.value
            assert connection.execute("select 1").fetchone() == (1,)  # the connection stays
            return
        cursor = connection.execute(statement)
        assert cursor.description is not None
        columns = tuple(d.name for d in cursor.description)
        rows = normalised([dict(zip(columns, row, strict=True)) for row in cursor.fetchall()])
    assert columns == case.columns
    assert rows == expected_rows(case, matrix.root)
    principal = matrix.platform.principal(case.principal)
    through_plane = matrix.platform.plane.table(principal, case.product, case.port)
    assert rows == normalised(through_plane.to_pylist())


@pytest.mark.parametrize("token", [REVOKED, UNKNOWN])
def test_revoked_and_unknown_tokens_are_refused_at_sign_in(matrix: Matrix, token: str) -> None:
    dsn = (
        f"host=127.0.0.1 port={matrix.tls_port} dbname=quanta user=analyst password='{matrix.tokens[token]}'"
        f" sslmode=verify-full sslrootcert={matrix.cert}"
    )
    with pytest.raises(psycopg.OperationalError) as raised:
        psycopg.connect(dsn)
    assert "password authentication failed" in str(raised.value)


def test_a_valid_token_signs_in_over_tls(matrix: Matrix) -> None:
    dsn = (
        f"host=127.0.0.1 port={matrix.tls_port} dbname=quanta user=analyst password='{matrix.tokens['analyst']}'"
        f" sslmode=verify-full sslrootcert={matrix.cert}"
    )
    with psycopg.connect(dsn, autocommit=True) as connection:
        assert connection.execute("select count(*) from sales.orders").fetchone() is not None
