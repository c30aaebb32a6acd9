"""Load a mesh folder: mesh.yaml plus every product spec, reporting all errors of all files.

Loading reads YAML and validates models and plugin options; it never imports user code.
Cross-file rules (references, cycles, collisions) live in :mod:`quanta.rules`.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from quanta.errors import Diagnostic, Location, Severity, SpecError, display_path
from quanta.spec.base import SpecModel
from quanta.spec.codes import Code
from quanta.spec.errormap import diagnostics_from, field_path, suggest
from quanta.spec.mesh import Mesh
from quanta.spec.plugins import PluginRegistry
from quanta.spec.ports import Envelope
from quanta.spec.product import DataProduct
from quanta.spec.yamlsource import Document, node_location, parse_yaml

MESH_FILE = "mesh.yaml"
_ENVELOPE_KEYS = frozenset(f.alias or n for n, f in Envelope.model_fields.items())
MAX_SPEC_BYTES = 1 << 20
"""A spec file larger than this (1 MiB) is refused unread."""
_SECRET_URL = re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)
"""``scheme://user:password@``; the look-behind starts a match only where a scheme can start, so
a search is linear in the text (each start scans to the next ``/``, blank or ``@`` at most)."""

M = TypeVar("M", bound=BaseModel)


@dataclass
class ProductSource:
    """A product spec with the document it came from (for locations)."""

    spec: DataProduct
    document: Document

    @property
    def path(self) -> Path:
        return self.document.file or Path(self.document.path)

    @property
    def folder(self) -> Path:
        return self.path.parent


@dataclass
class MeshSource:
    """A loaded mesh: its spec, its document and the products that validated."""

    spec: Mesh
    document: Document
    root: Path
    products: list[ProductSource] = field(default_factory=list)
    unloaded: set[str] = field(default_factory=set)
    """References of product specs that failed to load (rules do not report them as unknown)."""


@dataclass
class LoadResult:
    """What loading produced: the mesh (None when mesh.yaml itself is unusable) and diagnostics."""

    mesh: MeshSource | None
    diagnostics: list[Diagnostic]


def find_mesh_file(path: Path) -> Path:
    """``path`` itself when it is a file, else ``path/mesh.yaml``."""
    return path / MESH_FILE if path.is_dir() else path


def load_mesh(path: Path, plugins: PluginRegistry | None = None) -> LoadResult:
    """Load ``mesh.yaml`` (or the mesh in folder ``path``) and all product specs it names."""
    plugins = plugins or PluginRegistry.builtin()
    mesh_file = find_mesh_file(path)
    document, diagnostics = read_document(mesh_file)
    if document is None:
        return LoadResult(None, diagnostics)
    mesh = validate(Mesh, document, diagnostics)
    if mesh is None:
        return LoadResult(None, diagnostics)
    source = MeshSource(mesh, document, mesh_file.resolve().parent)
    for product_file in _product_files(source, diagnostics):
        product_document, found = read_document(product_file)
        diagnostics.extend(found)
        product = _validated_product(product_document, plugins, diagnostics) if product_document is not None else None
        if product is not None:
            source.products.append(product)
        else:
            source.unloaded |= _claimed_refs(product_document)
    return LoadResult(source, diagnostics)


def load_product(path: Path, plugins: PluginRegistry, diagnostics: list[Diagnostic]) -> ProductSource | None:
    """Load one product spec, appending its diagnostics; None when it does not validate."""
    document, found = read_document(path)
    diagnostics.extend(found)
    return _validated_product(document, plugins, diagnostics) if document is not None else None


def _validated_product(
    document: Document, plugins: PluginRegistry, diagnostics: list[Diagnostic]
) -> ProductSource | None:
    before = len(diagnostics)
    options = dict(_plugin_options(document, plugins, diagnostics))
    product = validate(DataProduct, document, diagnostics)
    if product is None or any(d.is_error for d in diagnostics[before:]):
        return None
    for (collection, index), value in options.items():
        getattr(product, collection)[index]._options = value
    return ProductSource(product, document)


def product_from_data(data: dict[str, Any], plugins: PluginRegistry, origin: str) -> DataProduct:
    """A published spec (as stored in the catalog) back as a validated model with its plugin
    options; :class:`SpecError` names ``origin`` when this Quanta cannot read it."""
    document = Document(origin, data, None)
    diagnostics: list[Diagnostic] = []
    options = dict(_plugin_options(document, plugins, diagnostics))
    product = validate(DataProduct, document, diagnostics)
    if product is None or any(d.is_error for d in diagnostics):
        raise SpecError(diagnostics)
    for (collection, index), value in options.items():
        getattr(product, collection)[index]._options = value
    return product


def _claimed_refs(document: Document | None) -> set[str]:
    """The references an unloadable spec would have had, read from its raw data when possible."""
    data = document.data if document is not None else {}
    name, domain = data.get("name"), data.get("domain")
    if not isinstance(name, str):
        return set()
    return {name, f"{domain}.{name}"} if isinstance(domain, str) else {name}


def read_document(path: Path) -> tuple[Document | None, list[Diagnostic]]:
    """Parse a YAML file and run the checks that need only the text (duplicates, secrets)."""
    shown = display_path(path)
    text = read_spec_text(path, shown)
    if isinstance(text, Diagnostic):
        return None, [text]
    document, diagnostics = parse_yaml(text, shown)
    if document is None:
        return None, diagnostics
    document.file = path.resolve()
    if not isinstance(document.data, dict):
        diagnostics.append(
            Diagnostic(
                Code.NOT_A_MAPPING.value,
                "the file must hold a YAML mapping",
                node_location(shown, document.root),
                hint="start with 'apiVersion: quanta/v1'",
            )
        )
        return None, diagnostics
    if _SECRET_URL.search(text):  # walk the nodes only when the text holds a credential
        diagnostics.extend(_secrets(document))
    return document, diagnostics


def read_spec_text(path: Path, shown: str) -> str | Diagnostic:
    """The text of a regular file of at most :data:`MAX_SPEC_BYTES`, or a diagnostic saying why
    not (it never blocks on a FIFO nor reads a device)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return _unreadable(Code.NOT_A_FILE, f"{shown} is not a regular file", shown)
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since the check
                return _unreadable(Code.NOT_A_FILE, f"{shown} is not a regular file", shown)
            data = handle.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        return _unreadable(Code.FILE_NOT_FOUND, f"no such file: {shown}", shown)
    except OSError as exc:
        return _unreadable(Code.FILE_NOT_FOUND, f"cannot read {shown}: {exc.strerror or exc}", shown)
    if len(data) > MAX_SPEC_BYTES:
        return _unreadable(Code.FILE_TOO_LARGE, f"{shown} is larger than 1 MiB", shown)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _unreadable(Code.FILE_NOT_FOUND, f"cannot read {shown}: {exc}", shown)


