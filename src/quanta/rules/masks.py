"""Validation rules over masks: every mask a property can receive is defined for its logical type,
and a grant's ``masks:`` names classified properties of the product."""

from __future__ import annotations

from collections.abc import Iterator

from quanta.rules.base import Rule, Violation, violation
from quanta.spec.codes import Code
from quanta.spec.errormap import suggest
from quanta.spec.loader import MeshSource, ProductSource
from quanta.spec.masks import DEFAULT_MASKS, MASK_TYPES, defined_for, mask_for


def _kinds_for(logical_type: str) -> str:
    return ", ".join(kind for kind, types in MASK_TYPES.items() if logical_type in types)


class MasksFitTypes(Rule):
    name = "masks-fit-types"
    description = "Masks (mesh defaults and grant overrides) are defined for each property's logical type."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        for product in mesh.products:
            yield from self._defaults(mesh, product)
            yield from self._grants(product)

    def _defaults(self, mesh: MeshSource, product: ProductSource) -> Iterator[Violation]:
        for i, prop in enumerate(product.spec.schema_.properties):
            if not prop.is_classified:
                continue
            kind = mask_for(prop.classification, mesh.spec.masks)
            if not defined_for(kind, prop.logical_type):
                default = DEFAULT_MASKS.get(prop.classification or "", "redact")
                yield violation(
                    product.document,
                    ("schema", "properties", i, "classification"),
                    Code.MASK_UNDEFINED_FOR_TYPE.value,
                    f"mesh.yaml masks {prop.classification} as '{kind}', which is not defined for "
                    f"'{prop.name}' (logicalType {prop.logical_type})",
                    hint=f"masks for {prop.logical_type}: {_kinds_for(prop.logical_type)}; override it in the "
                    f"grants' `masks:` or use another classification (the default for {prop.classification} "
                    f"is '{default}')",
                )

    def _grants(self, product: ProductSource) -> Iterator[Violation]:
        spec = product.spec
        names = spec.schema_.names
        for i, grant in enumerate(spec.access.grants):
            for name, kind in grant.masks.items():
                parts = ("access", "grants", i, "masks", name)
                prop = spec.schema_.get(name)
                if prop is None:
                    yield violation(
                        product.document,
                        parts,
                        Code.UNKNOWN_PROPERTY.value,
                        f"'{name}' is not a property of {spec.ref}",
                        hint=suggest(name, names) or f"properties: {', '.join(names)}",
                        key=True,
                    )
                elif not prop.is_classified:
                    yield violation(
                        product.document,
                        parts,
                        Code.MASK_NOT_CLASSIFIED.value,
                        f"'{name}' is not classified, so it is never masked",
                        hint="classify it (pii, sensitive, confidential, restricted) or drop the mask",
                        key=True,
                    )
                elif not defined_for(kind, prop.logical_type):
                    yield violation(
                        product.document,
                        parts,
                        Code.MASK_UNDEFINED_FOR_TYPE.value,
                        f"mask '{kind}' is not defined for '{name}' (logicalType {prop.logical_type})",
                        hint=f"masks for {prop.logical_type}: {_kinds_for(prop.logical_type)}",
                    )
