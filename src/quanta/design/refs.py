"""What a workshop edit refers to, checked before anything is written: names that are valid
identifiers, and use cases, domains, systems and products that exist. A refusal is a located
diagnostic with a hint (``did you mean …?`` or the command that adds what is missing)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from quanta.errors import Diagnostic, Location, SpecError
from quanta.spec.base import KEBAB, SNAKE
from quanta.spec.codes import Code
from quanta.spec.errormap import suggest
from quanta.spec.loader import MeshSource, ProductSource
from quanta.spec.yamlsource import PathPart

_KINDS = {
    "domain": ("domains", "name", Code.UNKNOWN_DOMAIN, "quanta design domain {name}"),
    "system": ("systems", "name", Code.UNKNOWN_SYSTEM, "quanta design system {name} --domain <domain>"),
    "use case": ("useCases", "id", Code.UNKNOWN_USE_CASE, "quanta design use-case {name} --persona … --domain …"),
}


def refuse(code: Code, message: str, location: Location, *, field: str = "", hint: str = "") -> SpecError:
    """The error a refused edit raises (rendered as one located line; exit code 1)."""
    return SpecError([Diagnostic(code.value, message, location, field=field, hint=hint)])


def slug(text: str, separator: str = "-") -> str:
    """``Customer Value`` → ``customer-value`` (``customer_value`` with ``_``)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    name = separator.join(words)
    return name if not name[:1].isdigit() else f"x{separator}{name}"


@dataclass
class References:
    """The names a mesh declares, where it declares them, and checks against them."""

    source: MeshSource

    @property
    def mesh_path(self) -> str:
        return self.source.document.path

    def section(self, key: str) -> Location:
        """Where ``key:`` is in mesh.yaml (the file itself when it is absent)."""
        if isinstance(self.source.document.data, dict) and key in self.source.document.data:
            return self.source.document.locate((key,), key=True)
        return Location(self.mesh_path, 1, 1)

    def argument(self) -> Location:
        """Where a refused command-line value is reported: the mesh file it would have changed."""
        return Location(self.mesh_path)

    @staticmethod
    def at(product: ProductSource, *parts: PathPart, key: bool = False) -> Location:
        """Where ``parts`` is in a product's dataproduct.yaml (its closest existing parent)."""
        return product.document.locate(tuple(parts), key=key)

    def names(self, kind: str) -> list[str]:
        spec = self.source.spec
        if kind == "domain":
            return [d.name for d in spec.domains]
        if kind == "system":
            return [s.name for s in spec.systems]
        if kind == "use case":
            return [u.id for u in spec.use_cases]
        if kind == "business key":
            return [k.name for k in spec.business_keys]
        raise ValueError(kind)

    def identifier(self, kind: str, name: str, option: str, *, snake: bool = False) -> str:
        """``name`` when it is a valid identifier (kebab-case, or snake_case for properties and keys)."""
        pattern, example = (SNAKE, slug(name, "_")) if snake else (KEBAB, slug(name))
        if re.match(pattern, name) and len(name) <= 63:
            return name
        style = "lower-case snake_case" if snake else "lower-case kebab-case"
        raise refuse(
            Code.INVALID_VALUE,
            f"'{name}' is not a valid {kind} name",
            Location(self.mesh_path),
            field=option,
            hint=f"use {style} of at most 63 characters, e.g. '{example or 'name'}'",
        )

    def require(self, kind: str, name: str, option: str) -> None:
        """Refuse unless the mesh declares the ``kind`` (domain, system, use case) called ``name``."""
        known = self.names(kind)
        if name in known:
            return
        key, _, code, command = _KINDS[kind]
        hint = suggest(name, known) or f"add it first: `{command.format(name=name)}`"
        listed = ", ".join(known) or "none yet"
        raise refuse(
            code,
            f"no {kind} '{name}' in {key}: (declared: {listed})",
            self.section(key),
            field=option,
            hint=hint,
        )

    def absent(self, kind: str, name: str, option: str) -> None:
        """Refuse when ``name`` is already declared as a ``kind``."""
        if name in self.names(kind) if kind != "product" else self.find(name):
            key = _KINDS[kind][0] if kind in _KINDS else "products"
            raise refuse(
                Code.DUPLICATE_ID,
                f"{kind} '{name}' already exists",
                self.section(key),
                field=option,
                hint=f"choose another name, or `quanta design rename {kind.replace(' ', '-')} {name} <new>`",
            )

    def find(self, name: str) -> list[ProductSource]:
        """Products called ``name`` (by ``domain.name``, ``name`` or key), one per ref (latest major)."""
        found: dict[str, ProductSource] = {}
        for product in self.source.products:
            spec = product.spec
            newer = spec.ref not in found or spec.major > found[spec.ref].spec.major
            if name in (spec.ref, spec.name, spec.key) and newer:
                found[spec.ref] = product
        return list(found.values())

    def product(self, name: str, option: str = "product") -> ProductSource:
        """The one product ``name`` refers to, else a refusal with the closest names."""
        found = self.find(name)
        if len(found) == 1:
            return found[0]
        if found:
            refs = ", ".join(sorted(p.spec.ref for p in found))
            raise refuse(
                Code.UNKNOWN_PRODUCT,
                f"'{name}' is ambiguous: {refs}",
                self.section("products"),
                field=option,
                hint="name it as <domain>.<name>",
            )
        candidates = _product_names(self.source.products)
        hint = suggest(name, candidates) or "add it first: `quanta design product …`"
        raise refuse(
            Code.UNKNOWN_PRODUCT,
            f"no product '{name}' in mesh '{self.source.spec.name}'",
            self.section("products"),
            field=option,
            hint=hint,
        )

    def product_reference(self, ref: str, option: str) -> None:
        """A product named as an input or consumer: a valid ``[domain.]name`` (it may come later)."""
        parts = ref.split(".")
        if len(parts) > 2 or not all(re.match(KEBAB, p) for p in parts):
            raise refuse(
                Code.INVALID_VALUE,
                f"'{ref}' is not a product reference",
                Location(self.mesh_path),
                field=option,
                hint=f"write <domain>.<name> or <name> in kebab-case, e.g. '{slug(ref)}'",
            )
        if len(parts) == 2:
            self.require("domain", parts[0], option)


def _product_names(products: Iterable[ProductSource]) -> list[str]:
    names: list[str] = []
    for product in products:
        names += [product.spec.ref, product.spec.name]
    return names
