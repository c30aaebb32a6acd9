"""Engines named in specs are registered, and can do what the products ask of them."""

from __future__ import annotations

from collections.abc import Iterator

from quanta.engines.registry import EngineRegistry, UnknownEngine
from quanta.rules.base import Rule, Violation, violation
from quanta.spec.codes import Code
from quanta.spec.errormap import suggest
from quanta.spec.loader import MeshSource
from quanta.spec.transform import PythonTransform
from quanta.spec.yamlsource import Document, PathPart


class EnginesAreRegistered(Rule):
    name = "engines-are-registered"
    description = (
        "`engine:` under `platform:`, each profile and each product's `transform:` names a registered engine, "
        "and a Python transform's `inputs:` mode is one its engine runs."
    )

    def __init__(self, registry: EngineRegistry | None = None) -> None:
        self.registry = registry or EngineRegistry.default()

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        spec = mesh.spec
        known = set(self.registry.names())
        yield from self._named(mesh.document, ("platform", "engine"), spec.platform.engine, known)
        for name, profile in spec.profiles.items():
            if profile.engine is not None:
                yield from self._named(mesh.document, ("profiles", name, "engine"), profile.engine, known)
        for product in mesh.products:
            transform = product.spec.transform
            if transform is None:
                continue
            if transform.engine is not None:
                found = list(self._named(product.document, ("transform", "engine"), transform.engine, known))
                yield from found
                if found:
                    continue
            engine = transform.engine or spec.platform.engine
            if isinstance(transform, PythonTransform) and engine in known:
                modes = self._modes(engine)
                if modes is not None and transform.inputs not in modes:
                    yield violation(
                        product.document,
                        ("transform", "inputs"),
                        Code.ENGINE_UNSUPPORTED.value,
                        f"engine '{engine}' does not run Python transforms taking `{transform.inputs}` inputs",
                        hint=f"it runs: {', '.join(sorted(modes))}; or choose another `engine:` for this product",
                    )

    def _named(
        self, document: Document, parts: tuple[PathPart, ...], name: str, known: set[str]
    ) -> Iterator[Violation]:
        if name in known:
            return
        names = sorted(known)
        hint = " ".join(filter(None, [suggest(name, names), f"registered engines: {', '.join(names)}"]))
        yield violation(document, parts, Code.UNKNOWN_ENGINE.value, f"no engine '{name}' is registered", hint=hint)

    def _modes(self, engine: str) -> frozenset[str] | None:
        try:
            return frozenset(self.registry.capabilities(engine).python_modes)
        except UnknownEngine:
            return None
        except ImportError:  # a registered engine whose package is broken: reported when building
            return None
