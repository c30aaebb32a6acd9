"""The connector protocol and the registry that maps input types to connectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from quanta.catalog import Catalog, LineageRecord
from quanta.engines.base import Capabilities, Relation
from quanta.spec.index import ProductIndex
from quanta.spec.loader import ProductSource
from quanta.spec.ports import InputSpec
from quanta.state import FileStamp, LocalState
from quanta.storage import SnapshotLocation, SnapshotStore


@dataclass
class InputContext:
    """What a connector may use: the mesh, the catalog, snapshot storage, the checkout's caches, and
    the capabilities of the engine that will read the input (which URIs it opens itself)."""

    mesh_root: Path
    product: ProductSource
    location: SnapshotLocation
    index: ProductIndex
    catalog: Catalog
    store: SnapshotStore
    state: LocalState
    capabilities: Capabilities | None = None

    @property
    def uri_schemes(self) -> frozenset[str]:
        return self.capabilities.uri_schemes if self.capabilities else frozenset({"file"})


@dataclass(frozen=True)
class ResolvedInput:
    """An input ready for the engine, with its content fingerprint and lineage. ``watched`` are
    files the engine reads in place, each with its stamp from when it was fingerprinted."""

    relation: Relation
    lineage: LineageRecord
    watched: tuple[tuple[str, FileStamp], ...] = ()

    def moved(self) -> list[str]:
        """The watched files whose stamp is no longer the fingerprinted one (or that are gone):
        what the engine read of them may be another version, or parts of two."""
        return [path for path, stamp in self.watched if _stamp(path) != stamp]


class InputConnector(Protocol):
    def peek(self, spec: InputSpec, context: InputContext) -> str | None:
        """The input's fingerprint if it is known without side effects (None: found out at build)."""
        ...

    def resolve(self, spec: InputSpec, context: InputContext) -> ResolvedInput:
        """Make the input readable (landing it if needed); raise InputUnavailable when it is not."""
        ...


@dataclass
class ConnectorRegistry:
    """Connectors by input type; an instance owned by the facade."""

    connectors: dict[str, InputConnector] = field(default_factory=dict)

    @classmethod
    def builtin(cls) -> ConnectorRegistry:
        from quanta.build.inputs.api import ApiConnector
        from quanta.build.inputs.files import FilesConnector
        from quanta.build.inputs.product import ProductConnector

        return cls(
            {
                "product": ProductConnector(),
                "files": FilesConnector(),
                "api": ApiConnector(),
                "source": DesignTimeSource(),
            }
        )

    def get(self, type_name: str) -> InputConnector:
        connector = self.connectors.get(type_name)
        if connector is None:
            raise KeyError(f"no connector for input type '{type_name}'")
        return connector


class DesignTimeSource:
    """``type: source`` names a system of record without saying how to read it."""

    def peek(self, spec: InputSpec, context: InputContext) -> str | None:
        return None

    def resolve(self, spec: InputSpec, context: InputContext) -> ResolvedInput:
        from quanta.build.errors import InputUnavailable

        raise InputUnavailable(
            f"input '{spec.id}' names system '{spec.options.system}' but not how to read it: "
            "use `type: files` or `type: api`"
        )


def relation_name(input_id: str) -> str:
    """The SQL relation name of an input: its id with ``-`` as ``_``."""
    return input_id.replace("-", "_")


def _stamp(path: str) -> FileStamp | None:
    try:
        return FileStamp.of(Path(path))
    except OSError:
        return None
