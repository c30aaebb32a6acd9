"""The shim objects of the catalog emulation (see :mod:`quanta.ports.sql.catalog`): views that stand
in for the ``pg_catalog`` relations DuckDB lacks or answers differently, macros for PostgreSQL's
catalog functions, and ``information_schema`` views that name the client's database as the catalog
and leave the shim schema out. Every one reads only the metadata database: no product data."""

from __future__ import annotations

SHIM = "pg_quanta"  # starts with pg_: psql's \\dn leaves it out as it does PostgreSQL's own


def _settings() -> str:
    """``pg_settings`` as the port's session parameters at their defaults (never the engine's
    settings: those name the server's folders)."""
    from quanta.ports.sql.statements import CANONICAL, READ_ONLY, SETTABLE

    rows = sorted(
        [(CANONICAL.get(name, name), value, "user") for name, value in SETTABLE.items()]
        + [(name, value, "internal") for name, value in READ_ONLY.items()]
    )
    values = ", ".join("(" + ", ".join("'" + v.replace("'", "''") + "'" for v in row) + ")" for row in rows)
    return (
        (
            "SELECT name, setting, NULL::VARCHAR AS unit, 'Quanta SQL port' AS category, '' AS short_desc,"
            " NULL::VARCHAR AS extra_desc, context, 'string' AS vartype, 'default' AS source, NULL::VARCHAR AS min_val,"
            " NULL::VARCHAR AS max_val, NULL::VARCHAR[] AS enumvals, setting AS boot_val, setting AS reset_val,"
            " NULL::VARCHAR AS sourcefile, NULL::INTEGER AS sourceline, false AS pending_restart"
            f" FROM (VALUES {values}) AS quanta_s(name, setting, context)"
        )
        .replace("{", "{{")
        .replace("}", "}}")
    )


def _types() -> str:
    """``pg_type`` with text (25) and oid (26) beside DuckDB's types, each type's array type
    (``_int8``, …: asyncpg reads an array's element type from it), and no type a relation's row type
    (typrelid 0, not NULL: pgjdbc's getTypeInfo filters on it)."""
    from quanta.ports.sql import types as wt

    arrays = " ".join(f"WHEN {element} THEN {array}" for element, array in wt.ARRAYS.items())
    scalars = (
        "SELECT * REPLACE (coalesce(typrelid, 0) AS typrelid, coalesce(typelem, 0) AS typelem,"
        f" coalesce(typdelim, ',') AS typdelim, CASE oid {arrays} ELSE 0 END AS typarray) FROM ("
        "SELECT * FROM pg_catalog.pg_type UNION ALL"
        " SELECT * REPLACE (25 AS oid, 'text' AS typname, -1 AS typlen) FROM pg_catalog.pg_type WHERE oid = 1043"
        " UNION ALL SELECT * REPLACE (26 AS oid, 'oid' AS typname) FROM pg_catalog.pg_type WHERE oid = 23)"
    )
    rows = ", ".join(f"({array}, '_{wt.NAMES[element]}', {element})" for element, array in wt.ARRAYS.items())
    array_types = (
        "SELECT t.* REPLACE (a.oid AS oid, a.typname AS typname, -1 AS typlen, false AS typbyval, 'A' AS typcategory,"
        " a.typelem AS typelem, 0 AS typarray)"
        f" FROM ({scalars}) AS t, (VALUES {rows}) AS a(oid, typname, typelem) WHERE t.oid = 20"
    )
    return f"{scalars} UNION ALL {array_types}"


