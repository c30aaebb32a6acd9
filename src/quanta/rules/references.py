"""Validation rules over references: domains, products and majors, systems, roles, ports,
properties, use cases and business keys. Each names what it could not find and suggests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from quanta.errors import Severity
from quanta.rules.base import Rule, Violation, violation
from quanta.spec.codes import Code
from quanta.spec.errormap import suggest
from quanta.spec.index import ProductIndex
from quanta.spec.loader import MeshSource, ProductSource
from quanta.spec.plugins import SOURCE_INPUT_TYPES
from quanta.spec.yamlsource import Document, PathPart
from quanta.sql.rowfilter import RowFilterParser, SqlRestrictionError, parse_row_filter


def _hint(word: str, known: Iterable[str], what: str) -> str:
    names = sorted(set(known))
    return suggest(word, names) or (f"declared {what}: {', '.join(names)}" if names else f"no {what} declared")


class DomainsAreDeclared(Rule):
    name = "domains-are-declared"
    description = "Products, systems and use cases name declared domains; products past `proposed` have one."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        domains = {d.name for d in mesh.spec.domains}
        for i, system in enumerate(mesh.spec.systems):
            if system.domain not in domains:
                yield violation(
                    mesh.document,
                    ("systems", i, "domain"),
                    Code.UNKNOWN_DOMAIN.value,
                    f"domain '{system.domain}' is not declared",
                    hint=_hint(system.domain, domains, "domains"),
                )
        for i, use_case in enumerate(mesh.spec.use_cases):
            if use_case.domain not in domains:
                yield violation(
                    mesh.document,
                    ("useCases", i, "domain"),
                    Code.UNKNOWN_DOMAIN.value,
                    f"domain '{use_case.domain}' is not declared",
                    hint=_hint(use_case.domain, domains, "domains"),
                )
        for product in mesh.products:
            spec = product.spec
            if spec.domain is None:
                proposed = spec.status == "proposed"
                yield violation(
                    product.document,
                    ("name",),
                    Code.MISSING_DOMAIN.value,
                    f"product '{spec.name}' has no owning domain" + (" yet" if proposed else ""),
                    hint="assign exactly one domain (`quanta design assign`)"
                    if proposed
                    else "a product past 'proposed' needs `domain:`",
                    severity=Severity.WARNING if proposed else Severity.ERROR,
                )
            elif spec.domain not in domains:
                yield violation(
                    product.document,
                    ("domain",),
                    Code.UNKNOWN_DOMAIN.value,
                    f"domain '{spec.domain}' is not declared in mesh.yaml",
                    hint=_hint(spec.domain, domains, "domains"),
                )


class InputsResolve(Rule):
    name = "inputs-resolve"
    description = "Product inputs name an existing product and major; source inputs a declared system."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        index = ProductIndex.of(mesh)
        systems = {s.name for s in mesh.spec.systems}
        for product in mesh.products:
            for i, spec_input in enumerate(product.spec.inputs):
                options = spec_input.options
                where: tuple[PathPart, ...] = ("inputs", i)
                if spec_input.type == "product":
                    versions = index.versions(options.product)
                    if not versions and options.product not in mesh.unloaded:
                        yield violation(
                            product.document,
                            (*where, "product"),
                            Code.UNKNOWN_PRODUCT.value,
                            f"no product '{options.product}' in this mesh",
                            hint=_hint(options.product, index.refs, "products"),
                        )
                    elif versions and options.major not in {v.spec.major for v in versions}:
                        majors = ", ".join(str(v.spec.major) for v in sorted(versions, key=lambda v: v.spec.major))
                        yield violation(
                            product.document,
                            (*where, "major"),
                            Code.UNKNOWN_MAJOR.value,
                            f"'{options.product}' has no major version {options.major}",
                            hint=f"available majors: {majors}",
                        )
                elif spec_input.type in SOURCE_INPUT_TYPES and options.system not in systems:
                    yield violation(
                        product.document,
                        (*where, "system"),
                        Code.UNKNOWN_SYSTEM.value,
                        f"system of record '{options.system}' is not declared",
                        hint=_hint(options.system, systems, "systems"),
                    )


class UseCasesResolve(Rule):
    name = "use-cases-resolve"
    description = "`introducedBy` names a declared use case; use cases consume existing product ports."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        index = ProductIndex.of(mesh)
        use_cases = {u.id for u in mesh.spec.use_cases}
        for i, use_case in enumerate(mesh.spec.use_cases):
            for j, consumed in enumerate(use_case.consumes):
                where: tuple[PathPart, ...] = ("useCases", i, "consumes", j)
                target = index.resolve(consumed.product)
                if consumed.product in mesh.unloaded:
                    continue
                if target is None:
                    yield violation(
                        mesh.document,
                        (*where, "product"),
                        Code.UNKNOWN_PRODUCT.value,
                        f"no product '{consumed.product}' in this mesh",
                        hint=_hint(consumed.product, index.refs, "products"),
                    )
                elif target.spec.output(consumed.port) is None:
                    yield _unknown_port(mesh.document, (*where, "port"), consumed.port, target)
        for product in mesh.products:
            for parts, value in _introductions(product):
                if value not in use_cases:
                    yield violation(
                        product.document,
                        parts,
                        Code.UNKNOWN_USE_CASE.value,
                        f"use case '{value}' is not declared in mesh.yaml",
                        hint=_hint(value, use_cases, "use cases"),
                    )


def _introductions(product: ProductSource) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    spec = product.spec
    if spec.introduced_by:
        yield ("introducedBy",), spec.introduced_by
    for collection, items in (("inputs", spec.inputs), ("outputs", spec.outputs)):
        for i, item in enumerate(items):
            if item.introduced_by:
                yield (collection, i, "introducedBy"), item.introduced_by
    for i, prop in enumerate(spec.schema_.properties):
        if prop.introduced_by:
            yield ("schema", "properties", i, "introducedBy"), prop.introduced_by


def _unknown_port(document: Document, parts: tuple[PathPart, ...], port: str, product: ProductSource) -> Violation:
    ports = [p.id for p in product.spec.outputs]
    return violation(
        document,
        parts,
        Code.UNKNOWN_PORT.value,
        f"product '{product.spec.ref}' has no output port '{port}'",
        hint=_hint(port, ports, "ports"),
    )


class PortsAndPropertiesResolve(Rule):
    name = "ports-and-properties-resolve"
    description = "Grants, SLOs and port options name the product's own ports and properties."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        for product in mesh.products:
            yield from self._ports(product)
            yield from self._properties(product)

    def _ports(self, product: ProductSource) -> Iterator[Violation]:
        spec = product.spec
        refs: list[tuple[tuple[PathPart, ...], str]] = []
        for i, grant in enumerate(spec.access.grants):
            refs += [(("access", "grants", i, "ports", j), port) for j, port in enumerate(grant.ports)]
        for name in ("availability", "latency"):
            objective = getattr(spec.slos, name)
            if objective is not None:
                refs += [(("slos", name, "ports", j), port) for j, port in enumerate(objective.ports)]
        for parts, port in refs:
            if port != "*" and spec.output(port) is None:
                yield _unknown_port(product.document, parts, port, product)

    def _properties(self, product: ProductSource) -> Iterator[Violation]:
        spec = product.spec
        names = set(spec.schema_.names)
        for parts, name in _property_refs(product):
            if name not in names:
                yield violation(
                    product.document,
                    parts,
                    Code.UNKNOWN_PROPERTY.value,
                    f"'{name}' is not a property of {spec.ref}",
                    hint=_hint(name, names, "properties"),
                )


def _property_refs(product: ProductSource) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    spec = product.spec
    for i, grant in enumerate(spec.access.grants):
        for j, name in enumerate(grant.unmask):
            yield ("access", "grants", i, "unmask", j), name
    if spec.slos.completeness:
        for j, name in enumerate(spec.slos.completeness.properties):
            yield ("slos", "completeness", "properties", j), name
    if spec.slos.freshness and spec.slos.freshness.timestamp:
        yield ("slos", "freshness", "timestamp"), spec.slos.freshness.timestamp
    for i, port in enumerate(spec.outputs):
        options = port.options
        for option in ("partition_by", "lookup", "features", "outputs"):
            alias = {"partition_by": "partitionBy"}.get(option, option)
            for j, name in enumerate(getattr(options, option, None) or []):
                if isinstance(name, str):  # a model port's field with its own type is no property
                    yield ("outputs", i, alias, j), name
        target = getattr(options, "target", None)
        if target:
            yield ("outputs", i, "target"), target


class RolesAreDeclared(Rule):
    name = "roles-are-declared"
    description = "Grants name roles declared in mesh.yaml."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        roles = {r.name for r in mesh.spec.roles}
        for product in mesh.products:
            for i, grant in enumerate(product.spec.access.grants):
                if grant.role is not None and grant.role not in roles:
                    yield violation(
                        product.document,
                        ("access", "grants", i, "role"),
                        Code.UNKNOWN_ROLE.value,
                        f"role '{grant.role}' is not declared in mesh.yaml",
                        hint=_hint(grant.role, roles, "roles"),
                    )


class BusinessKeysMatchGlossary(Rule):
    name = "business-keys-match-glossary"
    description = "Business-key properties are in the glossary with the same type; key owners exist."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        glossary = {k.name: k for k in mesh.spec.business_keys}
        index = ProductIndex.of(mesh)
        for i, key in enumerate(mesh.spec.business_keys):
            if index.resolve(key.owner) is None and key.owner not in mesh.unloaded:
                yield violation(
                    mesh.document,
                    ("businessKeys", i, "owner"),
                    Code.UNKNOWN_PRODUCT.value,
                    f"owner product '{key.owner}' is not in this mesh",
                    hint=_hint(key.owner, index.refs, "products"),
                )
        for product in mesh.products:
            for i, prop in enumerate(product.spec.schema_.properties):
                if prop.business_key is None:
                    continue
                where: tuple[PathPart, ...] = ("schema", "properties", i)
                entry = glossary.get(prop.business_key)
                if entry is None:
                    yield violation(
                        product.document,
                        (*where, "businessKey"),
                        Code.UNKNOWN_BUSINESS_KEY.value,
                        f"business key '{prop.business_key}' is not in the mesh glossary",
                        hint=_hint(prop.business_key, glossary, "business keys"),
                    )
                elif entry.logical_type != prop.logical_type:
                    yield violation(
                        product.document,
                        (*where, "logicalType"),
                        Code.BUSINESS_KEY_TYPE.value,
                        f"'{prop.name}' is {prop.logical_type} but business key '{entry.name}' is {entry.logical_type}",
                        hint=f"use logicalType: {entry.logical_type}",
                    )


class RowFiltersParse(Rule):
    name = "row-filters-parse"
    description = "Row filters are boolean SQL expressions over the product's properties."

    def __init__(self, parse: RowFilterParser = parse_row_filter) -> None:
        """``parse`` may be a memo of :func:`parse_row_filter`, so an unchanged filter is not parsed again."""
        self.parse = parse

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        for product in mesh.products:
            names = set(product.spec.schema_.names)
            for i, grant in enumerate(product.spec.access.grants):
                if grant.row_filter is None:
                    continue
                where: tuple[PathPart, ...] = ("access", "grants", i, "rowFilter")
                try:
                    parsed = self.parse(grant.row_filter)
                except SqlRestrictionError as exc:
                    yield violation(
                        product.document,
                        where,
                        Code.INVALID_ROW_FILTER.value,
                        f"row filter does not parse: {exc}",
                        hint="write a boolean expression, e.g. country = :principal.country",
                    )
                    continue
                for column in sorted(parsed.columns - names):
                    yield violation(
                        product.document,
                        where,
                        Code.UNKNOWN_PROPERTY.value,
                        f"row filter reads '{column}', not a property of {product.spec.ref}",
                        hint=_hint(column, names, "properties"),
                    )
