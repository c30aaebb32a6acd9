"""The schema of a product's output table: ODCS-style properties."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from quanta.spec.base import Name, PropertyName, Regex, SpecModel

LogicalType = Literal["string", "integer", "number", "boolean", "date", "timestamp", "time", "array", "object"]
Classification = Literal["public", "internal", "confidential", "restricted", "pii", "sensitive"]

CLASSIFIED: frozenset[str] = frozenset({"confidential", "restricted", "pii", "sensitive"})
"""Classifications that are masked on every port unless a grant unmasks them."""

_ORDERED = {"integer", "number", "date", "timestamp", "time"}


class LogicalTypeOptions(SpecModel):
    """Constraints on values (ODCS ``logicalTypeOptions``); each implies a blocking check."""

    minimum: float | str | None = None
    """Smallest allowed value (numbers, or ISO dates/timestamps as strings)."""
    maximum: float | str | None = None
    """Largest allowed value."""
    exclusive_minimum: float | str | None = None
    """Values must be strictly greater."""
    exclusive_maximum: float | str | None = None
    """Values must be strictly smaller."""
    min_length: int | None = Field(default=None, ge=0)
    """Shortest allowed string."""
    max_length: int | None = Field(default=None, ge=0)
    """Longest allowed string."""
    pattern: Regex | None = None
    """Regular expression every string value must match."""
    format: str | None = None
    """A named format, e.g. ``email``, ``uri``, ``uuid`` (documentation and checks)."""
    precision: int | None = Field(default=None, ge=1, le=38)
    """Total digits of a decimal number."""
    scale: int | None = Field(default=None, ge=0, le=38)
    """Digits after the decimal point."""


class Property(SpecModel):
    """One column of the product's public table."""

    name: PropertyName
    """Column name; snake_case so it is a SQL identifier everywhere."""
    logical_type: LogicalType
    """ODCS logical type."""
    physical_type: str | None = None
    """Engine type when it must be pinned (e.g. ``DECIMAL(12,2)``); derived otherwise."""
    description: str | None = None
    """What the value means, with unit and source; shown in the catalog."""
    required: bool = False
    """Never null (blocking check)."""
    unique: bool = False
    """No two rows share a value (blocking check)."""
    primary_key: bool = False
    """Part of the primary key: unique and not null (blocking checks)."""
    primary_key_position: int | None = Field(default=None, ge=1)
    """Position in a composite primary key."""
    classification: Classification | None = None
    """Sensitivity; ``pii``, ``sensitive``, ``confidential`` and ``restricted`` are masked unless unmasked."""
    enum: list[str | int | float] | None = Field(default=None, min_length=1)
    """Allowed values (blocking check)."""
    logical_type_options: LogicalTypeOptions | None = None
    """Ranges, lengths and patterns (blocking checks)."""
    business_key: PropertyName | None = None
    """Name of a mesh-wide business key this column carries (referential integrity)."""
    examples: list[Any] = Field(default_factory=list)
    """Example values for documentation."""
    tags: list[str] = Field(default_factory=list)
    """Free labels."""
    introduced_by: Name | None = None
    """Use case that added this property (design overlay)."""

    @model_validator(mode="after")
    def _options_fit_type(self) -> Property:
        options = self.logical_type_options
        if options is None:
            return self
        if self.logical_type != "string":
            for key in ("min_length", "max_length", "pattern"):
                if getattr(options, key) is not None:
                    raise ValueError(
                        f"logicalTypeOptions.{_camel(key)} applies to strings, not to logicalType {self.logical_type}"
                    )
        if self.logical_type not in _ORDERED:
            for key in ("minimum", "maximum", "exclusive_minimum", "exclusive_maximum"):
                if getattr(options, key) is not None:
                    raise ValueError(
                        f"logicalTypeOptions.{_camel(key)} applies to numbers, dates and "
                        f"times, not to logicalType {self.logical_type}"
                    )
        return self

    @property
    def is_classified(self) -> bool:
        return self.classification in CLASSIFIED


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


class ProductSchema(SpecModel):
    """The public table of a product (ODCS ``properties``)."""

    properties: list[Property] = Field(default_factory=list)
    """Columns, in order."""

    def get(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.properties]

    @property
    def primary_key(self) -> list[str]:
        keyed = [p for p in self.properties if p.primary_key]
        keyed.sort(key=lambda p: p.primary_key_position or 0)
        return [p.name for p in keyed]
