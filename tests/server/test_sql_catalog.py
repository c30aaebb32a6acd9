"""The SQL port's catalog answers with real clients over loopback: ``information_schema`` naming the
client's database, psql's ``\\d+`` family and SQLAlchemy's reflection, each showing only what the
signed-in principal may read over SQL (and never a row value)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from quanta.ports.sql.server import SqlOptions, SqlPort
from quanta.project import Mesh
from quanta.project.platform import Platform
from quanta.spec.index import sql_identifier
from serving_mesh import PRINCIPALS, build, write_mesh

PASSWORD = "correct horse battery staple"


@dataclass
class Served:
    platform: Platform
    port: int

    def connect(self, user: str = "nora", database: str = "quanta") -> psycopg.Connection:
        dsn = f"host=127.0.0.1 port={self.port} dbname={database} user={user} password='{PASSWORD}'"
        return psycopg.connect(dsn, autocommit=True)

    def psql(self, command: str, user: str = "nora", check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["psql", "-X", "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d", "quanta", "-c", command],
            env={**os.environ, "PGPASSWORD": PASSWORD, "PAGER": "cat"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert not check or result.returncode == 0, result.stderr
        return result


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = write_mesh(tmp_path_factory.mktemp("sql-catalog") / "demo")
    build(root)
    platform = Platform.open(Mesh.load(root).settings(), root)
    for record in PRINCIPALS.values():
        platform.add_principal(record)
        platform.set_password(record.id, PASSWORD)
    port = SqlPort(platform, SqlOptions(port=0))
    port.start()
    assert port.address is not None
    try:
        yield Served(platform, port.address[1])
    finally:
        port.stop()
        platform.close()


@pytest.mark.parametrize("database", ["quanta", "Analytics"])
def test_information_schema_names_the_database_the_client_connected_to(served: Served, database: str) -> None:
    with served.connect(database=database) as connection:
        tables = connection.execute(
            "select table_catalog, table_schema, table_name from information_schema.tables order by 2, 3"
        ).fetchall()
        assert tables == [(database, "sales", t) for t in ("daily_revenue", "daily_revenue_v1", "orders", "orders_v1")]
        catalogs = connection.execute(
            "select distinct table_catalog from information_schema.columns"
            " union select distinct constraint_catalog from information_schema.table_constraints"
            " union select distinct catalog_name from information_schema.schemata"
        ).fetchall()
        assert catalogs == [(database,)]
        schemas = connection.execute("select schema_name from information_schema.schemata order by 1").fetchall()
        assert schemas == [("information_schema",), ("pg_catalog",), ("public",), ("sales",)]
        columns = connection.execute(
            "select column_name, is_nullable from information_schema.columns"
            " where table_schema = 'sales' and table_name = 'orders' order by ordinal_position"
        ).fetchall()
        assert columns[0] == ("order_id", "NO") and len(columns) == 5


def test_information_schema_shows_nothing_the_principal_may_not_read_over_sql(served: Served) -> None:
    with served.connect("ann") as connection:  # ann reads over REST only
        assert connection.execute("select count(*) from information_schema.tables").fetchone() == (0,)
        assert connection.execute("select count(*) from information_schema.columns").fetchone() == (0,)


@pytest.fixture(scope="module")
def postgres_twin(served: Served) -> Iterator[None]:
    """The served products' tables, keys and descriptions in the local PostgreSQL 15 (database test)."""
    specs = {sql_identifier(s.name): s for s in served.platform.plane.published() if s.domain == "sales"}
    statements = ["DROP SCHEMA IF EXISTS sales CASCADE", "CREATE SCHEMA sales"]
    types = {"string": "text", "number": "double precision", "integer": "bigint", "date": "date"}
    for name in ("orders", "daily_revenue"):
        spec = specs[name]
        columns = [
            f"{p.name} {types[p.logical_type]}" + (" NOT NULL" if p.required else "") for p in spec.schema_.properties
        ]
        keys = [p.name for p in spec.schema_.properties if p.primary_key]
        statements.append(f"CREATE TABLE sales.{name} ({', '.join(columns)}, PRIMARY KEY ({', '.join(keys)}))")
        statements.append(f"COMMENT ON TABLE sales.{name} IS %s")
        for p in spec.schema_.properties:
            statements.append(f"COMMENT ON COLUMN sales.{name}.{p.name} IS %s")
    texts = iter(
        " ".join(str(text).split())
        for name in ("orders", "daily_revenue")
        for text in [specs[name].description, *(p.description for p in specs[name].schema_.properties)]
    )
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test", autocommit=True) as connection:
        for statement in statements:
            if "%s" in statement:
                connection.execute(statement.replace("%s", "{}").format(psycopg.sql.quote(next(texts))))
            else:
                connection.execute(statement)
        yield
        connection.execute("DROP SCHEMA IF EXISTS sales CASCADE")


