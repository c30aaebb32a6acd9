"""Catalog emulation: the answers to clients' ``pg_catalog`` and ``information_schema`` queries
(psql's ``\\dt``, SQLAlchemy's and JDBC's metadata calls), for one principal.

Each principal gets a metadata-only DuckDB database: one schema per domain and, for every product
it may read through a SQL port, an *empty* table with the product's columns, types, primary key
and descriptions as comments. DuckDB's own ``pg_catalog`` then describes exactly those tables;
what it lacks or answers otherwise than PostgreSQL (``pg_roles``, the key's constraint and index,
``format_type()``, ``information_schema``'s catalog name, …) comes from a shim schema and macros
(:mod:`quanta.ports.sql.pg_shims`), and a sqlglot rewrite adapts PostgreSQL syntax
(``OPERATOR(pg_catalog.~)``, ``COLLATE``, ``::regclass``, ``json_build_object``). No snapshot file
is reachable from that database, and a statement goes there only if every relation it names is a
catalog one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from sqlglot import exp

    from quanta.spec.product import DataProduct

from quanta.ports.sql.pg_shims import INFORMATION_SCHEMA, KEYS, MACROS, SHIM, SHIM_VIEWS, information_schema_view
from quanta.ports.sql.statements import READ_ONLY

CATALOG_SCHEMAS = {"pg_catalog", "information_schema"}

_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "time": "TIME",
    "array": "VARCHAR",
    "object": "VARCHAR",
}


def is_catalog_statement(expression: exp.Expression) -> bool:
    """Whether every relation the statement names is a catalog one (and it names at least one)."""
    from sqlglot import exp

    ctes = {cte.alias_or_name.lower() for cte in expression.find_all(exp.CTE)}
    tables = [t for t in expression.find_all(exp.Table) if t.name and t.name.lower() not in ctes]
    return bool(tables) and all(_is_catalog_table(t) for t in tables)


def _is_catalog_table(table: exp.Table) -> bool:
    schema = (table.db or "").lower()
    name = table.name.lower()
    if schema:
        return schema in CATALOG_SCHEMAS
    return name.startswith("pg_")


class CatalogDatabases:
    """One metadata-only database per (principal, visible products), built on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._databases: dict[tuple[Any, ...], Any] = {}

    def database(self, key: tuple[Any, ...], user: str, database: str, products: Iterable[DataProduct]) -> Any:
        with self._lock:
            found = self._databases.get(key)
            if found is None:
                if len(self._databases) > 200:
                    for old in self._databases.values():
                        old.close()
                    self._databases.clear()
                found = self._databases[key] = _build(user, database, list(products))
            return found

    def close(self) -> None:
        with self._lock:
            for database in self._databases.values():
                database.close()
            self._databases.clear()


