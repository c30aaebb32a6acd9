"""Field descriptions from attribute docstrings (the string literal after a field), read on
demand. Only the JSON Schema and the reference need them; reading every model's source when the
models are imported would cost each command about 50 ms."""

from __future__ import annotations

import ast
import inspect
import textwrap
from functools import cache
from itertools import pairwise
from typing import Any

from pydantic import BaseModel


@cache
def attribute_docstrings(cls: type) -> dict[str, str]:
    """The docstring after each annotated attribute in the body of ``cls`` itself."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # a class made at run time (e.g. with create_model) has no source
        return {}
    definition = ast.parse(source).body[0]
    if not isinstance(definition, ast.ClassDef):
        return {}
    found = {}
    for node, after in pairwise(definition.body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            found[node.target.id] = inspect.cleandoc(after.value.value)
    return found


def field_descriptions(model: type[BaseModel]) -> dict[str, str]:
    """Each field's description: its own, else the docstring where a class of ``model``'s MRO declares it."""
    described = {name: field.description for name, field in model.model_fields.items() if field.description}
    for cls in model.__mro__:
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls is BaseModel:
            continue
        for name, text in attribute_docstrings(cls).items():
            if name in model.model_fields:
                described.setdefault(name, text)
    return described


def describe_schema(definitions: dict[str, Any], models: list[type[BaseModel]]) -> None:
    """Add missing property descriptions to a JSON Schema's ``$defs`` from the models' docstrings."""
    by_title: dict[str, type[BaseModel]] = {}
    queue = list(models)
    while queue:
        model = queue.pop()
        if model.__name__ in by_title:
            continue
        by_title[model.__name__] = model
        queue += [sub for sub in model.__subclasses__() if sub.__name__ not in by_title]
    for title, definition in definitions.get("$defs", {}).items():
        described = by_title.get(definition.get("title", title))
        if described is None:
            continue
        descriptions = field_descriptions(described)
        aliases = {field.alias or name: name for name, field in described.model_fields.items()}
        for key, prop in definition.get("properties", {}).items():
            text = descriptions.get(aliases.get(key, key))
            if text and isinstance(prop, dict) and "description" not in prop:
                prop["description"] = text
