"""Registry of input and output types: each maps ``type:`` to the model validating its options."""

from __future__ import annotations

from dataclasses import dataclass, field

from quanta.spec import ports
from quanta.spec.base import SpecModel

INPUT_GROUP = "quanta.inputs"
OUTPUT_GROUP = "quanta.outputs"

SOURCE_INPUT_TYPES = frozenset({"files", "api", "source"})


@dataclass
class PluginRegistry:
    """Input and output types known to one mesh; an instance, owned by the facade.

    With ``discover`` set, types that installed packages declare as entry points (groups
    ``quanta.inputs`` and ``quanta.outputs``) are loaded the first time an unknown type is
    looked up, so meshes using only built-in types never pay for scanning installed packages.
    """

    inputs: dict[str, type[SpecModel]] = field(default_factory=dict)
    outputs: dict[str, type[SpecModel]] = field(default_factory=dict)
    discover: bool = False

    @classmethod
    def builtin(cls) -> PluginRegistry:
        return cls(
            inputs={
                "product": ports.ProductInputOptions,
                "files": ports.FilesInputOptions,
                "api": ports.ApiInputOptions,
                "source": ports.SourceInputOptions,
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
        """Built-ins, plus installed entry points discovered on demand."""
        registry = cls.builtin()
        registry.discover = True
        return registry

    def table(self, collection: str) -> dict[str, type[SpecModel]]:
        """``inputs`` or ``outputs``, all discovered types included."""
        self.load_entry_points()
        return self.inputs if collection == "inputs" else self.outputs

    def lookup(self, collection: str, type_name: str) -> type[SpecModel] | None:
        """The options model for ``type_name`` in ``inputs`` or ``outputs``, or None."""
        table = self.inputs if collection == "inputs" else self.outputs
        if type_name not in table:
            self.load_entry_points()
        return table.get(type_name)

    def load_entry_points(self) -> None:
        if not self.discover:
            return
        from importlib.metadata import entry_points  # scanning installed packages is paid only here

        self.discover = False
        for group, table in ((INPUT_GROUP, self.inputs), (OUTPUT_GROUP, self.outputs)):
            for point in entry_points(group=group):
                table.setdefault(point.name, point.load())
