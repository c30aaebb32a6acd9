"""OpenAPI 3.1 of one product major's REST port *for one caller*: only the properties the caller
may see, each with its description, enum and the type it receives after masking, and only the
ports the caller is granted."""

from __future__ import annotations

from typing import Any

from quanta.access import Decision
from quanta.ports.rest.columns import Column
from quanta.ports.rest.filters import OPERATORS
from quanta.ports.rest.formats import MEDIA_TYPES
from quanta.spec.product import DataProduct

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer", "format": "int64"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "timestamp": {"type": "string", "format": "date-time"},
    "time": {"type": "string", "format": "time"},
    "array": {"type": "array"},
    "object": {"type": "object"},
}
PROBLEM = {"$ref": "#/components/schemas/Problem"}


def property_schema(column: Column) -> dict[str, Any]:
    """The JSON Schema of one column as received (nullable unless required)."""
    schema = dict(_TYPES.get(column.logical_type, {"type": "string"}))
    if not column.required:
        schema["type"] = [schema["type"], "null"]
    if column.description:
        schema["description"] = column.description
    if column.enum is not None:
        schema["enum"] = list(column.enum)
    if column.mask is not None:
        schema["x-quanta-mask"] = column.mask
        note = f"masked for you ({column.mask})"
        if column.logical_type != column.own_type:
            note += f": a {column.own_type} received as a {column.logical_type}"
        schema["description"] = (schema.get("description", "") + f" [{note}]").strip()
    return schema


def product_openapi(
    spec: DataProduct, columns: dict[str, Column], base: str, files: dict[str, Decision]
) -> dict[str, Any]:
    """The document: ``base`` is the product major's path (``/api/v1/products/<domain>/<name>/v<major>``);
    ``files`` the caller's decision for each files and model port (only the usable ones are shown)."""
    from quanta.ports.model import openapi as model_openapi
    from quanta.ports.model.port import model_port, refusal

    row = {
        "type": "object",
        "properties": {name: property_schema(c) for name, c in columns.items()},
        "required": [c.name for c in columns.values() if c.required],
    }
    key = spec.schema_.primary_key
    paths: dict[str, Any] = {
        f"{base}/rows": {"get": _rows_operation(spec, columns)},
    }
    if key and all(n in columns for n in key):
        paths[f"{base}/rows/{{key}}"] = {"get": _lookup_operation(spec, key)}
    schemas: dict[str, Any] = {}
    for port_id, decision in files.items():
        port = spec.output(port_id)
        if port is not None and port.type == "model":
            model = model_port(spec, port_id)
            if refusal(decision, model) is None:
                errors = _errors(400, 401, 403, 404, 413, 429, 500, 504)
                paths[f"{base}/models/{port_id}:predict"] = {"post": model_openapi.operation(spec.ref, model, errors)}
                schemas |= model_openapi.components(model)
        elif decision.allowed:
            paths[f"{base}/files/{port_id}"] = {"get": _files_operation(spec, port_id)}
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{spec.ref} v{spec.major}", "version": spec.version, "description": spec.description},
        "paths": paths,
        "components": {
            "schemas": {
                "Row": row,
                "Page": {
                    "type": "object",
                    "properties": {
                        "snapshot": {"type": "string"},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
                        "next": {"type": ["string", "null"], "description": "Cursor of the next page."},
                    },
                },
                **schemas,
                "Problem": {
                    "type": "object",
                    "description": "RFC 9457 problem details.",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "param": {"type": "string"},
                    },
                },
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _errors(*codes: int) -> dict[str, Any]:
    reasons = {400: "Bad request", 401: "Not authenticated", 403: "Refused", 404: "Not found", 406: "Not acceptable"}
    reasons |= {410: "Gone (the cursor's snapshot was collected)", 429: "Too many failed authentications"}
    reasons |= {413: "Too many rows", 500: "The scoring code failed", 504: "Scoring timed out"}
    return {
        str(code): {"description": reasons[code], "content": {"application/problem+json": {"schema": PROBLEM}}}
        for code in codes
    }


def _formats(schema: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    for name, media in MEDIA_TYPES.items():
        if name != "json":
            content[media.split(";")[0]] = {}
    return content


def _param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _selectors() -> list[dict[str, Any]]:
    return [
        _param("snapshot", "Read this snapshot id instead of the current one."),
        _param("as_of", "Read the snapshot current at this ISO time.", {"type": "string", "format": "date-time"}),
        _param("format", "Response format (else from Accept).", {"type": "string", "enum": list(MEDIA_TYPES)}),
    ]


def _rows_operation(spec: DataProduct, columns: dict[str, Column]) -> dict[str, Any]:
    ops = ", ".join(OPERATORS)
    filters = [
        _param(
            c.name, f"Filter on {c.name} ({c.logical_type}): `<op>:<value>` with op one of {ops}; a bare value is eq."
        )
        for c in columns.values()
        if not c.nested and c.name not in ("fields", "sort", "limit", "cursor", "as_of", "snapshot", "format")
    ]
    return {
        "summary": f"Rows of {spec.ref}",
        "operationId": "rows",
        "parameters": [
            _param("fields", "Comma-separated properties to return."),
            _param("sort", "Comma-separated properties; `-name` sorts descending."),
            _param("limit", "Rows per page.", {"type": "integer", "minimum": 1}),
            _param("cursor", "The `next` cursor of the previous page (sent alone)."),
            *_selectors(),
            *filters,
        ],
        "responses": {
            "200": {"description": "A page of rows.", "content": _formats({"$ref": "#/components/schemas/Page"})},
            "304": {"description": "Not modified (If-None-Match)."},
            **_errors(400, 401, 403, 404, 406, 410, 429),
        },
    }


def _lookup_operation(spec: DataProduct, key: list[str]) -> dict[str, Any]:
    return {
        "summary": f"One row of {spec.ref} by primary key",
        "operationId": "lookup",
        "parameters": [
            {
                "name": "key",
                "in": "path",
                "required": True,
                "description": "The primary key"
                + (f" ({', '.join(key)}, comma-separated in this order)" if len(key) > 1 else f" ({key[0]})"),
                "schema": {"type": "string"},
            },
            _param("fields", "Comma-separated properties to return."),
            *_selectors(),
        ],
        "responses": {
            "200": {"description": "The row.", "content": _formats({"$ref": "#/components/schemas/Row"})},
            "304": {"description": "Not modified (If-None-Match)."},
            **_errors(400, 401, 403, 404, 406, 429),
        },
    }


def _files_operation(spec: DataProduct, port_id: str) -> dict[str, Any]:
    port = spec.output(port_id)
    formats = list(getattr(port.options, "formats", ["parquet"])) if port is not None else ["parquet"]
    return {
        "summary": f"Download {spec.ref} ({port_id})",
        "operationId": f"files-{port_id}",
        "parameters": [
            _param("format", "File format.", {"type": "string", "enum": formats}),
            _param("snapshot", "Download this snapshot id instead of the current one."),
            _param(
                "as_of", "Download the snapshot current at this ISO time.", {"type": "string", "format": "date-time"}
            ),
        ],
        "responses": {
            "200": {"description": "The file (Content-Length and a checksum header)."},
            "206": {"description": "A byte range of the snapshot's own file."},
            **_errors(400, 401, 403, 404, 429),
        },
    }
