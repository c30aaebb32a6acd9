"""The shim objects of the catalog emulation (see :mod:`quanta.ports.sql.catalog`): views that stand
in for the ``pg_catalog`` relations DuckDB lacks or answers differently, macros for PostgreSQL's
catalog functions, and ``information_schema`` views that name the client's database as the catalog
and leave the shim schema out. Every one reads only the metadata database: no product data."""

from __future__ import annotations

SHIM = "pg_quanta"  # starts with pg_: psql's \\dn leaves it out as it does PostgreSQL's own

SHIM_VIEWS = {
    "pg_namespace": (
        "SELECT oid, CASE nspname WHEN 'main' THEN 'public' ELSE nspname END AS nspname, nspowner, nspacl"
        " FROM pg_catalog.pg_namespace WHERE nspname <> 'pg_quanta'"
    ),
    "pg_class": (
        "SELECT *, false AS relforcerowsecurity FROM pg_catalog.pg_class WHERE relnamespace NOT IN"
        " (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_quanta')"
    ),
    "pg_database": (
        "SELECT 16384::BIGINT AS oid, {database} AS datname, 10::BIGINT AS datdba, 6 AS encoding,"
        " 'c' AS datlocprovider, true AS datallowconn, false AS datistemplate, -1 AS datconnlimit,"
        " 'C' AS datcollate, 'C' AS datctype,"
        " NULL::VARCHAR AS daticulocale, NULL::VARCHAR[] AS datacl"
    ),
    "pg_roles": (
        "SELECT 10::BIGINT AS oid, {user} AS rolname, false AS rolsuper, true AS rolinherit, false AS rolcreaterole,"
        " false AS rolcreatedb, true AS rolcanlogin, false AS rolreplication, -1 AS rolconnlimit,"
        " NULL::TIMESTAMP AS rolvaliduntil, false AS rolbypassrls, NULL::VARCHAR[] AS rolconfig"
    ),
    "pg_user": "SELECT {user} AS usename, 10::BIGINT AS usesysid, false AS usesuper",
    "pg_auth_members": "SELECT 0::BIGINT AS roleid, 0::BIGINT AS member WHERE false",
    "pg_inherits": (
        "SELECT 0::BIGINT AS inhrelid, 0::BIGINT AS inhparent, 0 AS inhseqno, false AS inhdetachpending WHERE false"
    ),
    "pg_partitioned_table": "SELECT 0::BIGINT AS partrelid WHERE false",
    "pg_foreign_table": "SELECT 0::BIGINT AS ftrelid, 0::BIGINT AS ftserver WHERE false",
    "pg_statistic_ext": (
        "SELECT 0::BIGINT AS oid, 0::BIGINT AS stxrelid, '' AS stxname, 0::BIGINT AS stxnamespace,"
        " []::VARCHAR[] AS stxkind, -1 AS stxstattarget WHERE false"
    ),
    "pg_policy": (
        "SELECT 0::BIGINT AS oid, '' AS polname, 0::BIGINT AS polrelid, 'r' AS polcmd, true AS polpermissive,"
        " []::BIGINT[] AS polroles, NULL::VARCHAR AS polqual, NULL::VARCHAR AS polwithcheck WHERE false"
    ),
    "pg_publication": "SELECT 0::BIGINT AS oid, '' AS pubname, false AS puballtables WHERE false",
    "pg_publication_rel": (
        "SELECT 0::BIGINT AS prrelid, 0::BIGINT AS prpubid, NULL::VARCHAR AS prqual, NULL::SMALLINT[] AS prattrs"
        " WHERE false"
    ),
    "pg_publication_namespace": "SELECT 0::BIGINT AS pnpubid, 0::BIGINT AS pnnspid WHERE false",
    "pg_trigger": "SELECT 0::BIGINT AS oid, 0::BIGINT AS tgrelid, '' AS tgname WHERE false",
    "pg_rewrite": "SELECT 0::BIGINT AS oid, 0::BIGINT AS ev_class, '' AS rulename WHERE false",
    "pg_extension": "SELECT 0::BIGINT AS oid, 'plpgsql' AS extname, '1.0' AS extversion WHERE false",
    "pg_range": "SELECT 0::BIGINT AS rngtypid, 0::BIGINT AS rngsubtype WHERE false",
}

MACROS = {
    "pg_get_userbyid(role)": "{user}",
    "pg_encoding_to_char(encoding)": "'UTF8'",
    "pg_relation_size(relation)": "0",
    "pg_total_relation_size(relation)": "0",
    "pg_table_size(relation)": "0",
    "pg_indexes_size(relation)": "0",
    "pg_get_serial_sequence(tab, col)": "NULL::VARCHAR",
    "pg_relation_is_publishable(relation)": "false",
    "array_upper(items, dimension)": "len(items)",
    "pg_get_indexdef(index_oid)": "NULL::VARCHAR, (index_oid, column_number, pretty) AS NULL::VARCHAR",
    "pg_get_statisticsobjdef_columns(oid)": "NULL::VARCHAR",
    # a column default's text (no product column has one); psql's \\d passes a third argument
    "pg_get_expr(expression, relation)": "NULL::VARCHAR, (expression, relation, pretty) AS NULL::VARCHAR",
    "quanta_regclass(name)": (
        "(SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relname = string_split(name::VARCHAR, '.')[-1] AND (len(string_split(name::VARCHAR, '.')) = 1"
        " OR n.nspname = string_split(name::VARCHAR, '.')[1]) LIMIT 1)"
    ),
    "to_regtype(name)": "(SELECT t.oid FROM pg_catalog.pg_type t WHERE t.typname = name::VARCHAR LIMIT 1)",
    "to_regclass(name)": "quanta_regclass(name)",
    "array_to_string(items, separator)": "array_to_string(items, separator)",
}

INFORMATION_SCHEMA = (
    "character_sets", "check_constraints", "columns", "constraint_column_usage", "constraint_table_usage",
    "key_column_usage", "referential_constraints", "schemata", "tables", "table_constraints", "views",
)  # fmt: skip
"""The ``information_schema`` views DuckDB has; each is answered by a shim view of the same name."""


def information_schema_view(name: str, columns: list[str], database: str) -> str:
    """The body of the shim view standing in for ``information_schema.<name>``, whose columns are
    ``columns``: every ``*_catalog`` value is ``database`` (a quoted literal: PostgreSQL names the
    database the client connected to; DuckDB says ``memory``), schema ``main`` is ``public``, and
    the shim schema and DuckDB's own ``system`` and ``temp`` schemas are left out."""
    catalogs = [c for c in columns if c.endswith("_catalog") or c == "catalog_name"]
    schemas = [c for c in columns if c.endswith("_schema") or c == "schema_name"]
    replaced = [f'CASE WHEN "{c}" IS NULL THEN NULL ELSE {database} END AS "{c}"' for c in catalogs]
    replaced += [f'CASE "{c}" WHEN \'main\' THEN \'public\' ELSE "{c}" END AS "{c}"' for c in schemas]
    kept = [f"\"{c}\" IS DISTINCT FROM '{SHIM}'" for c in schemas]
    if catalogs and schemas:  # DuckDB's system.main and temp.main: no PostgreSQL counterpart
        kept.append(f"""NOT ("{catalogs[0]}" IN ('system', 'temp') AND "{schemas[0]}" = 'main')""")
    replace = f" REPLACE ({', '.join(replaced)})" if replaced else ""
    where = f" WHERE {' AND '.join(kept)}" if kept else ""
    return f"SELECT *{replace} FROM information_schema.{name}{where}"