SHIM_VIEWS = {
    "pg_namespace": (
        "SELECT oid, CASE nspname WHEN 'main' THEN 'public' ELSE nspname END AS nspname, nspowner, nspacl"
        " FROM pg_catalog.pg_namespace WHERE nspname <> 'pg_quanta'"
        " UNION ALL SELECT 11, 'pg_catalog', 10, NULL UNION ALL SELECT 13000, 'information_schema', 10, NULL"
    ),
    # a product's table with the heap access method, and its key's index beside it (relkind i)
    "pg_class": (
        "SELECT * REPLACE (CASE relkind WHEN 'r' THEN 2 ELSE relam END AS relam,"
        " relhasindex OR oid IN (SELECT relid FROM pg_quanta.keys) AS relhasindex,"
        " NULL::VARCHAR[] AS reloptions, CASE relkind WHEN 'r' THEN 'd' ELSE 'n' END AS relreplident),"
        " false AS relforcerowsecurity"
        " FROM pg_catalog.pg_class WHERE relnamespace NOT IN"
        " (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_quanta')"
        " UNION ALL SELECT c.* REPLACE (k.indexrelid AS oid, k.name AS relname, 'i' AS relkind, 403 AS relam,"
        " false AS relhasindex, NULL::VARCHAR[] AS reloptions,"
        " 'n' AS relreplident), false AS relforcerowsecurity"
        " FROM pg_catalog.pg_class c JOIN pg_quanta.keys k ON k.relid = c.oid"
    ),
    "pg_attribute": (  # a key's index has its columns too, as in PostgreSQL
        "SELECT * REPLACE (CASE WHEN atttypid IN (25, 1043) THEN 'x' ELSE 'p' END AS attstorage,"
        " CASE atttypid WHEN 1043 THEN 25 ELSE atttypid END AS atttypid,"  # a string is text, as on the wire
        " '' AS attcompression, -1 AS attstattarget) FROM (SELECT * FROM pg_catalog.pg_attribute UNION ALL"
        " SELECT a.* REPLACE (k.indexrelid AS attrelid, list_position(k.columns, a.attnum) AS attnum)"
        " FROM pg_catalog.pg_attribute a JOIN pg_quanta.keys k ON a.attrelid = k.relid"
        " AND list_contains(k.columns, a.attnum))"
    ),
    # no type is a relation's row type (typrelid 0, not NULL: pgjdbc's getTypeInfo filters on it), and
    # text (25) beside varchar: the products' strings are text on the wire and in pg_attribute
    "pg_type": _types(),
    "pg_am": (
        "SELECT 2::BIGINT AS oid, 'heap' AS amname, NULL::VARCHAR AS amhandler, 't' AS amtype"
        " UNION ALL SELECT 403::BIGINT, 'btree', NULL::VARCHAR, 'i'"
    ),
    # the products' primary keys, one unique btree index each, named as PostgreSQL names them
    "pg_constraint": (
        "SELECT conoid AS oid, 2606::BIGINT AS tableoid, name AS conname, nspid AS connamespace, contype,"
        " false AS condeferrable,"
        " false AS condeferred, true AS convalidated, relid AS conrelid, 0::BIGINT AS contypid,"
        " indexrelid AS conindid, 0::BIGINT AS conparentid, 0::BIGINT AS confrelid, ' ' AS confupdtype,"
        " ' ' AS confdeltype, ' ' AS confmatchtype, true AS conislocal, 0 AS coninhcount, true AS connoinherit,"
        " columns AS conkey, NULL::SMALLINT[] AS confkey, NULL::BIGINT[] AS conpfeqop, NULL::BIGINT[] AS conppeqop,"
        " NULL::BIGINT[] AS conffeqop, NULL::BIGINT[] AS conexclop, NULL::VARCHAR AS conbin FROM pg_quanta.keys"
    ),
    "pg_index": (
        "SELECT indexrelid, relid AS indrelid, len(columns)::SMALLINT AS indnatts,"
        " len(columns)::SMALLINT AS indnkeyatts, true AS indisunique, false AS indnullsnotdistinct,"
        " contype = 'p' AS indisprimary,"
        " false AS indisexclusion, true AS indimmediate, false AS indisclustered, true AS indisvalid,"
        " false AS indcheckxmin, true AS indisready, true AS indislive, false AS indisreplident,"
        " columns AS indkey, list_transform(columns, lambda k: 0::BIGINT) AS indcollation,"
        " list_transform(columns, lambda k: 0::BIGINT) AS indclass,"
        " list_transform(columns, lambda k: 0::SMALLINT) AS indoption,"
        " NULL::VARCHAR AS indexprs, NULL::VARCHAR AS indpred FROM pg_quanta.keys"
    ),
    "pg_database": (
        "SELECT 16384::BIGINT AS oid, {database} AS datname, 10::BIGINT AS datdba, 6 AS encoding,"
        " 'c' AS datlocprovider, true AS datallowconn, false AS datistemplate, -1 AS datconnlimit,"
        " 'C' AS datcollate, 'C' AS datctype,"
        " NULL::VARCHAR AS daticulocale, NULL::VARCHAR[] AS datacl, 1663::BIGINT AS dattablespace"
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
    "pg_trigger": "SELECT 0::BIGINT AS oid, 2620::BIGINT AS tableoid, 0::BIGINT AS tgrelid, '' AS tgname WHERE false",
    "pg_rewrite": (
        "SELECT 0::BIGINT AS oid, 2618::BIGINT AS tableoid, 0::BIGINT AS ev_class, '' AS rulename WHERE false"
    ),
    # no extension, no procedural language, operator, cast or event trigger of the port's own: psql's
    # \dx, \dL, \do, \dC, \dy and \drds list none
    "pg_extension": (
        "SELECT 0::BIGINT AS oid, '' AS extname, 0::BIGINT AS extowner, 0::BIGINT AS extnamespace,"
        " false AS extrelocatable, '' AS extversion, NULL::BIGINT[] AS extconfig, NULL::VARCHAR[] AS extcondition"
        " WHERE false"
    ),
    "pg_language": (
        "SELECT * FROM (VALUES (12::BIGINT, 'internal'), (13, 'c'), (14, 'sql'))"
        " AS quanta_l(oid, lanname), (SELECT 2612::BIGINT AS tableoid, 10::BIGINT AS lanowner,"
        " false AS lanispl, false AS lanpltrusted, 0::BIGINT AS lanplcallfoid, 0::BIGINT AS laninline,"
        " 0::BIGINT AS lanvalidator, NULL::VARCHAR[] AS lanacl)"
    ),
    "pg_operator": (
        "SELECT 0::BIGINT AS oid, '' AS oprname, 0::BIGINT AS oprnamespace, 0::BIGINT AS oprowner, 'b' AS oprkind,"
        " false AS oprcanmerge, false AS oprcanhash, 0::BIGINT AS oprleft, 0::BIGINT AS oprright,"
        " 0::BIGINT AS oprresult, 0::BIGINT AS oprcom, 0::BIGINT AS oprnegate, 0::BIGINT AS oprcode,"
        " 0::BIGINT AS oprrest, 0::BIGINT AS oprjoin WHERE false"
    ),
    "pg_cast": (
        "SELECT 0::BIGINT AS oid, 2605::BIGINT AS tableoid, 0::BIGINT AS castsource, 0::BIGINT AS casttarget,"
        " 0::BIGINT AS castfunc, 'e' AS castcontext, 'f' AS castmethod WHERE false"
    ),
    "pg_event_trigger": (
        "SELECT 0::BIGINT AS oid, '' AS evtname, '' AS evtevent, 0::BIGINT AS evtowner, 0::BIGINT AS evtfoid,"
        " 'O' AS evtenabled, []::VARCHAR[] AS evttags WHERE false"
    ),
    "pg_db_role_setting": (
        "SELECT 0::BIGINT AS setdatabase, 0::BIGINT AS setrole, []::VARCHAR[] AS setconfig WHERE false"
    ),
    "pg_opfamily": (
        "SELECT 0::BIGINT AS oid, 2753::BIGINT AS tableoid, 0::BIGINT AS opfmethod, '' AS opfname,"
        " 0::BIGINT AS opfnamespace, 0::BIGINT AS opfowner WHERE false"
    ),
    "pg_tablespace": (
        "SELECT * FROM (VALUES (1663::BIGINT, 'pg_default'), (1664, 'pg_global')) AS quanta_t(oid, spcname),"
        " (SELECT 10::BIGINT AS spcowner, NULL::VARCHAR[] AS spcacl, NULL::VARCHAR[] AS spcoptions)"
    ),
    "pg_collation": (  # no product column has a collation of its own
        "SELECT 0::BIGINT AS oid, '' AS collname, 0::BIGINT AS collnamespace, 0::BIGINT AS collowner,"
        " 'c' AS collprovider, true AS collisdeterministic, -1 AS collencoding, NULL::VARCHAR AS collcollate,"
        " NULL::VARCHAR AS collctype, NULL::VARCHAR AS colliculocale WHERE false"
    ),
    "pg_opclass": (
        "SELECT 0::BIGINT AS oid, 2616::BIGINT AS tableoid, 0::BIGINT AS opcmethod, '' AS opcname,"
        " 0::BIGINT AS opcnamespace,"
        " 0::BIGINT AS opcowner, 0::BIGINT AS opcfamily, 0::BIGINT AS opcintype, true AS opcdefault,"
        " 0::BIGINT AS opckeytype WHERE false"
    ),  # no key column has a non-default operator class
    # comments on the products' tables and columns, as objects of pg_class
    "pg_description": (
        "SELECT objoid, 1259::BIGINT AS classoid, objsubid, description FROM pg_catalog.pg_description"
        " WHERE description IS NOT NULL"
    ),
    # DuckDB's own functions (their namespace is none of pg_namespace's), not the shim's macros
    "pg_proc": (
        "SELECT * FROM pg_catalog.pg_proc WHERE pronamespace NOT IN"
        " (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname IN ('main', 'pg_quanta'))"
    ),
    "pg_range": (
        "SELECT 0::BIGINT AS rngtypid, 0::BIGINT AS rngsubtype, 0::BIGINT AS rngmultitypid,"
        " 0::BIGINT AS rngcollation, 0::BIGINT AS rngsubopc, 0::BIGINT AS rngcanonical, 0::BIGINT AS rngsubdiff"
        " WHERE false"
    ),
    "pg_settings": _settings(),
}

MACROS = {  # aliases inside a macro are quanta_…: an argument such as a.attnum must not bind to them
    "pg_get_userbyid(role)": "{user}",
    "pg_encoding_to_char(encoding)": "'UTF8'",
    "pg_relation_size(relation)": "0",
    "pg_total_relation_size(relation)": "0",
    "pg_table_size(relation)": "0",
    "pg_indexes_size(relation)": "0",
    "pg_get_serial_sequence(tab, col)": "NULL::VARCHAR",
    "pg_database_size(name)": "0",
    "pg_tablespace_location(tablespace)": "''",
    "pg_get_function_result(function)": "NULL::VARCHAR",
    "pg_get_function_arguments(function)": "NULL::VARCHAR",
    "pg_get_function_sqlbody(function)": "NULL::VARCHAR",
    "pg_tablespace_size(tablespace)": "0",
    "pg_relation_is_publishable(relation)": "false",
    "pg_collation_is_visible(collation)": "true",
    "array_upper(items, dimension)": "len(items)",
    "pg_get_indexdef(index_oid)": (
        "(SELECT quanta_k.indexdef FROM pg_quanta.keys quanta_k WHERE quanta_k.indexrelid = index_oid),"
        " (index_oid, column_number, pretty) AS CASE WHEN column_number = 0"
        " THEN (SELECT quanta_k.indexdef FROM pg_quanta.keys quanta_k WHERE quanta_k.indexrelid = index_oid)"
        " ELSE (SELECT quanta_a.attname FROM pg_quanta.keys quanta_k JOIN pg_catalog.pg_attribute quanta_a"
        " ON quanta_a.attrelid = quanta_k.relid AND quanta_a.attnum = quanta_k.columns[column_number]"
        " WHERE quanta_k.indexrelid = index_oid) END"
    ),
    "pg_get_constraintdef(constraint_oid)": (
        "(SELECT quanta_k.constraintdef FROM pg_quanta.keys quanta_k WHERE quanta_k.conoid = constraint_oid),"
        " (constraint_oid, pretty) AS"
        " (SELECT quanta_k.constraintdef FROM pg_quanta.keys quanta_k WHERE quanta_k.conoid = constraint_oid)"
    ),
    "col_description(relation, column_number)": (
        "(SELECT quanta_d.description FROM pg_catalog.pg_description quanta_d"
        " WHERE quanta_d.objoid = relation AND quanta_d.objsubid = column_number LIMIT 1)"
    ),
    "obj_description(object)": (
        "(SELECT quanta_d.description FROM pg_catalog.pg_description quanta_d"
        " WHERE quanta_d.objoid = object AND quanta_d.objsubid = 0 LIMIT 1),"
        " (object, catalog_name) AS (SELECT quanta_d.description FROM pg_catalog.pg_description quanta_d"
        " WHERE quanta_d.objoid = object AND quanta_d.objsubid = 0 LIMIT 1)"
    ),
    # PostgreSQL's names for the types product columns have (DuckDB says varchar, float8, …)
    "format_type(type_oid, typemod)": (
        "CASE type_oid WHEN 1043 THEN 'text' WHEN 25 THEN 'text' WHEN 701 THEN 'double precision'"
        " WHEN 700 THEN 'real' WHEN 20 THEN 'bigint' WHEN 23 THEN 'integer' WHEN 21 THEN 'smallint'"
        " WHEN 16 THEN 'boolean' WHEN 1082 THEN 'date' WHEN 1184 THEN 'timestamp with time zone'"
        " WHEN 1114 THEN 'timestamp without time zone' WHEN 1083 THEN 'time without time zone'"
        " ELSE pg_catalog.format_type(type_oid, typemod) END"
    ),
    "pg_get_statisticsobjdef_columns(oid)": "NULL::VARCHAR",
    # a column default's text (no product column has one); psql's \\d passes a third argument
    "pg_get_expr(expression, relation)": "NULL::VARCHAR, (expression, relation, pretty) AS NULL::VARCHAR",
    # the catalogs' own oids are PostgreSQL's (pg_description.classoid = 'pg_class'::regclass, …)
    "quanta_regclass(name)": (
        "COALESCE(CASE regexp_replace(name::VARCHAR, '^pg_catalog[.]', '')"
        " WHEN 'pg_class' THEN 1259 WHEN 'pg_constraint' THEN 2606 WHEN 'pg_type' THEN 1247 WHEN 'pg_proc' THEN 1255"
        " WHEN 'pg_namespace' THEN 2615 WHEN 'pg_attribute' THEN 1249 WHEN 'pg_index' THEN 2610 END,"
        " (SELECT quanta_c.oid FROM pg_catalog.pg_class quanta_c JOIN pg_catalog.pg_namespace quanta_n"
        " ON quanta_n.oid = quanta_c.relnamespace WHERE quanta_c.relname = string_split(name::VARCHAR, '.')[-1]"
        " AND (len(string_split(name::VARCHAR, '.')) = 1 OR quanta_n.nspname = string_split(name::VARCHAR, '.')[1])"
        " LIMIT 1))"
    ),
    "to_regtype(name)": (
        "(SELECT quanta_t.oid FROM pg_quanta.pg_type quanta_t WHERE quanta_t.typname = name::VARCHAR LIMIT 1)"
    ),
    "to_regclass(name)": "quanta_regclass(name)",
    # information_schema._pg_expandarray(array): one (x, n) row per element, as pgjdbc's getPrimaryKeys
    # reads a key's columns (a select-list unnest: several of one array stay in step)
    "_pg_expandarray(items)": "unnest(list_transform(range(1, len(items) + 1), lambda k: {{'x': items[k], 'n': k}}))",
    "array_to_string(items, separator)": "array_to_string(items, separator)",
}

KEYS = (
    "CREATE TABLE pg_quanta.keys (conoid BIGINT, indexrelid BIGINT, relid BIGINT, nspid BIGINT, name VARCHAR,"
    " contype VARCHAR, columns SMALLINT[], indexdef VARCHAR, constraintdef VARCHAR)"
)
"""The products' keys, filled as their tables are made: the shim pg_constraint, pg_index and the
index rows of pg_class read it."""

INFORMATION_SCHEMA = (
    "character_sets", "check_constraints", "columns", "constraint_column_usage", "constraint_table_usage",
    "key_column_usage", "referential_constraints", "schemata", "tables", "table_constraints", "views",
)  # fmt: skip
"""The ``information_schema`` views DuckDB has; each is answered by a shim view of the same name."""


_COLUMN_TYPES = {  # DuckDB's data_type: PostgreSQL's data_type, udt_name and datetime_precision
    "VARCHAR": ("text", "text", "NULL"),
    "BIGINT": ("bigint", "int8", "NULL"),
    "INTEGER": ("integer", "int4", "NULL"),
    "SMALLINT": ("smallint", "int2", "NULL"),
    "DOUBLE": ("double precision", "float8", "NULL"),
    "FLOAT": ("real", "float4", "NULL"),
    "BOOLEAN": ("boolean", "bool", "NULL"),
    "DATE": ("date", "date", "0"),
    "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", "timestamptz", "6"),
    "TIMESTAMP": ("timestamp without time zone", "timestamp", "6"),
    "TIME": ("time without time zone", "time", "6"),
}


