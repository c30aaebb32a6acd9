"""What a build publishes about a product and its mesh besides data: the descriptors a server,
the web catalog or another repository's build reads instead of a checkout."""

from __future__ import annotations

import socket
from pathlib import Path

from quanta.build.errors import BuildFailure
from quanta.catalog import Descriptor, MeshDescriptor, ProductEntry
from quanta.plan.fingerprints import python_modules
from quanta.spec.loader import MeshSource, ProductSource

_MESH_SETTINGS = {"platform", "profiles"}
"""Environment-specific parts of mesh.yaml, never published."""


def mesh_descriptor(mesh: MeshSource) -> MeshDescriptor:
    """Domains and teams, roles, glossary, systems, use cases and masks; the origin is host and folder."""
    spec = mesh.spec.model_dump(by_alias=True, mode="json", exclude_none=True, exclude=_MESH_SETTINGS)
    return MeshDescriptor(mesh.spec.name, spec, f"{socket.gethostname()}:{mesh.root}")


def product_entry(product: ProductSource, mesh: str) -> ProductEntry:
    spec = product.spec
    return ProductEntry(
        spec.key, spec.ref, spec.domain or "_", spec.name, spec.major, spec.version, spec.description, mesh
    )


def product_descriptor(product: ProductSource, mesh: str) -> Descriptor:
    """The full validated spec as data plus the served files from the product folder."""
    spec = product.spec
    data = spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    return Descriptor(spec.key, spec.version, data, served_files(product), mesh)


def served_files(product: ProductSource) -> dict[str, bytes]:
    """Files a server needs, by path relative to the product folder: each report port's template
    and the templates it includes, extends or imports; each model port's scoring module and the
    local modules it imports."""
    folder = product.folder.resolve()
    paths: set[Path] = set()
    for port in product.spec.outputs:
        if port.type == "report" and port.options is not None:
            paths |= _templates(folder, port.options.template)
        elif port.type == "model" and port.options is not None:
            entry = _inside(folder, port.options.entrypoint.split(":", 1)[0])
            paths |= set(python_modules(entry, folder))
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(paths)}


def _templates(folder: Path, name: str) -> set[Path]:
    """A template and, transitively, every template it names literally."""
    import jinja2
    from jinja2 import meta

    environment = jinja2.Environment(autoescape=True)
    found: set[Path] = set()
    pending = [name]
    while pending:
        path = _inside(folder, pending.pop())
        if path in found or not path.is_file():
            continue
        found.add(path)
        try:
            tree = environment.parse(path.read_text(encoding="utf-8"))
        except jinja2.TemplateSyntaxError:
            continue  # rendering reports it with its line
        pending += [n for n in meta.find_referenced_templates(tree) if n is not None]
    return found


def _inside(folder: Path, relative: str) -> Path:
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder):
        raise BuildFailure(f"{relative} leads outside the product folder {folder}; served files must live in it")
    return path
