"""Generate the spec reference (Markdown) from the models, so the docs never drift.

Regenerate with ``python -m quanta.spec.reference > docs/reference/spec.md``; a test checks it.
"""

from __future__ import annotations

import json
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from quanta.spec.codes import CODE_DOCS
from quanta.spec.docstrings import field_descriptions
from quanta.spec.mesh import Mesh
from quanta.spec.plugins import PluginRegistry
from quanta.spec.ports import Envelope
from quanta.spec.product import DataProduct


def render_reference(plugins: PluginRegistry | None = None) -> str:
    plugins = plugins or PluginRegistry.builtin()
    out = [
        "# Spec reference",
        "",
        "Generated from the models by `python -m quanta.spec.reference`; do not edit by hand.",
        "",
    ]
    seen: set[type[BaseModel]] = set()
    roots: tuple[tuple[str, type[BaseModel]], ...] = (("mesh.yaml", Mesh), ("dataproduct.yaml", DataProduct))
    for title, root in roots:
        out += [f"## {title}", ""]
        out += _models(root, seen)
    for kind, table in (("Input", plugins.inputs), ("Output port", plugins.outputs)):
        out += [
            f"## {kind} types",
            "",
            f"Every {kind.lower()} has the envelope fields "
            + ", ".join(f"`{f.alias}`" for f in Envelope.model_fields.values())
            + " plus the options of its `type`.",
            "",
        ]
        for name, model in sorted(table.items()):
            out += [f"### `type: {name}`", ""]
            out += _models(model, seen, heading="####")
    out += ["## Diagnostic codes", "", "| code | meaning |", "|---|---|"]
    out += [f"| `{code.value}` | {text} |" for code, text in CODE_DOCS.items()]
    return "\n".join(out) + "\n"


def _models(root: type[BaseModel], seen: set[type[BaseModel]], heading: str = "###") -> list[str]:
    lines: list[str] = []
    queue = [root]
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        doc = (model.__doc__ or "").strip().splitlines()
        lines += [
            f"{heading} {model.__name__}",
            "",
            " ".join(d.strip() for d in doc),
            "",
            "| field | type | required / default | description | example |",
            "|---|---|---|---|---|",
        ]
        descriptions = field_descriptions(model)
        for name, field in model.model_fields.items():
            lines.append(_row(name, field, descriptions.get(name, "")))
            queue += [m for m in _nested(field.annotation) if m not in seen]
        lines.append("")
    return lines


def _row(name: str, field: FieldInfo, description: str) -> str:
    alias = field.alias or name
    required = "required" if field.is_required() else _default(field)
    description = description.replace("\n", " ").replace("|", "\\|")
    examples = field.examples or _examples_of(field)
    example = f"`{json.dumps(examples[0])}`" if examples else ""
    return f"| `{alias}` | {_type(field.annotation)} | {required} | {description} | {example} |"


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        return "—" if isinstance(value, BaseModel) else f"`{json.dumps(value)}`"
    return f"`{json.dumps(field.default)}`"


def _examples_of(field: FieldInfo) -> list[Any]:
    for item in field.metadata:
        examples = getattr(item, "examples", None)
        if examples:
            return list(examples)
    if get_origin(field.annotation) in (Union, types.UnionType):  # an optional annotated value
        for arg in get_args(field.annotation):
            for meta in getattr(arg, "__metadata__", ()):
                if getattr(meta, "examples", None):
                    return list(meta.examples)
    return []


def _type(annotation: Any) -> str:
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return _type(args[0])
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType):
        parts = [_type(a) for a in args if a is not type(None)]
        return " \\| ".join(parts) + (" (optional)" if type(None) in args else "")
    if origin is list:
        return f"list of {_type(args[0])}"
    if origin is dict:
        return f"map of {_type(args[0])} → {_type(args[1])}"
    if isinstance(annotation, type):
        return annotation.__name__ if not issubclass(annotation, BaseModel) else f"[{annotation.__name__}]"
    return str(annotation)


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found += _nested(arg)
    return found


if __name__ == "__main__":
    print(render_reference(), end="")
