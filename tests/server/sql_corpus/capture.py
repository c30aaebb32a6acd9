"""Capture real clients' catalog statements from a real PostgreSQL 15 into ``catalog_statements.json``.

Creates database ``quanta`` on the local server (127.0.0.1:5432, user postgres) with twins of the
test mesh's tables, logs every statement of that database, runs psql's describe commands,
SQLAlchemy's inspector through psycopg, asyncpg and pgjdbc's ``DatabaseMetaData`` against it, and
keeps each distinct statement that reads the catalog, with its parameters and the client that sent
it. ``tests/server/test_sql_corpus_catalog.py`` replays them against the SQL port.

    python tests/server/sql_corpus/capture.py     # rewrites catalog_statements.json
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path

import psycopg

HERE = Path(__file__).parent
LOG = Path("/var/log/postgresql/postgresql-15-main.log")
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
DSN = "host=127.0.0.1 port=5432 user=postgres dbname=quanta"
URL = "postgresql+psycopg://postgres@127.0.0.1:5432/quanta"
TWINS = [
    "CREATE SCHEMA sales",
    "CREATE TABLE sales.orders (order_id text NOT NULL, customer_id text NOT NULL, country text NOT NULL,"
    " amount double precision NOT NULL, order_date date NOT NULL, PRIMARY KEY (order_id))",
    "COMMENT ON TABLE sales.orders IS 'One row per order.'",
    "COMMENT ON COLUMN sales.orders.amount IS 'Order value in EUR.'",
    "CREATE TABLE sales.daily_revenue (order_date date NOT NULL, country text NOT NULL, orders bigint NOT NULL,"
    " revenue double precision NOT NULL, PRIMARY KEY (order_date, country))",
]
PSQL = [
    r"\dt",
    r"\dt+",
    r"\d",
    r"\d+",
    r"\d sales.orders",
    r"\d+ sales.orders",
    r"\d+ sales.daily_revenue",
    r"\d sales.orders_pkey",
    r"\di",
    r"\dn",
    r"\dn+",
    r"\l",
    r"\du",
    r"\dv",
    r"\dt sales.*",
]
CATALOG = re.compile(r"pg_catalog|information_schema|\bpg_\w+|current_setting|current_schema|version\(\)", re.I)
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def main() -> None:
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS quanta")
        admin.execute("CREATE DATABASE quanta")
        admin.execute("ALTER DATABASE quanta SET log_statement = 'all'")
    with psycopg.connect(DSN, autocommit=True) as connection:
        for statement in TWINS:
            connection.execute(statement)
    corpus: list[dict[str, object]] = []
    try:
        for command in PSQL:
            corpus += _captured(f"psql {command}", lambda c=command: _psql(c))
        corpus += _captured("sqlalchemy inspector (psycopg)", _sqlalchemy)
        corpus += _captured("asyncpg", lambda: asyncio.run(_asyncpg()))
        corpus += _captured("pgjdbc DatabaseMetaData", _pgjdbc)
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS quanta")
    seen, unique = set(), []
    for entry in corpus:
        key = (entry["sql"], tuple(entry["params"]))  # type: ignore[arg-type]
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    (HERE / "catalog_statements.json").write_text(json.dumps(unique, indent=1) + "\n")
    print(f"{len(unique)} catalog statements from {len({e['client'] for e in unique})} clients")


def _captured(client: str, run) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    start = LOG.stat().st_size
    run()
    with LOG.open() as log:
        log.seek(start)
        text = log.read()
    return [
        {"client": client, "sql": sql, "params": params} for sql, params in _statements(text) if CATALOG.search(sql)
    ]


def _statements(text: str) -> list[tuple[str, list[str | None]]]:
    """(SQL, parameters) of each ``statement:`` / ``execute …:`` line of a PostgreSQL log, with the
    ``DETAIL:  parameters:`` line that follows an execute."""
    entries: list[list[str]] = []
    for line in text.splitlines():
        if STAMP.match(line):
            entries.append([line])
        elif entries:
            entries[-1].append(line)
    out: list[tuple[str, list[str | None]]] = []
    for entry in entries:
        head = entry[0]
        found = re.search(r"LOG:  (?:statement|execute [^:]*): (.*)$", head)
        if found:
            out.append(("\n".join([found.group(1), *entry[1:]]).strip(), []))
            continue
        detail = re.search(r"DETAIL:  parameters: (.*)$", head)
        if detail and out:
            out[-1] = (out[-1][0], _parameters(detail.group(1)))
    return out


def _parameters(text: str) -> list[str | None]:
    values: list[str | None] = []
    for match in re.finditer(r"\$\d+ = (NULL|'((?:[^']|'')*)')", text):
        values.append(None if match.group(1) == "NULL" else match.group(2).replace("''", "'"))
    return values


def _psql(command: str) -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "quanta", "-c", command],
        check=True,
        capture_output=True,
    )


def _sqlalchemy() -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(URL)
    try:
        inspector = sqlalchemy.inspect(engine)
        inspector.get_schema_names()
        inspector.get_table_names(schema="sales")
        inspector.get_view_names(schema="sales")
        inspector.has_table("orders", schema="sales")
        for table in ("orders", "daily_revenue"):
            inspector.get_columns(table, schema="sales")
            inspector.get_pk_constraint(table, schema="sales")
            inspector.get_foreign_keys(table, schema="sales")
            inspector.get_indexes(table, schema="sales")
            inspector.get_unique_constraints(table, schema="sales")
            inspector.get_check_constraints(table, schema="sales")
            inspector.get_table_comment(table, schema="sales")
        sqlalchemy.Table("orders", sqlalchemy.MetaData(), schema="sales", autoload_with=engine)
    finally:
        engine.dispose()


async def _asyncpg() -> None:
    import asyncpg

    connection = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="quanta")
    try:
        await connection.fetch(
            "select order_id from sales.orders where amount > $1 and order_date >= $2",
            1.0,
            __import__("datetime").date(2026, 1, 1),
        )
        await connection.fetch("select $1::text[] as names", ["a", "b"])
    finally:
        await connection.close()


def _pgjdbc() -> None:
    probe = HERE.parent / "jdbc" / "JdbcProbe.java"
    command = ["java", "-cp", "/usr/share/java/postgresql.jar", str(probe), "5432", "postgres", "x"]
    subprocess.run(command, check=True, capture_output=True)


if __name__ == "__main__":
    main()
