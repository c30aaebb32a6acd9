"""Registry of input and output types: each maps ``type:`` to the model validating its options."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points

from quanta.spec import ports
from quanta.spec.base import SpecModel

INPUT_GROUP = "quanta.inputs"
OUTPUT_GROUP = "quanta.outputs"

SOURCE_INPUT_TYPES = frozenset({"files", "api"})


@dataclass
class PluginRegistry:
    """Input and output types known to one mesh; an instance, owned by the facade."""

    inputs: dict[str, type[SpecModel]] = field(default_factory=dict)
    outputs: dict[str, type[SpecModel]] = field(default_factory=dict)

    @classmethod
    def builtin(cls) -> PluginRegistry:
        return cls(
            inputs={
                "product": ports.ProductInputOptions,
                "files": ports.FilesInputOptions,
                "api": ports.ApiInputOptions,
            },
            outputs={
                "sql": ports.SqlPortOptions,
                "rest": ports.RestPortOptions,
                "files": ports.FilesPortOptions,
                "report": ports.ReportPortOptions,
                "model": ports.ModelPortOptions,
            },
        )

    @classmethod
    def default(cls) -> PluginRegistry:
        """Built-ins plus types installed packages declare as entry points."""
        registry = cls.builtin()
        for group, table in ((INPUT_GROUP, registry.inputs), (OUTPUT_GROUP, registry.outputs)):
            for point in entry_points(group=group):
                table[point.name] = point.load()
        return registry