def _build(user: str, database: str, products: list[DataProduct]) -> Any:
    from quanta.engines.duckdb import connect
    from quanta.spec.index import sql_identifier

    connection = connect(threads=1)
    connection.execute("SET enable_external_access = false")
    quoted_user, quoted_database = _string(user), _string(database)
    connection.execute(f"CREATE SCHEMA {SHIM}")
    connection.execute(KEYS)
    for name, body in SHIM_VIEWS.items():
        connection.execute(f"CREATE VIEW {SHIM}.{name} AS {body.format(user=quoted_user, database=quoted_database)}")
    for name in INFORMATION_SCHEMA:
        columns = [d[0] for d in connection.execute(f"SELECT * FROM information_schema.{name} LIMIT 0").description]
        body = information_schema_view(name, columns, quoted_database)
        connection.execute(f"CREATE VIEW {SHIM}.{name} AS {body}")
    settings = " ".join(f"WHEN {_string(k)} THEN {_string(v)}" for k, v in sorted(READ_ONLY.items()))
    connection.execute(f"CREATE MACRO quanta_setting(name) AS CASE name::VARCHAR {settings} END")
    for signature, body in MACROS.items():
        if signature.startswith("array_to_string"):
            continue  # DuckDB has it
        connection.execute(f"CREATE MACRO {signature} AS {body.format(user=quoted_user)}")
    for spec in sorted(products, key=lambda s: s.key):
        schema = sql_identifier(spec.domain or "proposed")
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        keys = [p.name for p in spec.schema_.properties if p.primary_key]
        for table in _table_names(spec):
            columns = [
                f'"{p.name}" {_DUCKDB_TYPES.get(p.logical_type, "VARCHAR")}' + (" NOT NULL" if p.required else "")
                for p in spec.schema_.properties
            ]
            if keys:
                columns.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in keys) + ")")
            connection.execute(f'CREATE TABLE "{schema}"."{table}" ({", ".join(columns)})')
            if spec.description:
                connection.execute(
                    f'COMMENT ON TABLE "{schema}"."{table}" IS {_string(" ".join(spec.description.split()))}'
                )
            for p in spec.schema_.properties:
                if p.description:
                    connection.execute(f'COMMENT ON COLUMN "{schema}"."{table}"."{p.name}" IS {_text(p.description)}')
            if keys:
                positions = [i + 1 for i, p in enumerate(spec.schema_.properties) if p.primary_key]
                _add_key(connection, schema, table, keys, positions)
    connection.execute("SET lock_configuration = true")
    return connection


def _add_key(connection: Any, schema: str, table: str, keys: list[str], positions: list[int]) -> None:
    """Record a table's primary key as PostgreSQL describes it: constraint ``<table>_pkey`` and the
    unique btree index of the same name (values bound, never spliced)."""
    relid, nspid = connection.execute(
        "SELECT c.oid, c.relnamespace FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
        " ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
        [schema, table],
    ).fetchone()
    name = f"{table}_pkey"
    columns = ", ".join(_identifier(k) for k in keys)
    indexdef = (
        f"CREATE UNIQUE INDEX {_identifier(name)} ON {_identifier(schema)}.{_identifier(table)} USING btree ({columns})"
    )
    connection.execute(
        f"INSERT INTO {SHIM}.keys VALUES ($1, $2, $3, $4, $5, 'p', $6, $7, $8)",
        [relid * 1_000_000 + 999_998, relid * 1_000_000 + 999_999, relid, nspid, name, positions, indexdef,
         f"PRIMARY KEY ({columns})"],
    )  # fmt: skip


def _identifier(name: str) -> str:
    """``name`` as PostgreSQL's ``quote_ident`` writes it."""
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _table_names(spec: DataProduct) -> list[str]:
    from quanta.spec.index import sql_names

    return [name.split(".", 1)[1] for name in sql_names(spec)]


