"""Validation rules over the mesh's shape: unique ids, one spec per product major, SQL names,
no dependency cycles, referenced files present, a transform once a product is active."""

from __future__ import annotations

import graphlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from quanta.rules.base import Rule, Violation, violation
from quanta.spec.codes import Code
from quanta.spec.index import ProductIndex, sql_names
from quanta.spec.loader import MeshSource, ProductSource
from quanta.spec.transform import PythonTransform, SqlTransform
from quanta.spec.yamlsource import Document, PathPart


def _duplicates(
    document: Document, items: Sequence[Any], attribute: str, where: tuple[PathPart, ...], alias: str, what: str
) -> Iterator[Violation]:
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        value = getattr(item, attribute)
        if value in first:
            line = document.locate((*where, first[value])).line
            yield violation(
                document,
                (*where, i, alias),
                Code.DUPLICATE_ID.value,
                f"{what} '{value}' is declared twice",
                hint=f"first declared at line {line}",
            )
        else:
            first[value] = i


class IdsAreUnique(Rule):
    name = "ids-are-unique"
    description = "Domains, roles, keys, systems, use cases, inputs, ports and properties are unique."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        spec, doc = mesh.spec, mesh.document
        yield from _duplicates(doc, spec.domains, "name", ("domains",), "name", "domain")
        yield from _duplicates(doc, spec.roles, "name", ("roles",), "name", "role")
        yield from _duplicates(doc, spec.business_keys, "name", ("businessKeys",), "name", "business key")
        yield from _duplicates(doc, spec.systems, "name", ("systems",), "name", "system")
        yield from _duplicates(doc, spec.use_cases, "id", ("useCases",), "id", "use case")
        for product in mesh.products:
            p, d = product.spec, product.document
            yield from _duplicates(d, p.inputs, "id", ("inputs",), "id", "input")
            yield from _duplicates(d, p.outputs, "id", ("outputs",), "id", "output port")
            yield from _duplicates(d, p.schema_.properties, "name", ("schema", "properties"), "name", "property")


class OneSpecPerMajor(Rule):
    name = "one-spec-per-major"
    description = "Two specs never share a domain, name and major version; SQL names never collide."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        seen: dict[str, ProductSource] = {}
        names: dict[str, ProductSource] = {}
        index = ProductIndex.of(mesh)
        for product in mesh.products:
            key = product.spec.key
            if key in seen:
                yield violation(
                    product.document,
                    ("name",),
                    Code.DUPLICATE_PRODUCT.value,
                    f"{key} is also defined in {seen[key].path}",
                    hint="bump the major version or rename one of them",
                )
                continue
            seen[key] = product
            for sql_name in sql_names(product.spec, index.is_latest(product.spec)):
                other = names.get(sql_name)
                if other is not None and other is not product:
                    yield violation(
                        product.document,
                        ("name",),
                        Code.SQL_NAME_COLLISION.value,
                        f"SQL name {sql_name} of {key} collides with {other.spec.key}",
                        hint="rename one product",
                    )
                names.setdefault(sql_name, product)


class NoDependencyCycles(Rule):
    name = "no-dependency-cycles"
    description = "Products do not depend on each other in a cycle."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        index = ProductIndex.of(mesh)
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        by_key = {p.spec.key: p for p in mesh.products}
        for product in mesh.products:
            sorter.add(product.spec.key)
            for spec_input in product.spec.inputs:
                if spec_input.type == "product":
                    upstream = index.resolve(spec_input.options.product, spec_input.options.major)
                    if upstream is not None:
                        sorter.add(product.spec.key, upstream.spec.key)
        try:
            sorter.prepare()
        except graphlib.CycleError as exc:
            cycle: list[str] = exc.args[1]
            first = by_key[cycle[0]]
            yield violation(
                first.document,
                ("inputs",),
                Code.DEPENDENCY_CYCLE.value,
                "products depend on each other in a cycle: " + " → ".join(cycle),
                hint="break the cycle: a product cannot consume its own downstream",
            )


class ReferencedFilesExist(Rule):
    name = "referenced-files-exist"
    description = "SQL steps, Python entry points and report templates exist; active products have a transform."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        for product in mesh.products:
            spec = product.spec
            transform = spec.transform
            if transform is None and spec.status in ("active", "deprecated"):
                yield violation(
                    product.document,
                    ("status",),
                    Code.MISSING_FIELD.value,
                    f"an {spec.status} product needs a transform",
                    hint="add `transform:`",
                )
            if spec.status == "proposed":
                continue  # a stub: its files come with `quanta design scaffold`
            files: list[tuple[tuple[PathPart, ...], str]] = []
            if isinstance(transform, SqlTransform):
                files += [(("transform", "steps", i), step) for i, step in enumerate(transform.steps)]
            elif isinstance(transform, PythonTransform):
                files.append((("transform", "entrypoint"), transform.entrypoint.split(":")[0]))
            for i, port in enumerate(spec.outputs):
                if port.type == "report":
                    files.append((("outputs", i, "template"), port.options.template))
                elif port.type == "model":
                    files.append((("outputs", i, "entrypoint"), port.options.entrypoint.split(":")[0]))
            for parts, relative in files:
                if parts[-1] == "template" and not _inside(product.folder, relative):
                    yield violation(
                        product.document,
                        parts,
                        Code.FILE_OUTSIDE_PRODUCT.value,
                        f"template '{relative}' leads outside the product folder",
                        hint=f"put the template (not a symlink to it) in {product.folder}",
                    )
                elif not (product.folder / relative).is_file():
                    yield violation(
                        product.document,
                        parts,
                        Code.MISSING_FILE.value,
                        f"file '{relative}' does not exist next to the spec",
                        hint=f"create {product.folder / relative}",
                    )


def _inside(folder: Path, relative: str) -> bool:
    """Whether ``relative`` names a path whose real location (symlinks followed) is in ``folder``."""
    return (folder / relative).resolve().is_relative_to(folder.resolve())
