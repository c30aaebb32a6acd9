"""Products by SQL name: ``<domain>.<product>`` is the highest published major,
``<domain>.<product>_v<N>`` pins major N (names from :func:`quanta.spec.index.sql_identifier`)."""

from __future__ import annotations

from collections.abc import Iterable

from quanta.spec.index import sql_identifier
from quanta.spec.product import DataProduct


class SqlNames:
    """Look-ups from ``(schema, table)`` to the product major it names."""

    def __init__(self, products: Iterable[DataProduct]) -> None:
        self._by_name: dict[tuple[str, str], DataProduct] = {}
        latest: dict[tuple[str, str], DataProduct] = {}
        for spec in products:
            schema, table = sql_identifier(spec.domain or "proposed"), sql_identifier(spec.name)
            self._by_name[(schema, f"{table}_v{spec.major}")] = spec
            known = latest.get((schema, table))
            if known is None or spec.major > known.major:
                latest[(schema, table)] = spec
        self._by_name.update(latest)

    def resolve(self, schema: str | None, table: str) -> DataProduct | None:
        if schema is None:
            return None
        return self._by_name.get((schema.lower(), table.lower()))