def _column_types(database: str) -> dict[str, str]:
    """The type columns of ``information_schema.columns`` as PostgreSQL fills them in."""

    def case(position: int, otherwise: str) -> str:
        whens = " ".join(f"WHEN '{duck}' THEN {_literal(pg[position])}" for duck, pg in _COLUMN_TYPES.items())
        return f"CASE data_type {whens} ELSE {otherwise} END"

    return {
        "data_type": case(0, "lower(data_type)"),
        "udt_name": case(1, "lower(data_type)"),
        "udt_schema": "'pg_catalog'",
        "udt_catalog": database,
        "datetime_precision": f"({case(2, 'NULL')})::INTEGER",
        "numeric_scale": "CASE data_type WHEN 'DOUBLE' THEN NULL WHEN 'FLOAT' THEN NULL ELSE numeric_scale END",
    }


def _literal(value: str) -> str:
    return value if value == "NULL" or value.isdigit() else f"'{value}'"


def information_schema_view(name: str, columns: list[str], database: str) -> str:
    """The body of the shim view standing in for ``information_schema.<name>``, whose columns are
    ``columns``: every ``*_catalog`` value is ``database`` (a quoted literal: PostgreSQL names the
    database the client connected to; DuckDB says ``memory``), schema ``main`` is ``public``, a
    column's type is named as PostgreSQL names it, and the shim schema and DuckDB's own ``system``
    and ``temp`` schemas are left out."""
    catalogs = [c for c in columns if c.endswith("_catalog") or c == "catalog_name"]
    schemas = [c for c in columns if c.endswith("_schema") or c == "schema_name"]
    replaced = {c: f'CASE WHEN "{c}" IS NULL THEN NULL ELSE {database} END' for c in catalogs}
    replaced.update({c: f"CASE \"{c}\" WHEN 'main' THEN 'public' ELSE \"{c}\" END" for c in schemas})
    if "constraint_name" in columns and "table_name" in columns:  # a primary key is <table>_pkey
        replaced["constraint_name"] = (
            "CASE WHEN ends_with(constraint_name, '_pkey') AND starts_with(constraint_name, table_name || '_')"
            " THEN table_name || '_pkey' ELSE constraint_name END"
        )
    if name == "columns":
        replaced.update({c: text for c, text in _column_types(database).items() if c in columns})
    kept = [f"\"{c}\" IS DISTINCT FROM '{SHIM}'" for c in schemas]
    if catalogs and schemas:  # DuckDB's system.main and temp.main: no PostgreSQL counterpart
        kept.append(f"""NOT ("{catalogs[0]}" IN ('system', 'temp') AND "{schemas[0]}" = 'main')""")
    replace = f" REPLACE ({', '.join(f'{text} AS {chr(34)}{c}{chr(34)}' for c, text in replaced.items())})"
    where = f" WHERE {' AND '.join(kept)}" if kept else ""
    return f"SELECT *{replace if replaced else ''} FROM information_schema.{name}{where}"