def _text(text: str) -> str:
    return _string(" ".join(text.split()))


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def rewrite(expression: exp.Expression) -> exp.Expression:
    """PostgreSQL catalog SQL as the emulation database answers it."""
    from sqlglot import exp

    def adapt(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
            if str(node.db or "").lower() == "pg_catalog":  # pg_catalog.generate_series(…): DuckDB's own
                unqualified = node.copy()
                unqualified.set("db", None)
                return unqualified
            return node
        if isinstance(node, exp.Table):
            schema, name = (node.db or "").lower(), node.name.lower()
            if name in SHIM_VIEWS and schema in ("", "pg_catalog"):
                return exp.table_(name, db=SHIM, alias=node.alias or name)
            if name in INFORMATION_SCHEMA and schema == "information_schema":
                return exp.table_(name, db=SHIM, alias=node.alias or name)
            if schema in ("", "pg_catalog") and name.startswith("pg_"):
                return exp.table_(name, db="pg_catalog", alias=node.alias or name)
            return node
        if isinstance(node, exp.Column) and str(node.args.get("db") or "").lower() == "pg_catalog":
            qualified = node.copy()
            qualified.set("db", None)  # pg_catalog.pg_class.relname → pg_class.relname (the table's alias)
            return qualified
        if isinstance(node, exp.Dot) and str(getattr(node.this, "name", "")).lower() == "pg_catalog":
            return node.expression  # pg_catalog.fn(...) → fn(...)
        if (
            isinstance(node, exp.Dot)
            and str(getattr(node.this, "name", "")).lower() == "information_schema"
            and isinstance(node.expression, exp.Anonymous)
            and str(node.expression.name).lower() == "_pg_expandarray"
        ):
            return node.expression  # information_schema._pg_expandarray(…) → the macro
        if isinstance(node, exp.Operator):
            operator = str(node.args.get("operator", "")).split(".")[-1].strip()
            left, right = node.this, node.expression
            if operator == "~":
                return exp.RegexpLike(this=left, expression=right)
            if operator == "!~":
                return exp.not_(exp.RegexpLike(this=left, expression=right))
            if operator == "~*":
                return exp.RegexpILike(this=left, expression=right)
            if operator in ("=", "<>", "<", ">", "<=", ">="):
                return exp.condition(f"a {operator} b").transform(
                    lambda n: left if n == exp.column("a") else right if n == exp.column("b") else n
                )
        if isinstance(node, exp.Cast):
            target = node.to.sql(dialect="postgres").lower().split(".")[-1]
            if target in ("regclass", "regtype", "regproc", "regprocedure", "regnamespace", "oid", "regrole"):
                inner = node.this
                named = isinstance(inner, exp.Literal) and inner.is_string
                if named or (isinstance(inner, exp.Parameter) and target in ("regclass", "regtype")):
                    function = "quanta_regclass" if target == "regclass" else "to_regtype"
                    return cast("exp.Expression", exp.func(function, inner))
                return exp.cast(inner, "BIGINT")
        if isinstance(node, exp.Anonymous) and str(node.name).lower() == "current_setting":
            return exp.Anonymous(this="quanta_setting", expressions=node.expressions[:1])  # a bound name
        if isinstance(node, exp.Anonymous) and str(node.name).lower() == "json_build_object":
            return exp.Anonymous(this="json_object", expressions=node.expressions)  # DuckDB's name
        return node

    def without_collation(node: exp.Expression) -> exp.Expression:
        return node.this if isinstance(node, exp.Collate) else node

    rewritten = expression.transform(without_collation)
    for _ in range(8):  # a replaced node's children are not visited again: repeat until nothing changes
        again = rewritten.transform(adapt)
        if again == rewritten:
            break
        rewritten = again
    return rewritten


def checked(expression: exp.Expression) -> exp.Expression:
    """``expression`` if it is one read-only query over catalog relations; else a refusal (42501)."""
    from sqlglot import exp

    from quanta.ports.sql.statements import StatementError

    if not isinstance(expression, exp.Query):
        raise StatementError("only a read-only query may read the catalog", "42501")
    for node in expression.walk():
        if isinstance(node, exp.Command | exp.Into):
            raise StatementError("only a read-only query may read the catalog", "42501")
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier) and not _is_series(node.this):
            raise StatementError("table functions are not allowed", "42501")
    return expression


def _is_series(node: exp.Expression) -> bool:
    """``generate_series(…)`` and ``unnest(…)``: table functions of values alone, which psql's and
    SQLAlchemy's catalog queries use (they read nothing)."""
    from sqlglot import exp

    if isinstance(node, exp.Unnest | exp.Explode | exp.GenerateSeries | exp.ExplodingGenerateSeries):
        return True
    return isinstance(node, exp.Anonymous) and str(node.name).lower() in ("generate_series", "unnest")


def sqlstate_of(message: str) -> str:
    """The SQLSTATE of a failed catalog query."""
    if "does not exist" in message and "Table" in message:
        return "42P01"
    if "Referenced column" in message:
        return "42703"
    if "Function" in message and "does not exist" in message:
        return "42883"
    if "Parser Error" in message:
        return "42601"
    return "0A000"  # a catalog query the emulation cannot answer yet