@pytest.mark.parametrize(
    "command", ["\\d sales.orders", "\\d+ sales.orders", "\\d+ sales.daily_revenue", "\\d+ sales.orders_pkey"]
)
def test_psql_describes_a_table_in_full_as_postgresql_does(served: Served, postgres_twin: None, command: str) -> None:
    ours = served.psql(command).stdout
    theirs = subprocess.run(
        ["psql", "-X", "-h", "127.0.0.1", "-p", "5432", "-d", "test", "-c", command],
        env={**os.environ, "PAGER": "cat"},
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert theirs.strip(), "PostgreSQL described nothing"
    assert ours == theirs, f"ours:\n{ours}\nPostgreSQL's:\n{theirs}"


def test_psql_lists_tables_in_full_with_their_descriptions(served: Served) -> None:
    for command in ("\\d+", "\\dt+", "\\dt+ sales.*"):
        listed = served.psql(command).stdout
        rows = {line.split("|")[1].strip(): line for line in listed.splitlines() if line.count("|") >= 7}
        assert set(rows) == {"Name", "daily_revenue", "daily_revenue_v1", "orders", "orders_v1"}, listed
        assert "heap" in rows["orders"] and "Every order placed in the web shop" in rows["orders"]
    described = served.psql("\\d+ sales.orders", user="ann", check=False)
    assert 'Did not find any relation named "sales.orders"' in described.stderr  # ann reads over REST only
    assert "Did not find any relations" in served.psql("\\dt+", user="ann").stderr + "Did not find any relations"
    assert "orders" not in served.psql("\\dt+", user="ann").stdout


def _reflected(url: str, table: str) -> dict[str, object]:
    """What SQLAlchemy's inspector reflects of ``sales.<table>`` through psycopg."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        inspector = sqlalchemy.inspect(engine)
        columns = [
            (c["name"], repr(c["type"]), c["nullable"], c["default"], c.get("comment"))
            for c in inspector.get_columns(table, schema="sales")
        ]
        return {
            "columns": columns,
            "pk": inspector.get_pk_constraint(table, schema="sales"),
            "foreign_keys": inspector.get_foreign_keys(table, schema="sales"),
            "indexes": inspector.get_indexes(table, schema="sales"),
            "unique": inspector.get_unique_constraints(table, schema="sales"),
            "checks": inspector.get_check_constraints(table, schema="sales"),
            "comment": inspector.get_table_comment(table, schema="sales"),
            "table": [
                (c.name, repr(c.type), c.nullable, c.primary_key)
                for c in sqlalchemy.Table(table, sqlalchemy.MetaData(), schema="sales", autoload_with=engine).columns
            ],
        }
    finally:
        engine.dispose()


@pytest.mark.parametrize("table", ["orders", "daily_revenue"])
def test_sqlalchemy_reflects_columns_and_keys_as_from_postgresql(
    served: Served, postgres_twin: None, table: str
) -> None:
    ours = _reflected(f"postgresql+psycopg://nora:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{served.port}/quanta", table)
    theirs = _reflected("postgresql+psycopg://postgres@127.0.0.1:5432/test", table)
    assert ours == theirs
    assert ours["pk"]["constrained_columns"] == (["order_id"] if table == "orders" else ["order_date", "country"])  # type: ignore[index]


def test_sqlalchemy_reflects_nothing_the_principal_may_not_read_over_sql(served: Served) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(
        f"postgresql+psycopg://ann:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{served.port}/quanta"
    )
    try:
        inspector = sqlalchemy.inspect(engine)
        assert inspector.get_table_names(schema="sales") == []
        with pytest.raises(sqlalchemy.exc.NoSuchTableError):
            inspector.get_columns("orders", schema="sales")
        with pytest.raises(sqlalchemy.exc.NoSuchTableError):
            inspector.get_pk_constraint("orders", schema="sales")
    finally:
        engine.dispose()


def test_information_schema_columns_name_types_as_postgresql_does(served: Served, postgres_twin: None) -> None:
    query = (
        "select table_schema, table_name, column_name, ordinal_position, is_nullable, data_type, udt_schema, udt_name,"
        " character_maximum_length, numeric_precision, numeric_precision_radix, numeric_scale, datetime_precision"
        " from information_schema.columns where table_schema = 'sales' and table_name in ('orders', 'daily_revenue')"
        " order by table_name, ordinal_position"
    )
    _answered_as_by_postgresql(served, query)


def test_information_schema_names_primary_keys_as_postgresql_does(served: Served, postgres_twin: None) -> None:
    query = (
        "select k.table_name, k.constraint_name, k.column_name, k.ordinal_position, t.constraint_type"
        " from information_schema.key_column_usage k join information_schema.table_constraints t"
        " on t.constraint_name = k.constraint_name and t.table_schema = k.table_schema"
        " where k.table_schema = 'sales' and k.table_name in ('orders', 'daily_revenue')"
        " order by k.table_name, k.ordinal_position"
    )
    _answered_as_by_postgresql(served, query)


def _answered_as_by_postgresql(served: Served, query: str) -> None:
    """``query`` answers the same rows from the port as from the PostgreSQL twin."""
    with served.connect() as ours, psycopg.connect("host=127.0.0.1 port=5432 dbname=test") as theirs:
        assert ours.execute(query).fetchall() == theirs.execute(query).fetchall()


def test_pg_settings_lists_the_ports_parameters_and_nothing_of_the_engine(served: Served) -> None:
    with served.connect() as connection:
        names = {row[0] for row in connection.execute("select name from pg_catalog.pg_settings")}
        everything = " ".join(str(v) for row in connection.execute("select * from pg_settings") for v in row)
        kept = connection.execute("select setting, source from pg_settings where name = 'server_version'").fetchone()
    assert {"application_name", "DateStyle", "server_version", "client_encoding"} <= names
    assert not names & {"temp_directory", "secret_directory", "allowed_directories", "memory_limit", "threads"}
    assert "/" not in everything  # no path of the server's machine
    assert kept == ("15.0 (Quanta)", "default")


def test_session_functions_and_catalog_columns_are_named_as_postgresql_names_them(served: Served) -> None:
    with served.connect() as connection:
        cursor = connection.execute("select version(), pg_catalog.version() as v")
        assert [c.name for c in cursor.description] == ["version", "v"]
        assert all(value.startswith("PostgreSQL 15") for value in cursor.fetchone())
        cursor = connection.execute("select count(*), max(relname) from pg_catalog.pg_class")
        assert [c.name for c in cursor.description] == ["count", "max"]
