"""Typed masks: what a classified property reads as, per logical type.

A mask kind is declared per classification in ``mesh.yaml`` (``masks:``) and may be overridden
per property in a grant. Each kind has a defined result per logical type (see
docs/guides/access.md); a NULL value stays NULL under every mask.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

MaskKind = Literal["null", "redact", "partial", "hash"]


def _yaml_null(value: object) -> object:
    return "null" if value is None else value


Mask = Annotated[MaskKind, BeforeValidator(_yaml_null)]
"""A mask kind in a spec; YAML's bare ``null`` means the ``null`` mask."""

MASK_KEY_VARIABLE = "QUANTA_MASK_KEY"
"""The environment variable holding the platform's one HMAC key for ``hash`` masks."""

DEFAULT_MASKS: dict[str, MaskKind] = {
    "pii": "redact",
    "sensitive": "redact",
    "confidential": "redact",
    "restricted": "null",
}
"""The mask of each classified classification when ``mesh.yaml`` declares none."""

_SCALAR = frozenset({"string", "integer", "number", "boolean", "date", "timestamp", "time"})
_ALL = _SCALAR | {"array", "object"}

MASK_TYPES: dict[str, frozenset[str]] = {
    "null": _ALL,
    "redact": _ALL,
    "partial": frozenset({"string"}),
    "hash": _SCALAR,
}
"""The logical types each mask kind is defined for."""


@dataclass(frozen=True)
class MaskRule:
    """How one property is masked: the kind and the property's logical type."""

    kind: MaskKind
    logical_type: str

    @property
    def result_type(self) -> str | None:
        """The logical type the caller receives: ``string`` or the property's own (None: unchanged)."""
        if self.kind == "hash" or (self.kind in ("redact", "partial") and self.logical_type == "string"):
            return "string"
        return None


def defined_for(kind: str, logical_type: str) -> bool:
    """Whether mask ``kind`` has a defined result for ``logical_type``."""
    return logical_type in MASK_TYPES.get(kind, frozenset())


def mask_for(classification: str | None, masks: Mapping[Any, str] | None = None) -> MaskKind:
    """The mesh's mask for ``classification`` (``masks`` over the defaults; ``redact`` otherwise)."""
    chosen = {**DEFAULT_MASKS, **(masks or {})}
    kind = chosen.get(classification or "", "redact")
    return kind  # type: ignore[return-value]


def mask_key() -> bytes | None:
    """The platform's mask key from ``QUANTA_MASK_KEY`` (None when unset or empty: hashes are NULL)."""
    value = os.environ.get(MASK_KEY_VARIABLE)
    return value.encode() if value else None
