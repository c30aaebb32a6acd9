"""JSON Schema of the specs for editor completion, with every plugin's options inlined."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import models_json_schema

from quanta.spec.base import SpecModel
from quanta.spec.docstrings import describe_schema
from quanta.spec.mesh import Mesh
from quanta.spec.plugins import PluginRegistry
from quanta.spec.ports import Envelope
from quanta.spec.product import DataProduct

SCHEMA_ID = "https://quanta.dev/schema/quanta-v1.json"


def _variants(kind: str, table: Mapping[str, type[BaseModel]]) -> Any:
    members = []
    for type_name, options in sorted(table.items()):
        title = "".join(part.title() for part in type_name.split("-")) + kind.title()
        closed = create_model(f"{title}Envelope", __base__=Envelope, __config__=None)
        closed.model_config = ConfigDict(**{**Envelope.model_config, "extra": "forbid"})
        tag: Any = Literal[type_name]
        member = create_model(title, __base__=(closed, options), type=(tag, Field(description=f"`{type_name}`")))
        member.__doc__ = options.__doc__
        members.append(member)
    if len(members) == 1:
        return members[0]
    return Annotated[Union[tuple(members)], Field(discriminator="type")]  # noqa: UP007


def spec_json_schema(plugins: PluginRegistry | None = None) -> dict[str, Any]:
    """One JSON Schema accepting a mesh.yaml or a dataproduct.yaml (told apart by ``kind``)."""
    plugins = plugins or PluginRegistry.builtin()
    plugins.load_entry_points()
    inputs: Any = list[_variants("input", plugins.inputs)]  # type: ignore[misc]
    outputs: Any = list[_variants("port", plugins.outputs)]  # type: ignore[misc]
    product = create_model(
        "DataProduct",
        __base__=DataProduct,
        inputs=(inputs, Field(default_factory=list)),
        outputs=(outputs, Field(default_factory=list)),
    )
    product.__doc__ = DataProduct.__doc__
    _, definitions = models_json_schema([(Mesh, "validation"), (product, "validation")], by_alias=True)
    describe_schema(definitions, [SpecModel])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Quanta specification (mesh.yaml or dataproduct.yaml)",
        "oneOf": [{"$ref": "#/$defs/Mesh"}, {"$ref": "#/$defs/DataProduct"}],
        **definitions,
    }
