"""One client connection to the SQL port: start-up and authentication, then the simple and the
extended query protocols. Every query runs through the data plane as the authenticated principal
(the gate, the decision, the secured relations, the audit); this module decides nothing itself.
Errors answer with their SQLSTATE and keep the connection, except protocol violations."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quanta.ports.sql import catalog, datarows
from quanta.ports.sql import protocol as pg
from quanta.ports.sql import statements as st
from quanta.ports.sql import types as wt
from quanta.ports.sql.scram import MECHANISM, ScramExchange, ScramFailed

if TYPE_CHECKING:
    from quanta.access import Principal
    from quanta.ports.sql.server import SqlPort

log = logging.getLogger("quanta.sql")


class SessionError(Exception):
    """A statement failed: answered with an ErrorResponse carrying ``sqlstate``; the session goes on."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class Fatal(Exception):
    """The connection ends after this error (authentication failures, protocol violations)."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@dataclass
class Result:
    """A query's answer: its columns (name, wire type) and its rows, an Arrow table."""

    names: list[str]
    types: list[wt.WireType]
    table: Any
    tag: str = "SELECT"

    @property
    def count(self) -> int:
        return int(self.table.num_rows)

    @functools.cached_property
    def rows(self) -> list[tuple[Any, ...]]:
        """The rows as Python tuples (for COPY)."""
        return self.rows_between(0, self.count)

    def rows_between(self, start: int, end: int) -> list[tuple[Any, ...]]:
        """Rows ``start`` to ``end`` as Python tuples (for binary and small results)."""
        columns = [column.to_pylist() for column in self.table.slice(start, end - start).columns]
        return list(zip(*columns, strict=True)) if columns else [()] * (end - start)


@dataclass(frozen=True)
class Planned:
    """A statement as it runs in one session state: with the session's functions answered, its
    parameter numbers, and the data plane's SQL (None: a catalog statement)."""

    source: Any
    session: tuple[tuple[str, str], ...]
    numbers: list[int]
    answered: Any
    sql: str | None


PLANNED_KEPT = 256
"""Planned queries a session keeps (the oldest are dropped beyond it)."""

SMALL_RESULT = 64
"""Rows up to which a text result is written value by value: Arrow's fixed cost per call is
more than a few rows' Python."""


@dataclass
class Prepared:
    text: str
    statement: st.Statement
    expression: Any
    parameter_types: list[int]
    described: Result | None = None


@dataclass
class Portal:
    prepared: Prepared
    values: list[Any]
    result_formats: list[int]
    result: Result | None = None
    sent: int = 0
    fields_sent: bool = field(default=False)