def _unreadable(code: Code, message: str, shown: str) -> Diagnostic:
    hints = {
        Code.NOT_A_FILE: "a spec must be a plain file (not a FIFO, a device or a folder)",
        Code.FILE_TOO_LARGE: "a spec this large is a mistake; split it or move data out of it",
    }
    return Diagnostic(code.value, message, Location(shown), hint=hints.get(code, ""))


def validate(model: type[M], document: Document, diagnostics: list[Diagnostic]) -> M | None:
    """Validate a document's data against ``model``; errors are appended, located."""
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        diagnostics.extend(diagnostics_from(exc, document, model))
        return None


def _product_files(source: MeshSource, diagnostics: list[Diagnostic]) -> Iterator[Path]:
    seen: set[Path] = set()
    for index, pattern in enumerate(source.spec.products):
        try:
            matches = sorted(p for p in source.root.glob(pattern) if not p.is_dir())
        except (ValueError, NotImplementedError, IndexError) as exc:  # pathlib's ways of refusing a pattern
            diagnostics.append(
                Diagnostic(
                    Code.INVALID_VALUE.value,
                    f"'{pattern}' is not a glob pattern: {exc}",
                    source.document.locate(("products", index)),
                    field=f"products[{index}]",
                )
            )
            continue
        if not matches:
            diagnostics.append(
                Diagnostic(
                    Code.NO_PRODUCTS.value,
                    f"'{pattern}' matches no product file",
                    source.document.locate(("products", index)),
                    field=f"products[{index}]",
                    severity=Severity.WARNING,
                )
            )
        for match in matches:
            if match.resolve() not in seen:
                seen.add(match.resolve())
                yield match


def _plugin_options(
    document: Document, plugins: PluginRegistry, diagnostics: list[Diagnostic]
) -> Iterator[tuple[tuple[str, int], SpecModel]]:
    """Validate each input's and output's options with the model of its ``type``."""
    for collection in ("inputs", "outputs"):
        items = document.data.get(collection)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                continue  # the model reports the missing or mistyped envelope
            kind = item["type"]
            model = plugins.lookup(collection, kind)
            where = (collection, index)
            if model is None:
                table = plugins.table(collection)
                diagnostics.append(
                    Diagnostic(
                        Code.UNKNOWN_TYPE.value,
                        f"unknown {collection[:-1]} type '{kind}'",
                        document.locate((*where, "type")),
                        field=f"{collection}[{index}].type",
                        hint=suggest(kind, table) or "one of " + ", ".join(sorted(table)),
                    )
                )
                continue
            options = {k: v for k, v in item.items() if k not in _ENVELOPE_KEYS}
            try:
                yield where, model.model_validate(options)
            except ValidationError as exc:
                diagnostics.extend(diagnostics_from(exc, document, model, prefix=where, extra_allowed=_ENVELOPE_KEYS))


def _secrets(document: Document) -> Iterator[Diagnostic]:
    for node, parts in _scalars(document.root, ()):
        if _SECRET_URL.search(str(node.value)):
            yield Diagnostic(
                Code.SECRET_IN_SPEC.value,
                "a password appears in this URL",
                node_location(document.path, node),
                field=field_path(parts),
                hint="remove it; set QUANTA_CATALOG (or a profile) in the environment instead",
            )


def _scalars(node: yaml.Node | None, parts: tuple[Any, ...]) -> Iterator[tuple[yaml.ScalarNode, tuple[Any, ...]]]:
    """Every scalar node once, with the path where it first appears (aliases are not re-walked)."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node | None, tuple[Any, ...]]] = [(node, parts)]
    while stack:
        current, where = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            yield current, where
        elif isinstance(current, yaml.MappingNode):
            stack.extend((value, (*where, key.value)) for key, value in reversed(current.value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, (*where, index)) for index, item in reversed(list(enumerate(current.value))))
