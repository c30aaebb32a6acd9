"""The data plane's adversarial SQL corpus (tests/fixtures/sql_corpus.yaml) replayed over the wire
with psycopg: every statement is refused with a SQLSTATE of the closed set and its reason, the
connection stays usable, and nothing of a snapshot leaks. Catalog statements are the wire port's
own: those the corpus lists (``pg_catalog``, ``information_schema``) are answered from the
per-principal metadata database, which holds no rows of any product."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml

from quanta.ports.sql.server import SqlOptions, SqlPort
from quanta.project import Mesh
from quanta.project.platform import Platform
from serving_mesh import PRINCIPALS, build, write_mesh

CORPUS = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "sql_corpus.yaml").read_text())
PASSWORD = "corpus over the wire"
SQLSTATES = {"42501", "42P01", "42703", "42601", "0A000", "25006", "42704", "42883"}
"""What a refusal over the wire carries: privilege, unknown relation, column or object, syntax,
unsupported, read-only transaction, unknown function. Never XX000 (an internal error)."""
WIRE_REASONS = (
    "cannot execute a write in a read-only SQL port",  # 25006: any statement but a query
    "only COPY (SELECT …) TO STDOUT is allowed",  # 42501: COPY to a file or from anywhere
    "is not allowed on the SQL port",  # 42501: SET of a parameter that is not PostgreSQL's session state
    "syntax error",  # 42601: DuckDB-only syntax (DESCRIBE, SUMMARIZE, glob()) does not parse as PostgreSQL
    "unrecognized configuration parameter",  # 42704: SHOW/current_setting of what the port does not keep
)
"""The wire port's own refusals: it parses PostgreSQL and knows its session commands, so some
corpus statements are refused before the plane's gate, in PostgreSQL's words."""
CATALOG_ANSWERED = {"select * from information_schema.tables", "select * from pg_catalog.pg_class"}
"""Answered from the per-principal metadata database (empty tables: no product's rows)."""
SEVERAL_QUERIES = {"select 1; select 2"}
"""The simple-query protocol runs several statements, each through the gate, as PostgreSQL does."""
SESSION_ANSWERED = {"select version()"}
"""Answered by the port as PostgreSQL's session function (the engine's own is never called)."""
EMPTY = {"", "-- only a comment"}
"""PostgreSQL's EmptyQueryResponse: no error, no rows."""


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    root = write_mesh(tmp_path_factory.mktemp("sql-corpus") / "demo")
    build(root)
    platform = Platform.open(Mesh.load(root).settings(), root)
    platform.add_principal(PRINCIPALS["nora"])  # analysts: the table port of orders, customer_id masked
    platform.set_password("nora", PASSWORD)
    port = SqlPort(platform, SqlOptions(port=0))
    port.start()
    assert port.address is not None
    try:
        yield root, port.address[1]
    finally:
        port.stop()
        platform.close()


def _statement(entry: dict[str, str], root: Path) -> str:
    return entry["sql"].replace("{warehouse}", str(root / ".quanta" / "warehouse"))


def test_every_corpus_statement_is_refused_over_the_wire_and_the_connection_stays(wire: tuple[Path, int]) -> None:
    root, port = wire
    dsn = f"host=127.0.0.1 port={port} dbname=quanta user=nora password='{PASSWORD}'"
    refused = answered = 0
    with psycopg.connect(dsn, autocommit=True) as connection:
        for entry in CORPUS:
            statement = _statement(entry, root)
            if statement.strip() in CATALOG_ANSWERED | SEVERAL_QUERIES:
                cursor = connection.execute(statement)
                text = repr(cursor.fetchall())
                assert "o-0" not in text and "c-1" not in text, statement  # metadata or constants, never a row
                answered += 1
                continue
            if statement in SESSION_ANSWERED:
                assert connection.execute(statement).fetchone()[0].startswith("PostgreSQL 15"), statement
                answered += 1
                continue
            if statement in EMPTY:
                assert connection.execute(statement).pgresult.status == psycopg.pq.ExecStatus.EMPTY_QUERY
                answered += 1
                continue
            with pytest.raises(psycopg.Error) as raised:
                connection.execute(statement).fetchall()
            error = raised.value
            assert error.sqlstate in SQLSTATES, (statement, error.sqlstate, str(error))
            wire_reason = any(reason in str(error) for reason in WIRE_REASONS)
            assert entry["reason"] in str(error) or wire_reason, (statement, str(error))
            assert "c-1" not in str(error), statement  # no value of a row
            assert str(root) in statement or str(root) not in str(error), statement  # no path it did not name
            refused += 1
            assert connection.execute("select count(*) from sales.orders").fetchone() == (240,)  # still usable
    assert refused + answered == len(CORPUS)
    assert answered == len(CATALOG_ANSWERED | SEVERAL_QUERIES | SESSION_ANSWERED | EMPTY)
    assert refused >= 60