class Session:
    """The protocol state of one connection."""

    def __init__(self, port: SqlPort, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.port = port
        self.reader = reader
        self.writer = writer
        self.principal: Principal | None = None
        self.parameters = dict(st.SETTABLE)
        self.status = b"I"
        self.statements: dict[str, Prepared] = {}
        self.portals: dict[str, Portal] = {}
        self.cursors: dict[str, Portal] = {}
        self._interrupt: Callable[[], None] | None = None
        self._cancelled = False
        self.database = ""
        self.process_id = secrets.randbelow(2**31 - 1) + 1
        self.secret = secrets.randbits(31)
        self.source = _peer(writer)
        self.skip_to_sync = False
        self._planned: dict[int, Planned] = {}

    # ---------------------------------------------------------------- start-up

    async def run(self) -> None:
        try:
            if not await self._start():
                return
            self.port.register(self)
            try:
                await self._loop()
            finally:
                self.port.unregister(self)
        except Fatal as exc:
            await self._send(pg.error_response(exc.sqlstate, str(exc), "FATAL"))
        except pg.ProtocolViolation as exc:
            await self._send(pg.error_response("08P01", str(exc), "FATAL"))
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, TimeoutError, asyncio.CancelledError):
            pass  # the client went away, or the server stops
        finally:
            await self._close()

    async def _start(self) -> bool:
        """Read start-up packets (TLS first if asked) and authenticate; False for a cancel request."""
        tls = False
        while True:
            startup = await asyncio.wait_for(pg.read_startup(self.reader), self.port.options.startup_timeout_s)
            if startup.code == pg.SSL_REQUEST:
                if self.port.tls is None or tls:
                    await self._send(b"N")
                    continue
                await self._send(b"S")
                await self.writer.start_tls(self.port.tls)
                tls = True
                continue
            if startup.code == pg.GSSENC_REQUEST:
                await self._send(b"N")
                continue
            if startup.code == pg.CANCEL_REQUEST:
                self.port.cancel(startup.process_id, startup.secret)
                return False
            break
        if self.port.options.require_tls and not tls:
            raise Fatal("the SQL port accepts TLS connections only: connect with sslmode=require", "28000")
        user = startup.parameters.get("user", "")
        self.database = startup.parameters.get("database") or user
        if not user:
            raise Fatal("no user name given", "28000")
        for name, value in startup.parameters.items():
            if name.lower() in ("application_name", "datestyle", "timezone", "search_path", "extra_float_digits"):
                self.parameters[name.lower()] = value
        self.principal = await self._authenticate(user, tls)
        await self._send(pg.authentication_ok())
        for name in st.REPORTED:
            reported = self.parameters.get(name, st.READ_ONLY.get(name))
            if reported is not None:
                await self._send(pg.parameter_status(st.CANONICAL.get(name, name), reported), flush=False)
        await self._send(pg.parameter_status("session_authorization", user), flush=False)
        await self._send(pg.backend_key_data(self.process_id, self.secret), flush=False)
        await self._send(pg.ready_for_query(self.status))
        return True

    async def _authenticate(self, user: str, tls: bool) -> Principal:
        platform = self.port.platform
        wait = platform.limiter.retry_after(self.source)
        if wait is not None:
            raise Fatal(f"too many failed authentications: retry in {wait:.0f} s", "28000")
        if tls:
            await self._send(pg.authentication_cleartext())
            kind, body = await self._read()
            if kind != b"p":
                raise pg.ProtocolViolation("expected a password message")
            password = pg.Body(body).cstring()
            principal = await self._call(lambda: self._check_password(user, password))
        else:
            principal = await self._scram(user)
        if principal is None:
            platform.limiter.failed(self.source)
            raise Fatal(f'password authentication failed for user "{user}"', "28P01")
        return principal

    def _check_password(self, user: str, password: str) -> Principal | None:
        """The principal ``user`` if ``password`` is one of its API tokens or its SQL password."""
        from quanta.access.credentials import TOKEN_PREFIX, password_matches
        from quanta.errors import AccessDenied

        platform = self.port.platform
        if password.startswith(f"{TOKEN_PREFIX}_"):
            try:
                principal = platform.authenticate(password, source=self.source)
            except AccessDenied:
                return None
            return principal if principal.id == user else None
        verifier = platform.catalog.access.verifier(user)
        if verifier is None or not password_matches(verifier, password):
            return None
        platform.limiter.succeeded(self.source)
        return platform.principal(user)

    async def _scram(self, user: str) -> Principal | None:
        platform = self.port.platform
        verifier = await self._call(lambda: platform.catalog.access.verifier(user))
        exchange = ScramExchange(verifier, user)
        await self._send(pg.authentication_sasl([MECHANISM]))
        kind, body = await self._read()
        if kind != b"p":
            raise pg.ProtocolViolation("expected a SASL initial response")
        initial = pg.Body(body)
        mechanism = initial.cstring()
        if mechanism != MECHANISM:
            raise Fatal(f"SASL mechanism {mechanism} is not supported: use {MECHANISM}", "28000")
        length = initial.int32()
        try:
            await self._send(pg.authentication_sasl_continue(exchange.first(initial.take(length))))
            kind, body = await self._read()
            if kind != b"p":
                raise pg.ProtocolViolation("expected a SASL response")
            final = exchange.final(body)
        except ScramFailed:
            return None
        await self._send(pg.authentication_sasl_final(final), flush=False)
        platform.limiter.succeeded(self.source)
        return await self._call(lambda: platform.principal(user))

    # ---------------------------------------------------------------- messages

    async def _loop(self) -> None:
        while True:
            kind, body = await self._read(idle=True)
            if kind == b"X":
                return
            if self.skip_to_sync and kind not in (b"S", b"H"):
                continue
            try:
                await self._dispatch(kind, pg.Body(body))
            except (SessionError, st.StatementError, wt.BadParameter) as exc:
                await self._fail(getattr(exc, "sqlstate", "22P02"), str(exc), extended=kind != b"Q")
            except (pg.ProtocolViolation, ConnectionError, asyncio.IncompleteReadError, Fatal):
                raise
            except Exception:  # a bug of ours: said without internals, and the session goes on
                log.exception("SQL port: statement failed")
                await self._fail("XX000", "internal error: the statement failed on the server", extended=kind != b"Q")

    async def _dispatch(self, kind: bytes, body: pg.Body) -> None:
        handlers: dict[bytes, Callable[[pg.Body], Any]] = {
            b"Q": self._simple,
            b"P": self._parse,
            b"B": self._bind,
            b"D": self._describe,
            b"E": self._execute,
            b"C": self._close_message,
            b"S": self._sync,
            b"H": self._flush,
        }
        handler = handlers.get(kind)
        if handler is None:
            raise pg.ProtocolViolation(f"unexpected message type '{kind.decode('latin-1')}'")
        await handler(body)

    async def _fail(self, sqlstate: str, message: str, *, extended: bool) -> None:
        if self.status == b"T":
            self.status = b"E"
        await self._send(pg.error_response(sqlstate, message))
        if extended:
            self.skip_to_sync = True
        else:
            await self._send(pg.ready_for_query(self.status))

    # ---------------------------------------------------------------- simple query

    async def _simple(self, body: pg.Body) -> None:
        text = body.cstring()
        for statement in st.split(text):
            if statement.kind == "empty":
                await self._send(pg.empty_query_response(), flush=False)
                continue
            try:
                await self._run_statement(statement, None, [0])
            except (SessionError, st.StatementError, wt.BadParameter) as exc:
                await self._fail(getattr(exc, "sqlstate", "22P02"), str(exc), extended=False)
                return
        await self._send(pg.ready_for_query(self.status))

    async def _run_statement(self, statement: st.Statement, portal: Portal | None, formats: list[int]) -> None:
        """Run one statement of a simple query, sending its whole answer."""
        answer = self._control(statement)
        if answer is not None:
            for message in answer:
                await self._send(message, flush=False)
            return
        if statement.kind == "copy":
            await self._copy(statement)
            return
        if statement.kind in ("declare", "fetch", "close"):
            await self._cursor_command(statement, describe=True)
            return
        expression = self._query_expression(statement)
        result = await self._query(expression)
        await self._send(pg.row_description(self._fields(result, formats)), flush=False)
        await self._send_rows(result, 0, result.count, formats)
        await self._send(pg.command_complete(f"SELECT {result.count}"))

    def _query_expression(self, statement: st.Statement) -> Any:
        self._check_transaction()
        if statement.kind == "write":
            raise SessionError("cannot execute a write in a read-only SQL port: only SELECT is allowed", "25006")
        if statement.kind == "unknown":
            word = statement.text.split(None, 1)[0] if statement.text.strip() else ""
            raise SessionError(f'syntax error at or near "{word[:40]}"', "42601")
        if statement.kind != "query":
            verb = statement.text.split(None, 1)[0].upper() if statement.text.strip() else "?"
            raise SessionError(f"{verb} is not supported on the SQL port: only read-only queries are", "0A000")
        return st.parse_query(statement.text)

    def _check_transaction(self) -> None:
        if self.status == b"E":
            raise SessionError(
                "current transaction is aborted, commands ignored until end of transaction block", "25P02"
            )

    def _control(self, statement: st.Statement) -> list[bytes] | None:
        """The answer to a session command (None: not one)."""
        kind = statement.kind
        if kind in ("commit", "rollback"):
            tag = "ROLLBACK" if kind == "rollback" or self.status == b"E" else "COMMIT"
            messages = []
            if self.status == b"I":
                messages.append(pg.notice_response("25P01", "there is no transaction in progress"))
            if kind == "rollback" and " TO " in f" {statement.text.upper()} ":
                if self.status == b"E":
                    self.status = b"T"
                return [pg.command_complete("ROLLBACK")]
            self.status = b"I"
            for name in self.cursors:
                self.portals.pop(name, None)
            self.cursors.clear()
            return [*messages, pg.command_complete(tag)]
        if kind in ("query", "copy", "write", "other", "unknown", "declare", "fetch", "close"):
            return None
        self._check_transaction()
        if kind == "begin":
            if self.status == b"T":
                return [
                    pg.notice_response("25001", "there is already a transaction in progress"),
                    pg.command_complete("BEGIN"),
                ]
            if " READ WRITE" in statement.text.upper():
                raise SessionError("cannot open a read-write transaction: the SQL port is read-only", "25006")
            self.status = b"T"
            return [pg.command_complete("BEGIN")]
        if kind in ("savepoint", "release"):
            if self.status == b"I":
                raise SessionError(f"{kind.upper()} can only be used in transaction blocks", "25P01")
            return [pg.command_complete(kind.upper())]
        if kind == "set":
            parsed = st.parse_set(statement.text)
            messages = []
            if parsed is not None:
                name, value = parsed
                self.parameters[name] = value
                if name in st.REPORTED:
                    messages.append(pg.parameter_status(st.CANONICAL.get(name, name), value))
            return [*messages, pg.command_complete("SET")]
        if kind == "reset":
            name = statement.text.split(None, 1)[1].strip().lower() if len(statement.text.split()) > 1 else ""
            if name == "all":
                self.parameters = dict(st.SETTABLE)
            elif name in st.SETTABLE:
                self.parameters[name] = st.SETTABLE[name]
            else:
                raise SessionError(f'unrecognized configuration parameter "{name}"', "42704")
            return [pg.command_complete("RESET")]
        if kind == "discard":
            self.parameters = dict(st.SETTABLE)
            self.statements.clear()
            self.portals.clear()
            return [pg.command_complete("DISCARD ALL")]
        if kind == "deallocate":
            words = statement.text.split()
            name = words[-1].strip('"') if len(words) > 1 else ""
            if name.upper() == "ALL":
                self.statements.clear()
            else:
                self.statements.pop(name, None)
            return [pg.command_complete("DEALLOCATE ALL" if name.upper() == "ALL" else "DEALLOCATE")]
        if kind == "show":
            name = st.shown_name(statement.text)
            setting = self.parameters.get(name, st.READ_ONLY.get(name))
            if setting is None:
                raise SessionError(f'unrecognized configuration parameter "{name}"', "42704")
            shown = {"datestyle": "DateStyle", "timezone": "TimeZone"}.get(name, name)
            return [
                pg.row_description([pg.Field(shown, wt.TEXT, -1)]),
                pg.data_row([setting.encode()]),
                pg.command_complete("SHOW"),
            ]
        return None

    async def _copy(self, statement: st.Statement) -> None:
        self._check_transaction()
        query, file_format, header = st.parse_copy(statement.text)
        result = await self._query(st.parse_query(query))
        await self._send(pg.copy_out_response(len(result.names)), flush=False)
        encoders = [wt.text_encoder(t.oid) for t in result.types]
        if file_format == "csv":
            import csv
            import io

            buffer = io.StringIO()
            out = csv.writer(buffer, lineterminator="\n")
            if header:
                out.writerow(result.names)
            for row in result.rows:
                out.writerow(["" if v is None else encoders[i](v).decode() for i, v in enumerate(row)])
                if buffer.tell() > 65536:
                    await self._send(pg.copy_data(buffer.getvalue().encode()), flush=False)
                    buffer.seek(0)
                    buffer.truncate()
            if buffer.tell():
                await self._send(pg.copy_data(buffer.getvalue().encode()), flush=False)
        else:
            for row in result.rows:
                line = b"\t".join(b"\\N" if v is None else _copy_escape(encoders[i](v)) for i, v in enumerate(row))
                await self._send(pg.copy_data(line + b"\n"), flush=False)
        await self._send(pg.copy_done(), flush=False)
        await self._send(pg.command_complete(f"COPY {result.count}"))

    # ---------------------------------------------------------------- extended query

    async def _parse(self, body: pg.Body) -> None:
        name, text = body.cstring(), body.cstring()
        count = body.int16()
        declared = [body.int32() & 0xFFFFFFFF for _ in range(count)]
        statements = st.split(text)
        if len(statements) > 1:
            raise SessionError("cannot insert multiple commands into a prepared statement", "42601")
        statement = statements[0]
        expression = None
        types = list(declared)
        if statement.kind == "query":
            self._check_transaction()
            expression = st.parse_query(statement.text)
            numbers = st.parameter_numbers(expression)
            wanted = max(numbers, default=0)
            types += [0] * (wanted - len(types))
            inferred = st.infer_parameter_types(expression, self._column_types) if 0 in types else {}
            types = [t if t not in (0, wt.UNKNOWN) else inferred.get(i + 1, wt.TEXT) for i, t in enumerate(types)]
        if name and name in self.statements:
            raise SessionError(f'prepared statement "{name}" already exists', "42P05")
        self.statements[name] = Prepared(text, statement, expression, types)
        await self._send(pg.parse_complete(), flush=False)

    def _column_types(self, schema: str | None, table: str) -> dict[str, int]:
        """The wire types of a product table's columns, from its published schema (no data read)."""
        spec = self.port.platform.plane.resolve_table(schema, table)
        if spec is None:
            return {}
        return {p.name: st.LOGICAL_TYPES.get(p.logical_type, wt.TEXT) for p in spec.schema_.properties}

    async def _bind(self, body: pg.Body) -> None:
        portal_name, statement_name = body.cstring(), body.cstring()
        prepared = self.statements.get(statement_name)
        if prepared is None:
            raise SessionError(f'prepared statement "{statement_name}" does not exist', "26000")
        formats = [body.int16() for _ in range(body.int16())]
        count = body.int16()
        if count != len(prepared.parameter_types):
            raise SessionError(
                f"bind message supplies {count} parameters, but prepared statement requires "
                f"{len(prepared.parameter_types)}",
                "08P01",
            )
        values = []
        for i in range(count):
            length = body.int32()
            raw = None if length == -1 else body.take(length)
            binary = (formats[i] if len(formats) > 1 else (formats[0] if formats else 0)) == 1
            values.append(wt.read_parameter(raw, prepared.parameter_types[i], binary))
        result_formats = [body.int16() for _ in range(body.int16())]
        self.portals[portal_name] = Portal(prepared, values, result_formats)
        await self._send(pg.bind_complete(), flush=False)

    async def _describe(self, body: pg.Body) -> None:
        what, name = body.byte(), body.cstring()
        if what == b"S":
            prepared = self.statements.get(name)
            if prepared is None:
                raise SessionError(f'prepared statement "{name}" does not exist', "26000")
            await self._send(pg.parameter_description(prepared.parameter_types), flush=False)
            if prepared.expression is None:
                await self._send(self._control_description(prepared.statement), flush=False)
                return
            if prepared.described is None:
                nulls = [None] * len(prepared.parameter_types)
                prepared.described = await self._query(prepared.expression, nulls, limit=0)
            await self._send(pg.row_description(self._fields(prepared.described, [0])), flush=False)
            return
        portal = self.portals.get(name)
        if portal is None:
            raise SessionError(f'portal "{name}" does not exist', "34000")
        if portal.prepared.statement.kind == "fetch" and not st.parse_fetch(portal.prepared.statement.text).move:
            cursor = self._cursor(st.parse_fetch(portal.prepared.statement.text).name)
            await self._materialise(cursor)
            assert cursor.result is not None
            await self._send(pg.row_description(self._fields(cursor.result, cursor.result_formats)), flush=False)
            return
        if portal.prepared.expression is None:
            await self._send(self._control_description(portal.prepared.statement), flush=False)
            return
        await self._materialise(portal)
        assert portal.result is not None
        await self._send(pg.row_description(self._fields(portal.result, portal.result_formats)), flush=False)
        portal.fields_sent = True

    def _control_description(self, statement: st.Statement) -> bytes:
        if statement.kind == "show":
            return pg.row_description([pg.Field(st.shown_name(statement.text), wt.TEXT, -1)])
        return pg.no_data()

    async def _execute(self, body: pg.Body) -> None:
        name, limit = body.cstring(), body.int32()
        portal = self.portals.get(name)
        if portal is None:
            raise SessionError(f'portal "{name}" does not exist', "34000")
        prepared = portal.prepared
        if prepared.statement.kind == "empty":
            await self._send(pg.empty_query_response(), flush=False)
            return
        if prepared.expression is None:
            answer = self._control(prepared.statement)
            if answer is None:
                if prepared.statement.kind == "copy":
                    await self._copy(prepared.statement)
                    return
                if prepared.statement.kind in ("declare", "fetch", "close"):
                    await self._cursor_command(prepared.statement, describe=False)
                    return
                self._query_expression(prepared.statement)  # raises the reason
                return
            for message in answer:
                if message[:1] != b"T" or prepared.statement.kind != "show":
                    await self._send(message, flush=False)
            return
        await self._materialise(portal)
        result = portal.result
        assert result is not None
        end = result.count if limit <= 0 else min(result.count, portal.sent + limit)
        await self._send_rows(result, portal.sent, end, portal.result_formats)
        portal.sent = end
        if end < result.count:
            await self._send(pg.portal_suspended(), flush=False)
        else:
            await self._send(pg.command_complete(f"SELECT {result.count}"), flush=False)

    async def _materialise(self, portal: Portal) -> None:
        if portal.result is None:
            assert portal.prepared.expression is not None
            self._check_transaction()
            portal.result = await self._query(portal.prepared.expression, portal.values)

    def _cursor(self, name: str) -> Portal:
        cursor = self.cursors.get(name)
        if cursor is None:
            raise SessionError(f'cursor "{name}" does not exist', "34000")
        return cursor

    async def _cursor_command(self, statement: st.Statement, *, describe: bool) -> None:
        """DECLARE … CURSOR FOR, FETCH / MOVE and CLOSE: a cursor is a named portal kept by the session."""
        self._check_transaction()
        if statement.kind == "declare":
            declared = st.parse_declare(statement.text)
            if declared.name in self.cursors:
                raise SessionError(f'cursor "{declared.name}" already exists', "42P03")
            expression = self._query_expression(st.Statement("query", declared.query))
            prepared = Prepared(declared.query, st.Statement("query", declared.query), expression, [])
            cursor = Portal(prepared, [], [1 if declared.binary else 0])
            self.cursors[declared.name] = cursor
            self.portals[declared.name] = cursor  # clients describe it as a portal of that name
            await self._send(pg.command_complete("DECLARE CURSOR"), flush=False)
            return
        if statement.kind == "close":
            name = st.parse_close(statement.text)
            if name is None:
                for known in list(self.cursors):
                    self.portals.pop(known, None)
                self.cursors.clear()
            else:
                self._cursor(name)
                del self.cursors[name]
                self.portals.pop(name, None)
            await self._send(pg.command_complete("CLOSE CURSOR"), flush=False)
            return
        fetch = st.parse_fetch(statement.text)
        cursor = self._cursor(fetch.name)
        await self._materialise(cursor)
        result = cursor.result
        assert result is not None
        end = result.count if fetch.count is None else min(result.count, cursor.sent + fetch.count)
        if not fetch.move:
            if describe:
                await self._send(pg.row_description(self._fields(result, cursor.result_formats)), flush=False)
            await self._send_rows(result, cursor.sent, end, cursor.result_formats)
        moved, cursor.sent = end - cursor.sent, end
        await self._send(pg.command_complete(f"{'MOVE' if fetch.move else 'FETCH'} {moved}"), flush=False)

    async def _close_message(self, body: pg.Body) -> None:
        what, name = body.byte(), body.cstring()
        (self.statements if what == b"S" else self.portals).pop(name, None)
        await self._send(pg.close_complete(), flush=False)

    async def _sync(self, _: pg.Body) -> None:
        self.skip_to_sync = False
        self.portals.pop("", None)
        await self._send(pg.ready_for_query(self.status))

    async def _flush(self, _: pg.Body) -> None:
        await self.writer.drain()

    # ---------------------------------------------------------------- running queries

    async def _query(self, expression: Any, values: list[Any] | None = None, limit: int | None = None) -> Result:
        """Run a query through the data plane as the session's principal; ``values`` bind its
        ``$1``, ``$2``, … (by the engine: never spliced into the SQL)."""
        from quanta.errors import AccessDenied, NotFound, QuantaError
        from quanta.read.plane import QueryError

        principal = self.principal
        assert principal is not None
        for name, value in st.set_configs(expression, values or []):
            self.parameters[name] = value  # SELECT set_config(…): the session's, never the engine's
        own = {**self.parameters, "user": principal.id, "database": self.database, "pid": str(self.process_id)}
        planned = self._plan(expression, own)
        numbers = planned.numbers
        if numbers and (numbers[-1] > len(values or []) or numbers[0] < 1):
            raise SessionError(f"there is no parameter ${numbers[-1]}", "42P02")
        bound = list(values or [])[: numbers[-1]] if numbers else None
        try:
            if planned.sql is None:
                table = await self._call(lambda: self._catalog_query(planned.answered, bound, limit))
            else:
                plane = self.port.platform.plane
                sql = planned.sql

                def run() -> Any:
                    return plane.query(principal, sql, limit=limit, params=bound, on_start=self._started)

                table = await self._call(run)
        except QueryError as exc:
            raise SessionError(str(exc), exc.sqlstate) from None
        except AccessDenied as exc:
            raise SessionError(f"permission denied: {exc}", "42501") from None
        except NotFound as exc:
            raise SessionError(str(exc), "42P01") from None
        except QuantaError as exc:
            raise SessionError(str(exc), "XX000") from None
        names = list(table.schema.names)
        types = [wt.wire_type(f.type) for f in table.schema]
        if planned.sql is None:  # the catalog's arrays of numbers are oid[], as PostgreSQL's are
            types = [wt.WireType(wt.ARRAYS[wt.OID]) if t.oid == wt.ARRAYS[wt.INT8] else t for t in types]
        return Result(names, types, table)

    def _plan(self, expression: Any, own: dict[str, str]) -> Planned:
        """``expression`` with the session's functions answered, and the data plane's SQL for it
        (kept for the same expression run again in the same session state)."""
        session = tuple(sorted(own.items()))
        kept = self._planned.get(id(expression))
        if kept is not None and kept.source is expression and kept.session == session:
            return kept
        answered = st.session_functions(st.postgres_column_names(expression.copy()), own)  # named as written
        sql = None if catalog.is_catalog_statement(answered) else answered.sql(dialect="duckdb")
        planned = Planned(expression, session, st.parameter_numbers(answered), answered, sql)
        if sql is not None:  # a catalog statement is rewritten on each run
            if len(self._planned) >= PLANNED_KEPT:
                del self._planned[next(iter(self._planned))]
            self._planned[id(expression)] = planned
        return planned

    def _catalog_query(self, expression: Any, params: list[Any] | None, limit: int | None) -> Any:
        """A catalog query, answered by this principal's metadata-only database (no product data)."""
        principal = self.principal
        assert principal is not None
        database = self.port.catalog_database(principal, self.database)
        statement = catalog.checked(catalog.rewrite(expression))
        sql = statement.sql(dialect="duckdb")
        if limit is not None:
            sql = f"SELECT * FROM ({sql}) AS limited LIMIT {int(limit)}"
        cursor = database.cursor()
        try:
            self._started(cursor.interrupt)  # a cancel or the statement timeout stops it too
            return cursor.sql(sql, params=params or None).to_arrow_table()
        except SessionError:
            raise
        except Exception as exc:  # DuckDB's error, shown as the catalog's
            raise SessionError(str(exc).splitlines()[0], catalog.sqlstate_of(str(exc))) from None
        finally:
            cursor.close()

    async def _call(self, function: Callable[[], Any]) -> Any:
        loop = asyncio.get_running_loop()
        self._cancelled = False
        future = loop.run_in_executor(self.port.executor, function)
        try:
            timeout = _timeout_s(self.parameters.get("statement_timeout", "0")) or self.port.options.statement_timeout_s
            return await asyncio.wait_for(asyncio.shield(future), timeout) if timeout else await future
        except TimeoutError:
            self.cancel()
            with contextlib.suppress(Exception):
                await future  # the interrupted statement's own error is not the answer
            raise SessionError("canceling statement due to statement timeout", "57014") from None
        finally:
            self._interrupt = None

    def _started(self, interrupt: Callable[[], None]) -> None:
        """The running query's interrupt (called on a worker thread as the query starts); a statement
        cancelled before its query starts (while the catalog is built, say) never starts it."""
        self._interrupt = interrupt
        if self._cancelled:
            raise SessionError("canceling statement due to user request", "57014")

    def cancel(self) -> None:
        """Interrupt the running statement, if any (a CancelRequest, a statement timeout)."""
        self._cancelled = True
        interrupt = self._interrupt
        if interrupt is not None:
            interrupt()

    def _fields(self, result: Result, formats: list[int]) -> list[pg.Field]:
        fields = []
        for i, (name, wire) in enumerate(zip(result.names, result.types, strict=True)):
            chosen = _format_of(formats, i)
            if chosen == 1 and wt.binary_encoder(wire.oid) is None:
                raise SessionError(f"binary format is not supported for type {wt.NAMES.get(wire.oid)}", "0A000")
            fields.append(pg.Field(name, wire.oid, wire.size, -1, chosen))
        return fields

    async def _send_rows(self, result: Result, start: int, end: int, formats: list[int]) -> None:
        text = all(_format_of(formats, i) == 0 for i in range(len(result.types)))
        if result.types and text and end - start > SMALL_RESULT:
            for first in range(start, end, datarows.CHUNK_ROWS):  # text: whole batches at a time
                piece = result.table.slice(first, min(datarows.CHUNK_ROWS, end - first))
                columns = [datarows.text_values(piece.column(i), wire.oid) for i, wire in enumerate(result.types)]
                await self._send(datarows.data_rows(columns), flush=end - first > datarows.CHUNK_ROWS)
            return
        encoders = []
        for i, wire in enumerate(result.types):
            encoder = wt.binary_encoder(wire.oid) if _format_of(formats, i) == 1 else wt.text_encoder(wire.oid)
            assert encoder is not None
            encoders.append(encoder)
        chunk: list[bytes] = []
        for row in result.rows_between(start, end):
            chunk.append(pg.data_row([None if v is None else encoders[i](v) for i, v in enumerate(row)]))
            if len(chunk) >= 1000:
                await self._send(b"".join(chunk), flush=True)
                chunk = []
        if chunk:
            await self._send(b"".join(chunk), flush=False)

    # ---------------------------------------------------------------- I/O

    async def _read(self, idle: bool = False) -> tuple[bytes, bytes]:
        timeout = self.port.options.idle_timeout_s if idle else self.port.options.startup_timeout_s
        try:
            return await asyncio.wait_for(pg.read_message(self.reader, self.port.options.max_message), timeout or None)
        except TimeoutError:
            await self._send(pg.error_response("57P05", "terminating connection due to idle timeout", "FATAL"))
            raise

    async def _send(self, data: bytes, flush: bool = True) -> None:
        self.writer.write(data)
        if flush:
            await self.writer.drain()

    async def _close(self) -> None:
        try:
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        except (ConnectionError, TimeoutError, ssl.SSLError, OSError):
            pass


def _format_of(formats: list[int], index: int) -> int:
    if not formats:
        return 0
    return formats[index] if len(formats) > 1 else formats[0]


def _timeout_s(value: str) -> float:
    text = value.strip().lower()
    try:
        for unit, factor in (("ms", 0.001), ("s", 1.0), ("min", 60.0)):
            if text.endswith(unit):
                return float(text[: -len(unit)]) * factor
        return float(text) / 1000
    except ValueError:
        return 0.0


def _copy_escape(value: bytes) -> bytes:
    return value.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n").replace(b"\r", b"\\r")


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else "local"
