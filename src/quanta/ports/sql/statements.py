"""What a client's SQL text is, before anything runs: split into statements (quotes and comments
respected, by sqlglot's PostgreSQL tokenizer), each classified by its leading keywords, and the
session commands (SET, SHOW, transaction control, COPY … TO STDOUT) parsed against an allow-list.
Queries are handed on as sqlglot expressions whose ``$n`` parameters the engine binds: values are
never spliced into SQL text."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from sqlglot import exp

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is not for users


class StatementError(Exception):
    """A statement the port refuses before running it; ``sqlstate`` says why."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@dataclass(frozen=True)
class Statement:
    """One statement of a client's SQL: ``kind`` is query, begin, commit, rollback, savepoint,
    release, set, show, reset, discard, copy, deallocate or empty."""

    kind: str
    text: str


_KINDS = {
    "SELECT": "query", "WITH": "query", "VALUES": "query", "TABLE": "query", "(": "query",
    "BEGIN": "begin", "START": "begin", "COMMIT": "commit", "END": "commit",
    "ROLLBACK": "rollback", "ABORT": "rollback", "SAVEPOINT": "savepoint", "RELEASE": "release",
    "SET": "set", "SHOW": "show", "RESET": "reset", "DISCARD": "discard", "COPY": "copy",
    "DEALLOCATE": "deallocate", "CLOSE": "close", "DECLARE": "declare", "FETCH": "fetch", "MOVE": "fetch",
}  # fmt: skip

WRITES = {
    "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE", "GRANT", "REVOKE",
    "ATTACH", "DETACH", "INSTALL", "LOAD", "PRAGMA", "CALL", "EXPORT", "IMPORT", "VACUUM", "CHECKPOINT",
}  # fmt: skip


def split(sql: str) -> list[Statement]:
    """The statements of ``sql``, in order (an all-blank text is one ``empty`` statement)."""
    from sqlglot.dialects.postgres import Postgres
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = Postgres().tokenize(sql)
    except TokenError as exc:
        raise StatementError(f"syntax error: {exc}", "42601") from None
    statements: list[Statement] = []
    chunk: list[Any] = []
    for token in [*tokens, None]:
        if token is None or token.token_type == TokenType.SEMICOLON:
            if chunk:
                text = sql[chunk[0].start : chunk[-1].end + 1]
                first = chunk[0].text.upper() if chunk[0].token_type != TokenType.L_PAREN else "("
                statements.append(Statement(_kind(first), text))
            chunk = []
        else:
            chunk.append(token)
    return statements or [Statement("empty", "")]


UNSUPPORTED = {
    "EXPLAIN", "PREPARE", "EXECUTE", "LISTEN", "NOTIFY", "UNLISTEN", "LOCK", "ANALYZE", "CLUSTER", "COMMENT",
    "REINDEX", "REFRESH", "SECURITY", "DO",
}  # fmt: skip


def _kind(first: str) -> str:
    if first in _KINDS:
        return _KINDS[first]
    if first in WRITES:
        return "write"
    return "other" if first in UNSUPPORTED else "unknown"


# ---------------------------------------------------------------- session parameters

SETTABLE = {
    "application_name": "",
    "client_encoding": "UTF8",
    "datestyle": "ISO, MDY",
    "extra_float_digits": "1",
    "search_path": '"$user", public',
    "timezone": "UTC",
    "intervalstyle": "postgres",
    "statement_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "standard_conforming_strings": "on",
    "client_min_messages": "notice",
    "bytea_output": "hex",
    "lc_messages": "C",
    "lock_timeout": "0",
    "default_transaction_read_only": "on",
    "transaction_read_only": "on",
    "jit": "off",
}
"""Session parameters a client may SET, with their defaults (kept per session; none reaches the engine)."""

READ_ONLY = {
    "server_version": "15.0 (Quanta)",
    "server_version_num": "150000",
    "server_encoding": "UTF8",
    "integer_datetimes": "on",
    "is_superuser": "off",
    "max_identifier_length": "63",
    "transaction_isolation": "read committed",
    "default_transaction_isolation": "read committed",
    "lc_collate": "C",
    "lc_ctype": "C",
    "default_table_access_method": "heap",
}
"""Parameters that can be shown but not set."""

VERSION = f"PostgreSQL {READ_ONLY['server_version']} on the Quanta SQL port"
"""What ``version()`` answers."""

