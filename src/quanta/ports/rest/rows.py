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
from quanta.ports.rest.columns import Column, received_columns
from quanta.ports.rest.cursor import CursorSigner, CursorState, entity_tag
from quanta.ports.rest.filters import Filter, condition, typed_value
from quanta.ports.rest.formats import MEDIA_TYPES, dumps, encode
from quanta.ports.rest.request import RowsQuery, parse_fields, parse_query, parse_selector, split_params
from quanta.read.plane import DataPlane, SecuredRead, Selector
from quanta.spec.product import DataProduct

if TYPE_CHECKING:
    from quanta.spec.ports import RestPortOptions

BATCH_ROWS = 65_536


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


class RestReads:
    """Rows and lookups for one platform's data plane."""

    def __init__(self, plane: DataPlane, signer: CursorSigner, generation: Callable[[Principal], int]) -> None:
        self.plane = plane
        self.signer = signer
        self.generation = generation

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
            query, offset = RowsQuery.from_normalised(state.query, columns), state.offset
        else:
            snapshot_id, as_of = parse_selector(reserved)
            read = self.secure(principal, spec, Selector(snapshot_id, as_of))
            columns = received_columns(spec, read.snapshot, read.decision)
            query, offset = parse_query(columns, reserved, filters, options.max_page_size), 0
        params: dict[str, Any] = {}
        statement = self._select(read, columns, query, params, file_format)
        request = {"rows": query.normalised(), "offset": offset, "format": file_format}
        tag = entity_tag(read.snapshot.id, request, read.fingerprint, self.generation(principal))
        state = CursorState(spec.key, read.snapshot.id, principal.id, query.normalised(), offset + query.limit)
        probe = self._probe(read, statement, offset + query.limit)
        page = Page(read.snapshot.id, tag, MEDIA_TYPES[file_format], lambda: iter(()))

        def chunks() -> Iterator[bytes]:
            return self._stream(read, statement.limit(query.limit).offset(offset), params, file_format, page, query)

        def prepare() -> Iterator[bytes]:
            has_next = self.plane.has_rows(read, probe.sql(dialect="duckdb"), params or None)
            page.next_cursor = self.signer.sign(state) if has_next else None
            return chunks()

        page.chunks = prepare
        return page

    def _select(
        self,
        read: SecuredRead,
        columns: dict[str, Column],
        query: RowsQuery,
        params: dict[str, Any],
        file_format: str,
        *,
        ordered: bool = True,
    ) -> exp.Select:
        names = query.fields or tuple(columns)
        projection = [_output(columns[n], file_format) for n in names]
        select = exp.select(*projection).from_(read.relation.subquery("secured"))
        where = condition(query.filters, params)
        if where is not None:
            select = select.where(where)
        if not ordered:  # a lookup by key: at most one row (and Top-N would read the file twice)
            return select
        order = [exp.Ordered(this=exp.column(k.name, quoted=True), desc=k.descending) for k in query.sort]
        chosen = {k.name for k in query.sort}
        order += [
            exp.Ordered(this=exp.column(n, quoted=True)) for n in _tiebreak(read.spec, columns) if n not in chosen
        ]
        return select.order_by(*order) if order else select

    def _probe(self, read: SecuredRead, statement: exp.Select, skip: int) -> exp.Select:
        """Whether a row follows the page: one row at ``skip`` of the same filtered order."""
        probe = exp.select(exp.Literal.number(1)).from_(read.relation.subquery("secured"))
        where = statement.args.get("where")
        if where is not None:
            probe.set("where", where.copy())
        return probe.limit(1).offset(skip)

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
        params: dict[str, Any] = {}
        query = RowsQuery(filters_, fields, (), 2)
        statement = self._select(read, columns, query, params, file_format, ordered=False).limit(2)
        request = {"lookup": query.normalised(), "format": file_format}
        tag = entity_tag(read.snapshot.id, request, read.fingerprint, self.generation(principal))
        sql = statement.sql(dialect="duckdb")
        missing = f"{spec.ref} v{spec.major} has no row with key {key} (snapshot {read.snapshot.id})"
        if file_format == "json":  # the common case: Python values straight to JSON, no Arrow
            found = self.plane.records(read, sql, params or None, statement="lookup", filters=audited_filters(query))
            if not found:
                raise NotFound(missing)
            body = dumps(found[0]).encode()
            return Page(read.snapshot.id, tag, MEDIA_TYPES["json"], lambda: iter((body,)))
        table = self.plane.rows(read, sql, params or None, statement="lookup", filters=audited_filters(query))
        if table.num_rows == 0:
            raise NotFound(missing)
        batches = table.slice(0, 1).to_batches()
        return Page(read.snapshot.id, tag, MEDIA_TYPES[file_format], lambda: encode(batches, table.schema, file_format))


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


def _tiebreak(spec: DataProduct, columns: dict[str, Column]) -> list[str]:
    """Columns that make the order total (pages never overlap): the primary key when the caller sees
    it in clear, else every visible scalar column (rows equal in all of them are indistinguishable)."""
    key = spec.schema_.primary_key
    if key and all(n in columns and columns[n].mask is None for n in key):
        return key
    return [c.name for c in columns.values() if not c.nested]
