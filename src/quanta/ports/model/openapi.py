"""The OpenAPI operation of one model port: the request's rows from the declared features, the
response's predictions from the declared outputs."""

from __future__ import annotations

from typing import Any

from quanta.ports.model.fields import Field
from quanta.ports.model.port import ModelPortSpec

_TYPES = {"number": "number", "integer": "integer", "boolean": "boolean", "string": "string"}


def field_schema(f: Field) -> dict[str, Any]:
    """The JSON Schema of one feature or prediction (never null)."""
    schema: dict[str, Any] = {"type": _TYPES.get(f.logical_type, "string")}
    if f.description:
        schema["description"] = f.description
    if f.enum is not None:
        schema["enum"] = list(f.enum)
    if f.minimum is not None:
        schema["minimum"] = f.minimum
    if f.maximum is not None:
        schema["maximum"] = f.maximum
    return schema


def components(port: ModelPortSpec) -> dict[str, Any]:
    """The port's request and response schemas, named ``<port>.Features`` … ``<port>.Predictions``."""
    features = {
        "type": "object",
        "properties": {f.name: field_schema(f) for f in port.features},
        "required": [f.name for f in port.features],
        "additionalProperties": False,
    }
    prediction: dict[str, Any] = {"type": "object", "properties": {f.name: field_schema(f) for f in port.outputs}}
    prediction["required"] = [f.name for f in port.outputs]
    return {
        f"{port.id}.Features": features,
        f"{port.id}.Request": {
            "type": "object",
            "properties": {
                "rows": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": port.max_batch,
                    "items": {"$ref": f"#/components/schemas/{port.id}.Features"},
                }
            },
            "required": ["rows"],
            "additionalProperties": False,
        },
        f"{port.id}.Prediction": prediction,
        f"{port.id}.Predictions": {
            "type": "object",
            "properties": {
                "snapshot": {"type": "string", "description": "The snapshot whose artefacts scored the rows."},
                "predictions": {
                    "type": "array",
                    "description": "One prediction per row, in the order of the rows.",
                    "items": {"$ref": f"#/components/schemas/{port.id}.Prediction"},
                },
            },
        },
    }


def operation(ref: str, port: ModelPortSpec, errors: dict[str, Any]) -> dict[str, Any]:
    """The ``POST …/models/<port>:predict`` operation; ``errors``: the problem responses by status."""
    summary = port.description or f"Score rows with {ref}'s model '{port.id}'"
    return {
        "summary": summary,
        "operationId": f"predict-{port.id}",
        "description": (
            f"Predictions for up to {port.max_batch} rows with the current snapshot's artefacts. A row "
            "that is not exactly the features, each of its type, is a 400 naming the row and field."
        ),
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{port.id}.Request"}}},
        },
        "responses": {
            "200": {
                "description": "The predictions (the snapshot also in X-Quanta-Snapshot).",
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{port.id}.Predictions"}}},
            },
            **errors,
        },
    }