REPORTED = (
    "application_name", "client_encoding", "datestyle", "intervalstyle", "timezone", "integer_datetimes",
    "server_encoding", "server_version", "standard_conforming_strings", "is_superuser",
)  # fmt: skip
"""Parameters announced with ParameterStatus at start-up and when SET (PostgreSQL's GUC_REPORT ones)."""

CANONICAL = {"datestyle": "DateStyle", "timezone": "TimeZone", "intervalstyle": "IntervalStyle"}

_SET = re.compile(
    r"^SET\s+(?:SESSION\s+|LOCAL\s+)?(?:(?P<tz>TIME\s+ZONE)\s+(?P<tzvalue>.+)|(?P<name>[A-Za-z_][\w.]*)\s*(?:=|\s+TO\s+)\s*(?P<value>.+))$",
    re.IGNORECASE | re.DOTALL,
)
_CHARACTERISTICS = re.compile(r"^SET\s+(SESSION\s+CHARACTERISTICS\s+AS\s+)?TRANSACTION\b.*$", re.IGNORECASE | re.DOTALL)


def parse_set(text: str) -> tuple[str, str] | None:
    """(parameter, value) of a SET; None for a transaction-characteristics SET (answered, no effect)."""
    if _CHARACTERISTICS.match(text.strip()):
        if re.search(r"\bREAD\s+WRITE\b", text, re.IGNORECASE):
            raise StatementError("cannot set a read-write transaction: the SQL port is read-only", "25006")
        return None
    found = _SET.match(text.strip())
    if found is None:
        raise StatementError(f"syntax error in SET: {text[:80]}", "42601")
    name = "timezone" if found["tz"] else found["name"].lower()
    value = found["tzvalue"] if found["tz"] else found["value"]
    return settable(name, ", ".join(_unquoted(v.strip()) for v in _split_list(value.strip())))


def settable(name: str, shown: str) -> tuple[str, str]:
    """(parameter, value) as a session keeps ``name`` set to ``shown`` (by SET or ``set_config``);
    a refusal for a parameter the port does not keep or cannot change."""
    name = name.lower()
    if name not in SETTABLE:
        if name in READ_ONLY:
            raise StatementError(f'parameter "{name}" cannot be changed', "55P02")
        raise StatementError(f'setting "{name}" is not allowed on the SQL port', "42501")
    if name == "client_encoding" and shown.upper().replace("-", "") not in ("UTF8", "UNICODE"):
        raise StatementError(f"client encoding {shown} is not supported: use UTF8", "0A000")
    if name == "client_encoding":
        shown = "UTF8"
    if shown.upper() == "DEFAULT":
        shown = SETTABLE[name]
    return name, shown


def _split_list(text: str) -> list[str]:
    parts, current, quote = [], "", None
    for char in text:
        if quote:
            current += char
            if char == quote:
                quote = None
        elif char in "'\"":
            quote, current = char, current + char
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def shown_name(text: str) -> str:
    """The parameter a SHOW names (lower case)."""
    found = re.match(r"^SHOW\s+(.+?)\s*$", text.strip(), re.IGNORECASE | re.DOTALL)
    if found is None:
        raise StatementError("syntax error in SHOW", "42601")
    name = " ".join(found[1].split()).lower()
    return {"time zone": "timezone", "transaction isolation level": "transaction_isolation"}.get(name, name)


_COPY = re.compile(r"^COPY\s*\((?P<query>.+)\)\s*TO\s+STDOUT\b(?P<options>.*)$", re.IGNORECASE | re.DOTALL)


def parse_copy(text: str) -> tuple[str, str, bool]:
    """(query, ``text`` or ``csv``, header) of a ``COPY (SELECT …) TO STDOUT [WITH (…)]``."""
    found = _COPY.match(text.strip())
    if found is None:
        if re.search(r"\bFROM\b", text, re.IGNORECASE) and not re.search(r"\bTO\b", text, re.IGNORECASE):
            raise StatementError("COPY … FROM is not allowed: the SQL port is read-only", "25006")
        raise StatementError("only COPY (SELECT …) TO STDOUT is allowed, not COPY to a file or a table", "42501")
    options = found["options"].lower()
    file_format = "csv" if re.search(r"\bcsv\b", options) else "text"
    if re.search(r"\b(binary)\b", options):
        raise StatementError("COPY in binary format is not supported", "0A000")
    header = bool(re.search(r"\bheader\b(?!\s+(false|off|0))", options))
    return found["query"], file_format, header


