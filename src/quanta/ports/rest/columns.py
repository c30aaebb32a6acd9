"""The columns a caller receives from a secured read: each with the logical type it has *after*
masking (a hashed or redacted string is a string; a nulled value keeps its type), so filters are
validated, and the OpenAPI typed, against what the caller really sees."""

from __future__ import annotations

from dataclasses import dataclass

from quanta.access import Decision
from quanta.catalog import SnapshotRecord
from quanta.spec.product import DataProduct


@dataclass(frozen=True)
class Column:
    """One visible property as the caller receives it."""

    name: str
    logical_type: str
    """The logical type after masking."""
    own_type: str
    """The property's own logical type."""
    mask: str | None = None
    """The mask kind applied (None: the value in clear)."""
    enum: tuple[str | int | float, ...] | None = None
    """Allowed values (only when unmasked: a masked value is none of them)."""
    description: str | None = None
    required: bool = False

    @property
    def nested(self) -> bool:
        return self.logical_type in ("array", "object")


def received_columns(spec: DataProduct, record: SnapshotRecord | None, decision: Decision) -> dict[str, Column]:
    """The decision's visible properties, in order, with the types the caller receives."""
    stored = {p["name"]: p.get("logicalType") for p in record.schema} if record is not None else {}
    columns: dict[str, Column] = {}
    for name in decision.visible:
        prop = spec.schema_.get(name)
        own = stored.get(name) or (prop.logical_type if prop else "string")
        rule = decision.masked.get(name)
        received = (rule.result_type or own) if rule is not None else own
        enum = tuple(prop.enum) if prop is not None and prop.enum and rule is None else None
        columns[name] = Column(
            name,
            received,
            own,
            rule.kind if rule is not None else None,
            enum,
            prop.description if prop else None,
            bool(prop and (prop.required or prop.primary_key)) and rule is None,
        )
    return columns
