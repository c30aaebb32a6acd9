"""The REST port's reads: rows of a product major (filtered, projected, sorted, paginated with
signed cursors) and lookups by primary key — all over the secured relation the data plane builds
for the caller, so masks and the row filter apply before anything the request adds."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from quanta.access import Principal
from quanta.errors import BadRequest, Gone, NotFound
from quanta.ports.rest import seek
from quanta.ports.rest.columns import Column, received_columns
from quanta.ports.rest.cursor import CursorSigner, CursorState, entity_tag
from quanta.ports.rest.filters import Filter, condition, typed_value
from quanta.ports.rest.formats import MEDIA_TYPES, dumps, encode
from quanta.ports.rest.request import RowsQuery, SortKey, parse_fields, parse_query, parse_selector, split_params
from quanta.read.plane import DataPlane, SecuredRead, Selector
from quanta.spec.product import DataProduct

if TYPE_CHECKING:
    from quanta.spec.ports import RestPortOptions

BATCH_ROWS = 16_384


def rest_port(spec: DataProduct) -> tuple[str, RestPortOptions]:
    """The id and options of the product's REST port; :class:`NotFound` when it has none."""
    from quanta.spec.ports import RestPortOptions

    for port in spec.outputs:
        if port.type == "rest":
            options = port.options if isinstance(port.options, RestPortOptions) else RestPortOptions()
            return port.id, options
    raise NotFound(f"{spec.ref} v{spec.major} has no rest port")


@dataclass
class Page:
    """A response ready to stream: its headers' facts, then ``chunks()`` (run only when sent)."""

    snapshot_id: str
    etag: str
    media_type: str
    chunks: Callable[[], Iterator[bytes]]
    next_cursor: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    """The whole body when it is already in memory (a lookup's row): sent as is, not streamed."""


