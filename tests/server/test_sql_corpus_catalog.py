"""The regression corpus of real clients' catalog statements (psql's describe commands,
SQLAlchemy's inspector through psycopg, pgjdbc's DatabaseMetaData), captured from a real
PostgreSQL 15 by ``sql_corpus/capture.py``: the SQL port answers every one, with the parameters the
client sent, over the extended protocol, and keeps the connection; and what it answers a principal
without a SQL grant names no product."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.pq import ExecStatus

from serving_mesh import sql_serving

CORPUS = json.loads((Path(__file__).with_name("sql_corpus") / "catalog_statements.json").read_text())
PASSWORD = "a corpus password"


@pytest.fixture(scope="module")
def sql_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with sql_serving(tmp_path_factory.mktemp("corpus"), ("nora", "ann"), PASSWORD) as port:
        yield port


def _replayed(port: int, user: str) -> tuple[list[str], list[bytes]]:
    """(the failures, every value answered) of the corpus replayed on one connection as ``user``."""
    failures, values = [], []
    dsn = f"host=127.0.0.1 port={port} dbname=quanta user={user} password='{PASSWORD}'"
    with psycopg.connect(dsn, autocommit=True) as connection:
        for entry in CORPUS:
            params = [None if p is None else p.encode() for p in entry["params"]]
            result = connection.pgconn.exec_params(entry["sql"].encode(), params)
            if result.status not in (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK):
                message = (result.error_message or b"").decode(errors="replace").strip()
                failures.append(f"{entry['client']}: {message}\n  {entry['sql'][:300]}")
                continue
            values += [result.get_value(r, c) or b"" for r in range(result.ntuples) for c in range(result.nfields)]
        assert connection.execute("select 40 + 2").fetchone() == (42,)  # still usable
    return failures, values


def test_the_corpus_is_big_enough_and_from_several_clients() -> None:
    clients = {entry["client"].split(" ")[0] for entry in CORPUS}
    assert len(CORPUS) >= 50 and {"psql", "sqlalchemy", "pgjdbc"} <= clients


def test_every_captured_catalog_statement_is_answered(sql_port: int) -> None:
    failures, values = _replayed(sql_port, "nora")
    assert not failures, "\n".join(failures)
    assert any(b"orders" in value for value in values)  # the statements did find nora's products


def test_a_principal_without_a_sql_grant_is_answered_without_a_product_name(sql_port: int) -> None:
    failures, values = _replayed(sql_port, "ann")
    assert not failures, "\n".join(failures)
    assert not [value for value in values if b"orders" in value or b"revenue" in value]
