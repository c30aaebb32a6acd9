"""Turn pydantic validation errors into located diagnostics with codes and hints."""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from quanta.errors import Diagnostic
from quanta.spec.base import KEBAB, SEMVER, SNAKE
from quanta.spec.codes import Code
from quanta.spec.yamlsource import Document, PathPart

MAX_ERRORS = 100
"""At most this many validation errors are located and shown per model and file."""

_PATTERN_MEANING = {
    KEBAB: "a lower-case kebab-case name such as 'customer-orders'",
    SNAKE: "a lower-case snake_case identifier such as 'customer_id'",
    SEMVER: "a semantic version such as '1.0.0'",
}

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "date_type": "a date",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "int_from_float": "an integer",
}


def field_path(parts: Sequence[PathPart]) -> str:
    """``("inputs", 0, "major")`` → ``inputs[0].major``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def suggest(word: str, candidates: Iterable[str]) -> str:
    """A 'did you mean' hint, or '' when nothing is close."""
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else ""


def diagnostics_from(
    error: ValidationError,
    document: Document,
    model: type[BaseModel],
    prefix: tuple[PathPart, ...] = (),
    extra_allowed: Iterable[str] = (),
) -> list[Diagnostic]:
    """Located diagnostics for the errors of ``error`` raised validating data at ``prefix``: the
    first :data:`MAX_ERRORS`, then one saying how many more there are."""
    details = error.errors()
    found = [_diagnostic(detail, document, model, prefix, set(extra_allowed)) for detail in details[:MAX_ERRORS]]
    if len(details) > MAX_ERRORS:
        rest = details[MAX_ERRORS]
        found.append(
            Diagnostic(
                Code.TOO_MANY_ERRORS.value,
                f"{len(details) - MAX_ERRORS:,} more errors from here on are not shown",
                document.locate(prefix + tuple(rest["loc"]), key=rest["type"] == "extra_forbidden"),
                field=field_path(_real_path(document, prefix + tuple(rest["loc"]))),
                hint=f"fix the first {MAX_ERRORS} and validate again",
            )
        )
    return found


def _diagnostic(
    detail: ErrorDetails,
    document: Document,
    model: type[BaseModel],
    prefix: tuple[PathPart, ...],
    extra_allowed: set[str],
) -> Diagnostic:
    loc = tuple(detail["loc"])
    full = prefix + loc
    real = _real_path(document, full)
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    name = str(loc[-1]) if loc else ""
    if kind == "missing":
        return Diagnostic(
            Code.MISSING_FIELD.value,
            f"required field '{name}' is missing",
            document.locate(full),
            field=field_path(real),
            hint=f"add '{name}:' here",
        )
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc[:-1]) | extra_allowed
        hint = suggest(name, allowed) or ("allowed: " + ", ".join(sorted(allowed)) if allowed else "")
        return Diagnostic(
            Code.UNKNOWN_FIELD.value,
            f"unknown field '{name}'",
            document.locate(full, key=True),
            field=field_path(real),
            hint=hint,
        )
    location = document.locate(full)
    path = field_path(real)
    value = detail.get("input")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = str(ctx.get("expected_tags", ""))
        if kind == "union_tag_not_found":
            return Diagnostic(
                Code.MISSING_FIELD.value,
                "required field 'type' is missing",
                location,
                field=field_path((*real, "type")),
                hint=f"one of {tags}",
            )
        tag_location = document.locate((*full, "type"))
        options = [t.strip(" '") for t in tags.split(",")]
        return Diagnostic(
            Code.UNKNOWN_TYPE.value,
            f"unknown type '{ctx.get('tag')}'",
            tag_location,
            field=field_path((*real, "type")),
            hint=suggest(str(ctx.get("tag")), options) or f"one of {tags}",
        )
    if kind == "literal_error" and real in (("apiVersion",), ("kind",)):
        code = Code.UNSUPPORTED_API_VERSION if real == ("apiVersion",) else Code.WRONG_KIND
        return Diagnostic(code.value, f"{name} is {value!r}, expected {ctx.get('expected')}", location, field=path)
    if kind in _TYPE_NAMES or kind.endswith("_type"):
        wanted = _TYPE_NAMES.get(kind, kind.removesuffix("_type"))
        hint = "quote it" if kind == "string_type" and isinstance(value, int | float) else ""
        return Diagnostic(
            Code.INVALID_TYPE.value, f"expected {wanted}, got {_describe(value)}", location, field=path, hint=hint
        )
    return Diagnostic(
        Code.INVALID_VALUE.value,
        _value_message(kind, detail, ctx, value),
        location,
        field=path,
        hint=_value_hint(kind, ctx, value),
    )


def _real_path(document: Document, parts: tuple[PathPart, ...]) -> tuple[PathPart, ...]:
    """Drop parts that are not nodes of the file (union tags), keeping the rest."""
    real: list[PathPart] = []
    node = document.root
    for part in parts:
        child = document.child(node, part)
        if child is None:
            if isinstance(part, str) and part in _union_tags_seen(node):
                continue
            real.append(part)
            continue
        real.append(part)
        node = child
    return tuple(real)


def _union_tags_seen(node: Any) -> set[str]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "type" and isinstance(value, yaml.ScalarNode):
                return {str(value.value)}
    return set()


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    return f"'{value}'"


def _value_message(kind: str, detail: ErrorDetails, ctx: dict[str, Any], value: Any) -> str:
    if kind == "string_pattern_mismatch":
        meaning = _PATTERN_MEANING.get(str(ctx.get("pattern")), f"match pattern {ctx.get('pattern')}")
        return (
            f"{_describe(value)} is not {meaning}"
            if meaning.startswith("a")
            else f"{_describe(value)} does not {meaning}"
        )
    if kind == "literal_error":
        return f"{_describe(value)} is not allowed; expected {ctx.get('expected')}"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    return f"{detail['msg']} (got {_describe(value)})"


def _value_hint(kind: str, ctx: dict[str, Any], value: Any) -> str:
    if kind == "literal_error" and isinstance(value, str):
        options = [part.strip(" '") for part in str(ctx.get("expected", "")).replace(" or ", ",").split(",")]
        return suggest(value, options)
    return ""


# ----------------------------------------------------------- which fields a location allows


def _allowed_fields(root: type[BaseModel], loc: tuple[PathPart, ...]) -> set[str]:
    candidates: list[type[BaseModel]] = [root]
    for part in loc:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for model in candidates:
            field = _field_by_alias(model, part)
            if field is not None:
                nxt.extend(_models_in(field))
        if not nxt:  # a union tag: keep the members whose ``type`` literal matches
            nxt = [m for m in candidates if _tag_of(m) == part]
        candidates = nxt or candidates
    names: set[str] = set()
    for model in candidates:
        names |= {f.alias or n for n, f in model.model_fields.items()}
    return names


def _field_by_alias(model: type[BaseModel], alias: str) -> Any:
    for name, field in model.model_fields.items():
        if (field.alias or name) == alias:
            return field.annotation
    return None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType, list, dict, tuple):
        found: list[type[BaseModel]] = []
        for arg in get_args(annotation):
            found.extend(_models_in(arg))
        return found
    return []


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    if field is None:
        return None
    args = get_args(field.annotation)
    return str(args[0]) if args else None