class RestReads:
    """Rows and lookups for one platform's data plane."""

    def __init__(self, plane: DataPlane, signer: CursorSigner, generation: Callable[[Principal], int]) -> None:
        self.plane = plane
        self.signer = signer
        self.generation = generation
        self._lookups: dict[tuple[Any, ...], tuple[str, tuple[str, ...]]] = {}

    def product(self, domain: str, name: str, major: int) -> DataProduct:
        """The published product major with a REST port."""
        spec = self.plane.product(f"{domain}.{name}@v{major}")
        rest_port(spec)
        return spec

    def secure(self, principal: Principal, spec: DataProduct, selector: Selector) -> SecuredRead:
        port, _ = rest_port(spec)
        return self.plane.secure(principal, spec, port, selector)

    # ---------------------------------------------------------------- rows

    def rows(self, principal: Principal, spec: DataProduct, items: Sequence[tuple[str, str]], file_format: str) -> Page:
        """A page of rows; with ``cursor=`` the page that cursor points at (same snapshot and query)."""
        reserved, filters = split_params(items)
        reserved.pop("format", None)
        _, options = rest_port(spec)
        start: list[Any] | None = None
        skip = 0
        if "cursor" in reserved:
            if len(reserved) > 1 or filters:
                raise BadRequest("a cursor carries its query: send it alone (format= may change)", "cursor")
            state = self.signer.verify(reserved["cursor"])
            if state.product != spec.key:
                raise BadRequest(f"the cursor belongs to {state.product}, not {spec.key}", "cursor")
            if state.principal != principal.id:
                raise BadRequest("the cursor was issued to another principal", "cursor")
            try:
                read = self.secure(principal, spec, Selector(snapshot_id=state.snapshot))
            except NotFound:
                raise Gone(
                    f"snapshot {state.snapshot} of {spec.key} was collected: start again without the cursor"
                ) from None
            columns = received_columns(spec, read.snapshot, read.decision)
            query = RowsQuery.from_normalised(state.query, columns)
            start, skip = state.start, state.skip
        else:
            snapshot_id, as_of = parse_selector(reserved)
            read = self.secure(principal, spec, Selector(snapshot_id, as_of))
            columns = received_columns(spec, read.snapshot, read.decision)
            query = parse_query(columns, reserved, filters, options.max_page_size)
        order = _order(read.spec, columns, query)
        if start is not None and len(start) != len(order):
            raise BadRequest("the cursor is not valid: its position does not fit the query", "cursor")
        window = _Window(read, columns, query, order, seek.decode(start) if start is not None else None, skip)
        params: dict[str, Any] = {}
        statement = window.select(file_format, params)
        request = {"rows": query.normalised(), "start": start, "skip": skip, "format": file_format}
        tag = entity_tag(read.snapshot.id, request, read.fingerprint, self.generation(principal))
        page = Page(read.snapshot.id, tag, MEDIA_TYPES[file_format], lambda: iter(()))

        def prepare() -> Iterator[bytes]:
            following = window.next_start(self.plane)
            if following is not None:
                values, skipped = following
                state = CursorState(
                    spec.key, read.snapshot.id, principal.id, query.normalised(), seek.encode(values), skipped
                )
                page.next_cursor = self.signer.sign(state)
            return self._stream(read, statement, params, file_format, page, query)

        page.chunks = prepare
        return page

    def _stream(
        self,
        read: SecuredRead,
        statement: exp.Select,
        params: dict[str, Any],
        file_format: str,
        page: Page,
        query: RowsQuery,
    ) -> Iterator[bytes]:
        sql = statement.sql(dialect="duckdb")
        filters = audited_filters(query)
        stream = self.plane.stream(read, sql, params or None, BATCH_ROWS, statement="rows", filters=filters)
        head = '{"snapshot":' + dumps(page.snapshot_id) + ',"items":['
        return encode(stream, stream.schema, file_format, head, lambda: '],"next":' + dumps(page.next_cursor) + "}")

    def _select(
        self, read: SecuredRead, columns: dict[str, Column], query: RowsQuery, params: dict[str, Any], file_format: str
    ) -> exp.Select:
        """Unordered: a lookup by key has at most one row (and Top-N would read the file twice)."""
        names = query.fields or tuple(columns)
        select = exp.select(*(_output(columns[n], file_format) for n in names)).from_(read.relation.subquery("secured"))
        where = condition(query.filters, params)
        return select.where(where) if where is not None else select

    # ---------------------------------------------------------------- lookup by primary key

    def lookup(
        self, principal: Principal, spec: DataProduct, key: str, items: Sequence[tuple[str, str]], file_format: str
    ) -> Page:
        """The row whose primary key is ``key`` (comma-separated in key order for a composite key)."""
        reserved, filters = split_params(items)
        reserved.pop("format", None)
        extra = [n for n in reserved if n not in ("fields", "as_of", "snapshot")] + [n for n, _ in filters]
        if extra:
            raise BadRequest(f"'{extra[0]}' does not apply to a lookup by key", extra[0])
        names = spec.schema_.primary_key
        if not names:
            raise BadRequest(f"{spec.ref} has no primary key: filter /rows instead", "key")
        snapshot_id, as_of = parse_selector(reserved)
        read = self.secure(principal, spec, Selector(snapshot_id, as_of))
        columns = received_columns(spec, read.snapshot, read.decision)
        parts = key.split(",") if len(names) > 1 else [key]
        if len(parts) != len(names):
            raise BadRequest(
                f"the key of {spec.ref} has {len(names)} parts ({', '.join(names)}), not {len(parts)}", "key"
            )
        hidden = [n for n in names if n not in columns]
        if hidden:
            raise BadRequest(f"key property '{hidden[0]}' is not visible to you", "key")
        filters_ = tuple(Filter(n, "eq", (typed_value(columns[n], p),)) for n, p in zip(names, parts, strict=True))
        fields = parse_fields(columns, reserved["fields"]) if "fields" in reserved else ()
        query = RowsQuery(filters_, fields, (), 2)
        request = {"lookup": query.normalised(), "format": file_format}
        tag = entity_tag(read.snapshot.id, request, read.fingerprint, self.generation(principal))
        sql, params = self._lookup_statement(read, columns, query, file_format)
        missing = f"{spec.ref} v{spec.major} has no row with key {key} (snapshot {read.snapshot.id})"
        if file_format == "json":  # the common case: Python values straight to JSON, no Arrow
            found = self.plane.records(read, sql, params or None, statement="lookup", filters=audited_filters(query))
            if not found:
                raise NotFound(missing)
            body = dumps(found[0]).encode()
            return Page(read.snapshot.id, tag, MEDIA_TYPES["json"], lambda: iter((body,)), body=body)
        table = self.plane.rows(read, sql, params or None, statement="lookup", filters=audited_filters(query))
        if table.num_rows == 0:
            raise NotFound(missing)
        batches = table.slice(0, 1).to_batches()
        return Page(read.snapshot.id, tag, MEDIA_TYPES[file_format], lambda: encode(batches, table.schema, file_format))

    def _lookup_statement(
        self, read: SecuredRead, columns: dict[str, Column], query: RowsQuery, file_format: str
    ) -> tuple[str, dict[str, Any]]:
        """A lookup's SQL and its parameters. The SQL depends only on the secured read, the key's
        properties, the fields and the format, so it is built once and reused with each key's
        values (building and rendering it took most of a lookup's Python time)."""
        shape = (read.fingerprint, tuple(f.name for f in query.filters), query.fields, file_format)
        values = [f.values[0] for f in query.filters]
        cached = self._lookups.get(shape)
        if cached is None:
            params: dict[str, Any] = {}
            sql = self._select(read, columns, query, params, file_format).limit(2).sql(dialect="duckdb")
            if len(self._lookups) >= _LOOKUP_CACHE:
                self._lookups.clear()
            cached = self._lookups[shape] = (sql, tuple(params))
        sql, names = cached
        return sql, dict(zip(names, values, strict=True))


