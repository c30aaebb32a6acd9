"""Inputs and output ports: typed envelopes plus the option models of the built-in types.

An envelope holds ``id``, ``type`` and free options; the plugin registered for ``type``
validates the options with its own model (see :mod:`quanta.spec.plugins`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PrivateAttr

from quanta.spec.base import Cron, Duration, Name, OpenModel, ProductRef, PropertyName, SpecModel

FileFormat = Literal["parquet", "csv", "json"]
ReportFormat = Literal["html", "pdf"]


class Envelope(OpenModel):
    """Common shape of inputs and outputs: an id, a type and the type's options."""

    id: Name
    """Identifier, unique within the product; the relation name an input gets in SQL."""
    type: str
    """Plugin type; its options are validated by the plugin's own model."""
    description: str | None = None
    """What this input or port is for."""
    introduced_by: Name | None = None
    """Use case that added it (design overlay)."""
    _options: SpecModel | None = PrivateAttr(default=None)

    @property
    def options(self) -> Any:
        """The validated options model (set by the loader)."""
        return self._options

    def raw_options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class InputSpec(Envelope):
    """An input: another data product, or a source in a system of record."""


class OutputPort(Envelope):
    """An output port; grants, SLOs and use cases name ports by id."""


# ---------------------------------------------------------------- built-in input types


class ProductInputOptions(SpecModel):
    """``type: product`` — the current published snapshot of another data product."""

    product: ProductRef
    """``<domain>.<name>`` of the product consumed."""
    major: int = Field(ge=0)
    """Major version consumed; a breaking change upstream means a new major."""


class FilesInputOptions(SpecModel):
    """``type: files`` — local or object-store files (CSV, JSON/NDJSON, Parquet; globs)."""

    path: str
    """Path or glob, relative to the mesh folder or absolute; ``s3://`` allowed."""
    format: Literal["csv", "json", "ndjson", "parquet"] | None = None
    """File format; inferred from the extension when omitted."""
    system: Name
    """System of record the files come from."""
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    """CSV delimiter (detected when omitted)."""
    header: bool = True
    """CSV files have a header row."""


class SourceInputOptions(SpecModel):
    """``type: source`` — data from a system of record, named at design time before a connector
    (``files``, ``api``) is chosen; such a product cannot be built yet."""

    system: Name
    """System of record the data comes from."""
    entity: str | None = None
    """What is read, e.g. ``orders`` or ``customer master``."""


class Pagination(SpecModel):
    """How an HTTP API pages its results."""

    type: Literal["none", "cursor", "link-header", "offset"] = "none"
    """``cursor`` (next token in the body), ``link-header`` (RFC 8288), ``offset`` (limit/offset)."""
    cursor_path: str | None = None
    """Dotted path of the next cursor in the response body (cursor)."""
    cursor_param: str = "cursor"
    """Query parameter that carries the cursor (cursor)."""
    limit_param: str = "limit"
    """Query parameter for the page size (offset)."""
    offset_param: str = "offset"
    """Query parameter for the offset (offset)."""
    page_size: int = Field(default=100, ge=1)
    """Records per page requested."""


class ApiInputOptions(SpecModel):
    """``type: api`` — an HTTP JSON API, landed as a raw snapshot and fingerprinted by content."""

    url: str = Field(pattern=r"^https?://")
    """Endpoint URL; ``${ENV}`` placeholders are filled from the environment at build time."""
    system: Name
    """System of record behind the API."""
    records_path: str | None = None
    """Dotted path of the record list in each response (the body itself when omitted)."""
    pagination: Pagination = Field(default_factory=Pagination)
    """Paging scheme."""
    headers_from_env: dict[str, str] = Field(default_factory=dict)
    """Header name → environment variable holding its value (secrets never live in specs); sent only
    to the origin of ``url``, never after a redirect or a next-page link to another one."""
    timeout: Duration = "30s"
    """Total time one request may take, redirects and the whole body included."""
    retries: int = Field(default=5, ge=0, le=20)
    """Retries on 429, 5xx and timeouts, with exponential backoff (or as ``Retry-After`` asks)."""


# ---------------------------------------------------------------- built-in output types


class SqlPortOptions(SpecModel):
    """``type: sql`` — the table over the PostgreSQL wire protocol."""


class RestPortOptions(SpecModel):
    """``type: rest`` — a paginated, filterable REST resource with OpenAPI."""

    max_page_size: int = Field(default=1000, ge=1, le=100_000)
    """Largest page a client may ask for."""
    lookup: list[PropertyName] = Field(default_factory=list)
    """Properties clients may look rows up by (the primary key always works)."""


class FilesPortOptions(SpecModel):
    """``type: files`` — snapshot downloads."""

    formats: list[FileFormat] = Field(default_factory=lambda: list[FileFormat](["parquet"]), min_length=1)
    """Formats offered."""
    partition_by: list[PropertyName] = Field(default_factory=list)
    """Properties the files are partitioned by."""


class ReportPortOptions(SpecModel):
    """``type: report`` — a canned report rendered from a Jinja2 template."""

    template: str
    """Template file relative to the product folder."""
    formats: list[ReportFormat] = Field(default_factory=lambda: list[ReportFormat](["html"]), min_length=1)
    """Rendered formats."""
    schedule: Cron | None = None
    """When the report is rendered and sent."""


ModelValueType = Literal["string", "integer", "number", "boolean"]


class ModelField(SpecModel):
    """A feature or prediction of a model port that is not a property of the product (a bare
    property name takes the property's type instead)."""

    name: PropertyName
    """Field name in each row of the request (a feature) or of the response (a prediction)."""
    logical_type: ModelValueType
    """ODCS logical type of its values."""
    description: str | None = None
    """What the value means, with its unit."""
    enum: list[str | int | float] | None = Field(default=None, min_length=1)
    """Allowed values."""
    minimum: float | None = None
    """Smallest allowed value (numbers)."""
    maximum: float | None = None
    """Largest allowed value (numbers)."""


class ModelPortOptions(SpecModel):
    """``type: model`` — an ML inference endpoint over the product's fitted artefacts."""

    entrypoint: str = Field(pattern=r"^[\w./-]+\.py:[A-Za-z_]\w*$")
    """``file.py:function`` that scores a batch: called with the features as columns (name → numpy
    array) and the current snapshot's artefacts; returns the predictions as columns."""
    features: list[PropertyName | ModelField] = Field(default_factory=list)
    """Input fields of the endpoint: a property name (the property's type), or a field with its own type."""
    outputs: list[PropertyName | ModelField] = Field(default_factory=list)
    """Predictions the endpoint returns, each a property name or a field with its own type (none:
    the ``target``)."""
    target: PropertyName | None = None
    """Property the model predicts."""
    max_batch: int = Field(default=10_000, ge=1, le=1_000_000)
    """Most rows one request may score."""
    timeout: Duration = "10s"
    """Longest one batch may take to score before the worker is stopped."""