_NAME = r'(?P<name>"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
_DECLARE = re.compile(
    rf"^DECLARE\s+{_NAME}\s+(?P<flags>(?:(?:BINARY|INSENSITIVE|ASENSITIVE|NO\s+SCROLL|SCROLL)\s+)*)CURSOR\s+"
    r"(?:(?:WITH|WITHOUT)\s+HOLD\s+)?FOR\s+(?P<query>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_FETCH = re.compile(
    r"^(?P<verb>FETCH|MOVE)\s+(?:(?P<how>NEXT|ALL|FORWARD\s+ALL|FORWARD\s+\d+|FORWARD|\d+)\s+)?(?:(?:FROM|IN)\s+)?"
    rf"{_NAME}\s*$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Declare:
    name: str
    query: str
    binary: bool


@dataclass(frozen=True)
class Fetch:
    name: str
    count: int | None
    """Rows to fetch (None: all that are left)."""
    move: bool


def parse_declare(text: str) -> Declare:
    found = _DECLARE.match(text.strip())
    if found is None:
        raise StatementError(
            "only DECLARE name [BINARY] [NO SCROLL] CURSOR [WITH HOLD] FOR query is supported", "0A000"
        )
    return Declare(_identifier(found["name"]), found["query"], "BINARY" in found["flags"].upper())


def parse_fetch(text: str) -> Fetch:
    found = _FETCH.match(text.strip())
    if found is None:
        raise StatementError("only FETCH [FORWARD] [count | ALL | NEXT] [FROM] cursor is supported", "0A000")
    how = " ".join((found["how"] or "NEXT").upper().split())
    count = None if how.endswith("ALL") else 1 if how in ("NEXT", "FORWARD") else int(how.split()[-1])
    return Fetch(_identifier(found["name"]), count, found["verb"].upper() == "MOVE")


def parse_close(text: str) -> str | None:
    """The cursor a CLOSE names (None: ALL)."""
    found = re.match(rf"^CLOSE\s+{_NAME}\s*$", text.strip(), re.IGNORECASE)
    if found is None:
        raise StatementError("syntax error in CLOSE", "42601")
    name = _identifier(found["name"])
    return None if name.upper() == "ALL" and not found["name"].startswith('"') else name


def _identifier(text: str) -> str:
    return text[1:-1].replace('""', '"') if text.startswith('"') else text.lower()


# ---------------------------------------------------------------- queries and parameters


@functools.cache
def _postgres() -> Any:
    """sqlglot's PostgreSQL dialect, reading arrays of object identifiers too (``$1::oid[]``,
    ``regtype[]``: asyncpg's type introspection), as the numbers they are here."""
    from sqlglot import exp
    from sqlglot.dialects.postgres import Postgres
    from sqlglot.parsers.postgres import PostgresParser
    from sqlglot.tokens import TokenType

    class PostgresWire(Postgres):
        class Parser(PostgresParser):
            def _parse_types(self, *args: Any, **kwargs: Any) -> Any:
                parsed = super()._parse_types(*args, **kwargs)
                brackets = isinstance(parsed, exp.ObjectIdentifier) and self._match_pair(
                    TokenType.L_BRACKET, TokenType.R_BRACKET
                )
                if not brackets:
                    return parsed
                numbers = exp.DataType.build("BIGINT[]")
                numbers.meta["oid"] = True  # typed oid[] for the client
                return numbers

    return PostgresWire()


def parse_query(text: str) -> exp.Expression:
    """The client's query as a sqlglot expression (PostgreSQL dialect)."""
    import sqlglot

    try:
        parsed = [s for s in sqlglot.parse(text, read=_postgres()) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "unreadable statement"
        raise StatementError(f"syntax error: {first}", "42601") from None
    if len(parsed) != 1:
        raise StatementError("expected one statement", "42601")
    return cast("exp.Expression", parsed[0])


def parameter_numbers(expression: exp.Expression) -> list[int]:
    """The ``$n`` numbers the statement uses, sorted."""
    from sqlglot import exp

    return sorted({_number(p) for p in expression.find_all(exp.Parameter)})


def _number(parameter: exp.Parameter) -> int:
    try:
        return int(parameter.this.name)
    except (AttributeError, ValueError):
        raise StatementError("parameters are written $1, $2, …", "42601") from None


def infer_parameter_types(
    expression: exp.Expression, columns: Callable[[str | None, str], dict[str, int]]
) -> dict[int, int]:
    """The type of each ``$n`` the statement implies: the column it is compared with (also by IN or
    BETWEEN) or an array of its type (``= ANY($1)``, ``<> ALL($1)``), a CAST's target, LIMIT's and OFFSET's
    integer; ``columns(schema, table)`` gives a table's column types by name. A parameter it cannot
    tell is left out (the caller uses text)."""
    from sqlglot import exp

    from quanta.ports.sql import types as wt

    known: dict[str, int] = {}
    for table in expression.find_all(exp.Table):
        if table.name:
            for name, type_oid in columns(table.db or None, table.name).items():
                known.setdefault(name.lower(), type_oid)
    comparisons = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike, exp.In, exp.Between)
    found: dict[int, int] = {}
    for parameter in expression.find_all(exp.Parameter):
        parent = parameter.parent
        oid: int | None = None
        node: Any = parent
        while isinstance(node, exp.Paren):
            node = node.parent
        every = isinstance(node, exp.Anonymous) and str(node.name).lower() == "all"
        if (isinstance(node, exp.Any) or every) and isinstance(node.parent, comparisons):  # = ANY($1): an array
            column = node.parent.this if isinstance(node.parent.this, exp.Column) else None
            element = known.get(column.name.lower()) if column is not None else None
            oid = wt.ARRAYS.get(element) if element is not None else None
        elif isinstance(parent, exp.Cast):
            oid = _cast_oid(parent.to)
        elif isinstance(parent, exp.Limit | exp.Offset):
            oid = wt.INT8
        elif isinstance(parent, comparisons):
            column = next((c for c in (parent.this, parent.args.get("expression")) if isinstance(c, exp.Column)), None)
            oid = known.get(column.name.lower()) if column is not None else None
        if oid is not None:
            found.setdefault(_number(parameter), oid)
    return found


def _cast_oid(data_type: exp.DataType) -> int | None:
    from sqlglot import exp

    from quanta.ports.sql import types as wt

    kinds = {
        exp.DataType.Type.BIGINT: wt.INT8, exp.DataType.Type.INT: wt.INT4, exp.DataType.Type.SMALLINT: wt.INT2,
        exp.DataType.Type.DOUBLE: wt.FLOAT8, exp.DataType.Type.FLOAT: wt.FLOAT4, exp.DataType.Type.DECIMAL: wt.NUMERIC,
        exp.DataType.Type.BOOLEAN: wt.BOOL, exp.DataType.Type.DATE: wt.DATE, exp.DataType.Type.TIMESTAMP: wt.TIMESTAMP,
        exp.DataType.Type.TIMESTAMPTZ: wt.TIMESTAMPTZ, exp.DataType.Type.TEXT: wt.TEXT,
        exp.DataType.Type.VARCHAR: wt.VARCHAR, exp.DataType.Type.UUID: wt.UUID,
    }  # fmt: skip
    if data_type.meta.get("oid"):
        return wt.ARRAYS[wt.OID]
    if data_type.this == exp.DataType.Type.ARRAY and data_type.expressions:
        element = _cast_oid(data_type.expressions[0])
        return wt.ARRAYS.get(element) if element is not None else None
    return kinds.get(data_type.this)


LOGICAL_TYPES = {
    "string": 25, "integer": 20, "number": 701, "boolean": 16, "date": 1082, "timestamp": 1184, "time": 1083,
}  # fmt: skip
"""The PostgreSQL type of each logical type (arrays and objects travel as text)."""


def _is_true(node: exp.Expression) -> bool:
    """Whether ``node`` is the literal ``true`` (or a string PostgreSQL reads as true)."""
    from sqlglot import exp

    if isinstance(node, exp.Boolean):
        return bool(node.this)
    return isinstance(node, exp.Literal) and node.is_string and node.name.strip().lower() in ("t", "true", "on", "1")


def set_configs(expression: exp.Expression, values: list[Any]) -> list[tuple[str, str]]:
    """The (parameter, value) pairs the statement's ``set_config(name, value, is_local)`` calls set,
    in order; the name is a literal, the value a literal or a bound parameter (``values``)."""
    from sqlglot import exp

    changes = []
    for call in expression.find_all(exp.Anonymous):
        if str(call.name).lower() != "set_config":
            continue
        arguments = call.expressions
        if len(arguments) != 3 or not (isinstance(arguments[0], exp.Literal) and arguments[0].is_string):
            raise StatementError("set_config takes a parameter's name, a value and is_local", "42601")
        value = arguments[1]
        if isinstance(value, exp.Parameter) and 0 < _number(value) <= len(values):
            shown = values[_number(value) - 1]
        elif isinstance(value, exp.Literal):
            shown = value.name
        else:
            raise StatementError("set_config's value must be a literal or a parameter", "0A000")
        changes.append(settable(arguments[0].name, "" if shown is None else str(shown)))
    return changes


def session_functions(expression: exp.Expression, session: dict[str, str]) -> exp.Expression:
    """``expression`` with the session's own functions answered as literals: ``version()``,
    ``current_user``, ``session_user``, ``current_database()``, ``current_schema()``,
    ``current_schemas(…)``, ``pg_backend_pid()`` and ``current_setting(name)`` (an allow-listed
    parameter). ``session`` holds ``user``, ``database``, ``pid`` and the session parameters."""
    from sqlglot import exp

    def answer(node: exp.Expression) -> exp.Expression:
        target = node.expression if isinstance(node, exp.Dot) and _is_pg_catalog(node.this) else node
        value: exp.Expression | None = None
        if isinstance(target, exp.CurrentVersion):
            value = exp.Literal.string(VERSION)
        elif isinstance(target, exp.CurrentUser | exp.SessionUser):
            value = exp.Literal.string(session["user"])
        elif isinstance(target, exp.CurrentDatabase):
            value = exp.Literal.string(session["database"])
        elif isinstance(target, exp.CurrentSchema):
            value = exp.Literal.string("public")
        elif isinstance(target, exp.CurrentSchemas):
            value = exp.Array(expressions=[exp.Literal.string("public")])
        elif isinstance(target, exp.Anonymous):
            name = str(target.name).lower()
            if name == "version" and not target.expressions:
                value = exp.Literal.string(VERSION)
            elif name == "pg_backend_pid" and not target.expressions:
                value = exp.Literal.number(session["pid"])
            elif name == "set_config" and len(target.expressions) == 3:  # set by the session (set_configs)
                value = exp.cast(target.expressions[1].copy(), "text")
            elif name == "current_setting" and target.expressions and isinstance(target.expressions[0], exp.Literal):
                setting = target.expressions[0].name.lower()
                shown = session.get(setting, READ_ONLY.get(setting))
                missing_ok = len(target.expressions) > 1 and _is_true(target.expressions[1])
                if shown is None and not missing_ok:
                    raise StatementError(f'unrecognized configuration parameter "{setting}"', "42704")
                value = exp.Null() if shown is None else exp.Literal.string(shown)
        return value if value is not None else node

    return expression.transform(answer)


def _is_pg_catalog(node: exp.Expression) -> bool:
    return str(getattr(node, "name", "")).lower() == "pg_catalog"


def postgres_column_names(expression: exp.Expression) -> exp.Expression:
    """``expression`` with each unnamed output column aliased as PostgreSQL names it, so clients see
    ``count`` rather than DuckDB's ``count_star()``: a column keeps its name, a cast takes its
    operand's, a function call or ``CASE`` its own name, anything else ``?column?``. A name that
    would repeat another output column is left to the engine."""
    from sqlglot import exp

    select = expression
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return expression
    projections = select.expressions
    taken = {p.alias_or_name for p in projections if isinstance(p, exp.Alias | exp.Column)}
    named = []
    for projection in projections:
        name = None if isinstance(projection, exp.Alias | exp.Column | exp.Star) else _postgres_name(projection)
        if name is not None and name not in taken:
            taken.add(name)
            projection = exp.alias_(projection, name, quoted=True)
        named.append(projection)
    select.set("expressions", named)
    return expression


def _postgres_name(node: exp.Expression) -> str:
    from sqlglot import exp

    while isinstance(node, exp.Paren | exp.Cast):
        node = node.this
    if isinstance(node, exp.Dot) and _is_pg_catalog(node.this):  # pg_catalog.version()
        node = node.expression
    if isinstance(node, exp.CurrentVersion):
        return "version"
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Case):
        return "case"
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        text = node.sql(dialect="postgres")
        head = text.split("(", 1)[0].strip().lower()
        return head if head.replace("_", "").isalnum() and not head[:1].isdigit() else "?column?"
    return "?column?"