_LOOKUP_CACHE = 4096
"""Lookup statements kept (by secured read, key properties, fields and format) before starting over."""


def audited_filters(query: RowsQuery) -> dict[str, Any]:
    """A query's filters as the audit keeps them: property → [[op, values], …] (the read path
    replaces the values of classified properties)."""
    shown: dict[str, Any] = {}
    for name, op, values in (f.normalised() for f in query.filters):
        shown.setdefault(name, []).append([op, values])
    return shown


def _output(column: Column, file_format: str) -> Any:
    """A column as selected: nested values become JSON text in CSV, which has no nested types."""
    value = exp.column(column.name, quoted=True)
    if file_format == "csv" and column.nested:
        text = exp.cast(exp.Anonymous(this="to_json", expressions=[value]), exp.DataType.build("VARCHAR"))
        return exp.alias_(text, column.name, quoted=True)
    return value


@dataclass(frozen=True)
class _Window:
    """One page of a rows query: the rows at or after ``start`` in ``order`` (all rows when None),
    ``skip`` of them passed over, then ``query.limit`` rows (see :mod:`quanta.ports.rest.seek`)."""

    read: SecuredRead
    columns: dict[str, Column]
    query: RowsQuery
    order: list[SortKey]
    start: list[Any] | None
    skip: int

    def _from(self, params: dict[str, Any], *projection: exp.Expression) -> exp.Select:
        select = exp.select(*projection).from_(self.read.relation.subquery("secured"))
        parts = [c for c in (condition(self.query.filters, params), self._seek(params)) if c is not None]
        return select.where(exp.and_(*parts)) if parts else select

    def _seek(self, params: dict[str, Any]) -> exp.Condition | None:
        if self.start is None or not self.order:
            return None
        trusted = self.read.snapshot.status == "published"  # its blocking checks passed: required means non-null
        non_null = {n for n, c in self.columns.items() if c.required} if trusted else set()
        return seek.at_or_after(self.order, self.start, non_null, params)

    def _ordered(self, select: exp.Select) -> exp.Select:
        if not self.order:
            return select
        return select.order_by(
            *(exp.Ordered(this=exp.column(k.name, quoted=True), desc=k.descending) for k in self.order)
        )

    def select(self, file_format: str, params: dict[str, Any]) -> exp.Select:
        """The page's rows, as the caller asked for them."""
        names = self.query.fields or tuple(self.columns)
        select = self._ordered(self._from(params, *(_output(self.columns[n], file_format) for n in names)))
        select = select.limit(self.query.limit)
        return select.offset(self.skip) if self.skip else select

    def next_start(self, plane: DataPlane) -> tuple[list[Any], int] | None:
        """Where the next page starts — its first row's sort values and how many rows equal to them
        this and earlier pages returned — or None when this page is the last. One Top-N of the sort
        columns alone (the last row of this page and the first of the next); a count only when
        the two are equal in every sort column (rows told apart by nothing but their number)."""
        params: dict[str, Any] = {}
        keys: list[exp.Expression] = [exp.column(k.name, quoted=True) for k in self.order] or [exp.Literal.number(1)]
        end = self.skip + self.query.limit
        probe = self._ordered(self._from(params, *keys)).limit(2).offset(end - 1)
        found = plane.probe(self.read, probe.sql(dialect="duckdb"), params or None)
        if len(found) < 2:
            return None
        names = [k.name for k in self.order]
        last, first = ([row[n] for n in names] for row in found)
        if not self.order:  # no order: an offset, the only position there is
            return [], end
        if not seek.equal(last, first):
            return first, 0
        counted: dict[str, Any] = {}
        select = self._from(counted, exp.Count(this=exp.Star()))
        select = select.where(seek.before(self.order, first, counted))
        ((earlier,),) = (
            tuple(r.values()) for r in plane.probe(self.read, select.sql(dialect="duckdb"), counted or None)
        )
        return first, end - int(earlier)


def _order(spec: DataProduct, columns: dict[str, Column], query: RowsQuery) -> list[SortKey]:
    """The total order of a rows query: its sort, then the tie-breaking columns."""
    chosen = {k.name for k in query.sort}
    return [*query.sort, *(SortKey(n) for n in _tiebreak(spec, columns) if n not in chosen)]


def _tiebreak(spec: DataProduct, columns: dict[str, Column]) -> list[str]:
    """Columns that make the order total (pages never overlap): the primary key when the caller sees
    it in clear, else every visible scalar column (rows equal in all of them are indistinguishable)."""
    key = spec.schema_.primary_key
    if key and all(n in columns and columns[n].mask is None for n in key):
        return key
    return [c.name for c in columns.values() if not c.nested]
