"""Workshop edits that change what is already there: rename a use case, domain, system or product
(every reference follows), remove one (after showing what depends on it), deprecate a published
product, and declare business keys. Like every edit they are staged on a :class:`Workshop`, checked
first and written only by :meth:`Workshop.apply`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from quanta.design.refs import References, refuse
from quanta.design.workshop import LOGICAL_TYPES, Workshop
from quanta.errors import Location
from quanta.spec.codes import Code
from quanta.spec.index import ProductIndex
from quanta.spec.loader import ProductSource

Kind = Literal["use-case", "domain", "system", "product"]
KINDS: tuple[Kind, ...] = ("use-case", "domain", "system", "product")
_MESH_KEYS = {"use-case": ("useCases", "id"), "domain": ("domains", "name"), "system": ("systems", "name")}


@dataclass
class Removal:
    """What removing something takes with it: one line per dependent, and the staged edit."""

    message: str
    dependents: list[str] = field(default_factory=list)


@dataclass
class Restructure:
    """Renames, removals, deprecation and business keys on the mesh of ``workshop``.

    ``published`` holds the references (``domain.name``) of products with published snapshots:
    those keep their name (consumers address them by it) and are deprecated, not removed."""

    workshop: Workshop
    published: frozenset[str] = frozenset()
    _index: ProductIndex | None = field(default=None, init=False, repr=False)

    # ------------------------------------------------------------------ helpers

    @property
    def refs(self) -> References:
        return self.workshop.refs

    def _kind(self, kind: str) -> str:
        return kind.replace("-", " ")

    def _mesh(self) -> CommentedMap:
        return self.workshop._read(self.workshop.mesh_file)

    def _products(self) -> Iterator[tuple[ProductSource, CommentedMap]]:
        """Each product spec with its document as staged so far."""
        for product in self.refs.source.products:
            yield product, self.workshop._read(product.path)

    def _refers(self, value: object, target: str) -> bool:
        """Whether the product reference ``value`` names the product ``target`` (a ref)."""
        if self._index is None:
            self._index = ProductIndex.of(self.refs.source)
        return isinstance(value, str) and any(p.spec.ref == target for p in self._index.versions(value))

    def _product_refs(self, document: CommentedMap, mesh: bool) -> Iterator[tuple[CommentedMap, str]]:
        """(mapping, key) of every product reference in mesh.yaml or a product spec."""
        if mesh:
            for case in document.get("useCases") or []:
                for consumed in case.get("consumes") or []:
                    yield consumed, "product"
            for key in document.get("businessKeys") or []:
                yield key, "owner"
        else:
            for item in document.get("inputs") or []:
                if item.get("type") == "product":
                    yield item, "product"

    def _refuse_published(self, refs: Sequence[str], action: str, option: str) -> None:
        hit = sorted(set(refs) & self.published)
        if hit:
            product = self.refs.product(hit[0], option)
            raise refuse(
                Code.DESIGN_CONFLICT,
                f"{hit[0]} has published snapshots; consumers address it by its name, so it cannot be {action}",
                self.refs.at(product, "name"),
                field=option,
                hint=f"deprecate it instead: `quanta design deprecate {hit[0]}`, and design its successor",
            )

    def _entry(self, kind: str, name: str, option: str) -> tuple[CommentedMap, CommentedSeq, int]:
        self.refs.require(self._kind(kind), name, option)
        mesh = self._mesh()
        section, key = _MESH_KEYS[kind]
        entries = mesh[section]
        return mesh, entries, next(i for i, e in enumerate(entries) if e.get(key) == name)

    # ------------------------------------------------------------------ rename

    def rename(self, kind: Kind, old: str, new: str) -> str:
        """Rename ``old`` to ``new`` and every reference to it (folders named after it move)."""
        self.refs.identifier(self._kind(kind), new, "NEW")
        if kind == "product":
            return self._rename_product(old, new)
        self.refs.require(self._kind(kind), old, "OLD")
        self.refs.absent(self._kind(kind), new, "NEW")
        if kind == "domain":
            owned = [p.spec.ref for p in self.refs.source.products if p.spec.domain == old]
            self._refuse_published(owned, "renamed", "OLD")
        mesh, entries, index = self._entry(kind, old, "OLD")
        entries[index][_MESH_KEYS[kind][1]] = new
        if kind == "use-case":
            count = len(list(self._changed(lambda doc, _: _replace_introduced_by(doc, old, new), mesh)))
        elif kind == "system":
            count = len(list(self._changed(lambda doc, _: _replace_source(doc, old, new), mesh)))
        else:
            count = self._rename_domain(mesh, old, new)
        count += 1  # mesh.yaml
        return f"renamed {self._kind(kind)} {old} to {new} ({count} file(s) changed)"

    def _changed(
        self, change: Callable[[CommentedMap, bool], int], mesh: CommentedMap
    ) -> Iterator[tuple[Path, CommentedMap]]:
        """Apply ``change`` to mesh.yaml (already changed: always written) and each product spec;
        stage and yield the product documents it changed."""
        change(mesh, True)
        self.workshop._write(self.workshop.mesh_file, mesh)
        for product, document in self._products():
            if change(document, False):
                self.workshop._write(product.path, document)
                yield product.path, document

    def _rename_domain(self, mesh: CommentedMap, old: str, new: str) -> int:
        for section in ("systems", "useCases"):
            for entry in mesh.get(section) or []:
                if entry.get("domain") == old:
                    entry["domain"] = new
        owned = {p.spec.ref for p in self.refs.source.products if p.spec.domain == old}

        def change(document: CommentedMap, is_mesh: bool) -> int:
            count = 0
            for mapping, key in self._product_refs(document, is_mesh):
                value = mapping.get(key)
                ours = isinstance(value, str) and value.startswith(f"{old}.")
                if ours and any(self._refers(value, r) for r in owned):
                    mapping[key] = f"{new}.{value.split('.', 1)[1]}"
                    count += 1
            if not is_mesh and document.get("domain") == old:
                document["domain"] = new
                count += 1
            return count

        changed = list(self._changed(change, mesh))
        products = self.workshop.root / "products"
        for product in self.refs.source.products:
            folder = product.folder
            if product.spec.domain == old and folder.parent == products / old:
                self._move(folder, products / new / folder.name, product)
        return len(changed)

    def _move(self, folder: Path, target: Path, product: ProductSource) -> None:
        if target.exists() or any(t == target for _, t in self.workshop.edits.moves):
            raise refuse(
                Code.DESIGN_CONFLICT,
                f"{target} already exists",
                Location(str(target)),
                field="NEW",
                hint=f"move or remove it first; {product.spec.ref} stays in {folder}",
            )
        if (folder, target) not in self.workshop.edits.moves:
            self.workshop.edits.move(folder, target)

    def _rename_product(self, old: str, new: str) -> str:
        product = self.refs.product(old, "OLD")
        ref = product.spec.ref
        self._refuse_published([ref], "renamed", "OLD")
        domain = product.spec.domain
        renamed = f"{domain}.{new}" if domain else new
        if self.refs.find(renamed):
            raise refuse(
                Code.DUPLICATE_ID,
                f"product '{renamed}' already exists",
                self.refs.at(self.refs.find(renamed)[0], "name"),
                field="NEW",
                hint="choose another name",
            )

        def change(document: CommentedMap, is_mesh: bool) -> int:
            count = 0
            for mapping, key in self._product_refs(document, is_mesh):
                if self._refers(mapping.get(key), ref):
                    mapping[key] = f"{domain}.{new}" if "." in mapping[key] else new
                    count += 1
            return count

        changed = {path for path, _ in self._changed(change, self._mesh())}
        versions = [p for p in self.refs.source.products if p.spec.ref == ref]
        for version in versions:
            document = self.workshop._read(version.path)
            document["name"] = new
            self.workshop._write(version.path, document)
            changed.add(version.path)
            if version.folder.name == old and version.folder != self.workshop.root:
                self._move(version.folder, version.folder.with_name(new), version)
        return f"renamed product {ref} to {renamed} ({len(changed) + 1} file(s) changed)"

    # ------------------------------------------------------------------ remove

    def remove(self, kind: Kind, name: str) -> Removal:
        """Remove ``name`` and the references to it; what depends on it is listed first."""
        if kind == "product":
            return self._remove_product(name)
        if kind == "domain":
            return self._remove_domain(name)
        mesh, entries, index = self._entry(kind, name, "NAME")
        del entries[index]
        dependents: list[str] = []
        if kind == "use-case":
            for product, document in self._products():
                marked = _drop_introduced_by(document, name)
                if not marked:
                    continue
                self.workshop._write(product.path, document)
                ref = product.spec.ref
                for what in marked:
                    dependents.append(
                        f"product {ref} was introduced by it and stays (`quanta design remove product {ref}`)"
                        if what is None
                        else f"product {ref}: {what} loses its introducedBy"
                    )
        else:
            for product, document in self._products():
                inputs = document.get("inputs") or []
                dropped = [i for i in inputs if i.get("type") == "source" and i.get("system") == name]
                for item in dropped:
                    inputs.remove(item)
                    dependents.append(f"{product.spec.ref}: input {item['id']} reads it and is removed{_code(product)}")
                if dropped:
                    self.workshop._write(product.path, document)
        self.workshop._write(self.workshop.mesh_file, mesh)
        return Removal(f"removed {self._kind(kind)} {name}", dependents)

    def _remove_domain(self, name: str) -> Removal:
        mesh, entries, index = self._entry("domain", name, "NAME")
        spec = self.refs.source.spec
        users = [f"product {p.spec.ref}" for p in self.refs.source.products if p.spec.domain == name]
        users += [f"system {s.name}" for s in spec.systems if s.domain == name]
        users += [f"use case {u.id}" for u in spec.use_cases if u.domain == name]
        if users:
            raise refuse(
                Code.DESIGN_CONFLICT,
                f"domain {name} still owns {', '.join(sorted(set(users)))}",
                self.refs.section("domains"),
                field="NAME",
                hint="assign them to another domain first (`quanta design assign <product> <domain> --transfer`), "
                f"or rename the domain: `quanta design rename domain {name} <new>`",
            )
        del entries[index]
        self.workshop._write(self.workshop.mesh_file, mesh)
        return Removal(f"removed domain {name}")

    def _remove_product(self, name: str) -> Removal:
        product = self.refs.product(name, "NAME")
        ref = product.spec.ref
        self._refuse_published([ref], "removed", "NAME")
        mesh = self._mesh()
        owned = [k for k in mesh.get("businessKeys") or [] if self._refers(k.get("owner"), ref)]
        if owned:
            key = owned[0]
            raise refuse(
                Code.DESIGN_CONFLICT,
                f"{ref} owns business key {key['name']}, the reference list other products' keys are checked against",
                self.refs.source.document.locate(("businessKeys", list(mesh["businessKeys"]).index(key), "owner")),
                field="NAME",
                hint=f"give the key another owner first: `quanta design key {key['name']} --owner <product>`",
            )
        dependents: list[str] = []
        for case in mesh.get("useCases") or []:
            consumes = case.get("consumes") or []
            for consumed in [c for c in consumes if self._refers(c.get("product"), ref)]:
                consumes.remove(consumed)
                dependents.append(f"use case {case['id']}: consumes it through port {consumed.get('port')}")
            if "consumes" in case and not consumes:
                del case["consumes"]
        if dependents:
            self.workshop._write(self.workshop.mesh_file, mesh)
        for other, document in self._products():
            if other.spec.ref == ref:
                continue
            inputs = document.get("inputs") or []
            dropped = [i for i in inputs if i.get("type") == "product" and self._refers(i.get("product"), ref)]
            for item in dropped:
                inputs.remove(item)
                dependents.append(f"product {other.spec.ref}: input {item['id']} reads it{_code(other)}")
            if dropped:
                self.workshop._write(other.path, document)
        for version in (p for p in self.refs.source.products if p.spec.ref == ref):
            self.workshop.edits.remove(version.folder if version.folder != self.workshop.root else version.path)
        return Removal(f"removed product {ref}", dependents)

    # ------------------------------------------------------------------ deprecate

    def deprecate(self, name: str) -> str:
        """Mark a product deprecated: it keeps being built and served while consumers move on."""
        product = self.refs.product(name, "NAME")
        document = self.workshop._read(product.path)
        status = document.get("status", "draft")
        if status in ("proposed", "deprecated", "retired"):
            hint = f"`quanta design remove product {product.spec.ref}`" if status == "proposed" else "nothing to do"
            raise refuse(
                Code.DESIGN_CONFLICT,
                f"{product.spec.ref} is {status}; only a draft or active product is deprecated",
                self.refs.at(product, "status"),
                field="NAME",
                hint=f"a proposed product is removed instead: {hint}" if status == "proposed" else hint,
            )
        if "status" in document:
            document["status"] = "deprecated"
        else:
            keys = list(document.keys())
            document.insert(keys.index("version") + 1 if "version" in keys else len(keys), "status", "deprecated")
        self.workshop._write(product.path, document)
        return f"{product.spec.ref} is now deprecated"

    # ------------------------------------------------------------------ business keys

    def business_key(
        self,
        name: str,
        *,
        owner: str | None = None,
        logical_type: str | None = None,
        description: str | None = None,
        carriers: Sequence[str] = (),
    ) -> str:
        """Declare (or update) business key ``name`` in the glossary and mark the properties that
        carry it (``product`` or ``product:property``; the property defaults to the key's name),
        the owner's among them."""
        refs = self.refs
        refs.identifier("business key", name, "NAME", snake=True)
        if logical_type is not None and logical_type not in LOGICAL_TYPES:
            raise refuse(
                Code.INVALID_VALUE,
                f"'{logical_type}' is not a logical type",
                refs.argument(),
                field="--type",
                hint=f"one of {', '.join(sorted(LOGICAL_TYPES))}",
            )
        mesh = self._mesh()
        glossary = self.workshop._list(mesh, "businessKeys", before=("systems", "useCases", "products"))
        entry = next((k for k in glossary if k.get("name") == name), None)
        owner_source = refs.product(owner, "--owner") if owner else None
        if entry is None and owner_source is None:
            raise refuse(
                Code.MISSING_FIELD,
                f"business key {name} is not in the glossary yet; a new key needs the product that owns its values",
                refs.section("businessKeys"),
                field="--owner",
                hint=f"`quanta design key {name} --owner <product>` (the product holding the reference list)",
            )
        targets: list[tuple[ProductSource, str, str]] = []
        if owner_source is not None:
            targets.append((owner_source, name, "--owner"))
        for text in carriers:
            product_name, _, prop = text.partition(":")
            targets.append((refs.product(product_name, "--on"), prop or name, "--on"))
        located = [(source, prop, option, _property(source, prop)) for source, prop, option in targets]
        for source, prop, option, found in located:
            if found is None:
                use_case = source.spec.introduced_by or "<use case>"
                raise refuse(
                    Code.UNKNOWN_PROPERTY,
                    f"{source.spec.ref} has no property {prop}",
                    refs.at(source, "schema", "properties"),
                    field=option,
                    hint=f"add it first: `quanta design generalise {source.spec.ref} -u {use_case} -p {prop}:<type>`"
                    + (f", or name the one that carries it: {source.spec.ref}:<property>" if option == "--on" else ""),
                )
        known = entry.get("logicalType") if entry is not None else None
        key_type = known or logical_type or next((found[1] for *_, found in located if found), "string")
        if entry is not None and logical_type is not None and logical_type != known:
            raise refuse(
                Code.BUSINESS_KEY_TYPE,
                f"business key {name} is {known}, not {logical_type}",
                refs.source.document.locate(("businessKeys", list(glossary).index(entry), "logicalType")),
                field="--type",
                hint="a key has one type everywhere; leave --type out",
            )
        for source, prop, option, found in located:
            assert found is not None
            index, carried_type, carried_key = found
            if carried_type != key_type:
                raise refuse(
                    Code.BUSINESS_KEY_TYPE,
                    f"{source.spec.ref}'s {prop} is {carried_type} but business key {name} is {key_type}",
                    refs.at(source, "schema", "properties", index, "logicalType"),
                    field=option,
                    hint=f"a key has one type everywhere: make {prop} {key_type}",
                )
            if carried_key not in (None, name):
                raise refuse(
                    Code.DESIGN_CONFLICT,
                    f"{source.spec.ref}'s {prop} already carries business key {carried_key}",
                    refs.at(source, "schema", "properties", index, "businessKey"),
                    field=option,
                    hint="a property carries one business key",
                )
        if entry is None:
            assert owner_source is not None
            entry = CommentedMap([("name", name), ("logicalType", key_type), ("owner", owner_source.spec.ref)])
            glossary.append(entry)
        elif owner_source is not None:
            entry["owner"] = owner_source.spec.ref
        if description is not None:
            entry["description"] = description
        self.workshop._write(self.workshop.mesh_file, mesh)
        marked: list[str] = []
        for source, prop, _, found in located:
            assert found is not None
            document = self.workshop._read(source.path)
            item = document["schema"]["properties"][found[0]]
            if item.get("businessKey") != name:
                item["businessKey"] = name
                self.workshop._write(source.path, document)
                marked.append(f"{source.spec.ref}.{prop}")
        carried = f"; carried by {', '.join(marked)}" if marked else ""
        return f"business key {name} ({key_type}, owned by {entry['owner']}){carried}"


def _property(product: ProductSource, name: str) -> tuple[int, str, str | None] | None:
    """(position, logical type, business key) of a product's property, None when it has none so named."""
    for index, prop in enumerate(product.spec.schema_.properties):
        if prop.name == name:
            return index, prop.logical_type, prop.business_key
    return None


def _code(product: ProductSource) -> str:
    transform = product.spec.transform
    return f" (edit its transform, which may still read it: {product.folder.name}/)" if transform else ""


def _walk(node: object) -> Iterator[CommentedMap]:
    if isinstance(node, CommentedMap):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, CommentedSeq):
        for value in node:
            yield from _walk(value)


def _replace_introduced_by(document: CommentedMap, old: str, new: str) -> int:
    count = 0
    for mapping in _walk(document):
        if mapping.get("introducedBy") == old:
            mapping["introducedBy"] = new
            count += 1
    return count


def _drop_introduced_by(document: CommentedMap, use_case: str) -> list[str | None]:
    """Remove every ``introducedBy: use_case``; what carried it (None: the product itself)."""
    dropped: list[str | None] = []
    for mapping in _walk(document):
        if mapping.get("introducedBy") == use_case:
            del mapping["introducedBy"]
            dropped.append(None if mapping is document else str(mapping.get("id") or mapping.get("name")))
    return dropped


def _replace_source(document: CommentedMap, old: str, new: str) -> int:
    count = 0
    for item in document.get("inputs") or []:
        if item.get("type") == "source" and item.get("system") == old:
            item["system"] = new
            count += 1
    return count
