"""The design workshop's edits: add use cases, systems and product stubs, generalise, assign a
domain, promote. Each edit rewrites YAML with ruamel.yaml, keeping comments and formatting, and
records the use case that introduced what it adds (``introducedBy``)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString

from quanta.design.edits import Edits
from quanta.design.refs import References, refuse
from quanta.errors import Location, QuantaError, SpecError
from quanta.spec.codes import Code
from quanta.spec.loader import MESH_FILE, find_mesh_file, load_mesh
from quanta.spec.schema import LogicalType

LOGICAL_TYPES = set(LogicalType.__args__)  # type: ignore[attr-defined]
_UNEDITABLE = {
    code.value
    for code in (Code.YAML_SYNTAX, Code.DUPLICATE_KEY, Code.YAML_TOO_COMPLEX, Code.NOT_A_MAPPING, Code.NOT_A_FILE)
}
"""Problems that make a file impossible to rewrite faithfully: edits refuse until they are fixed."""
ACCESS_PORTS = {"report": "report", "rest": "rest", "sql": "sql", "files": "files", "model": "model"}


class DesignError(QuantaError):
    """A design edit cannot be made; the message says why."""


class InvalidArgument(ValueError):
    """A command-line value has not the form an edit needs; ``hint`` shows the form."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120  # ruamel re-flows flow collections it writes back; long texts we add are folded by `_folded`
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


# ruamel leaves a space where it wraps a line; YAML folds the break into that space anyway
_TRAILING_SPACES = re.compile(r"[ \t]+\n")


def _folded(text: str, width: int = 100) -> str:
    """``text`` as a folded block scalar (``>``) wrapped at ``width``, when it is longer than that."""
    if len(text) <= width or "\n" in text:
        return text
    folded = FoldedScalarString(text)
    folded.fold_pos = _wrap_points(text, width)
    return folded


def _wrap_points(text: str, width: int) -> list[int]:
    points, line_start, last_space = [], 0, -1
    for position, char in enumerate(text):
        if char == " ":
            if position - line_start > width and last_space > line_start:
                points.append(last_space)
                line_start = last_space + 1
            last_space = position
    if len(text) - line_start > width and last_space > line_start:
        points.append(last_space)
    return points


def _flow(**values: Any) -> CommentedMap:
    item = CommentedMap((k, v) for k, v in values.items() if v is not None)
    item.fa.set_flow_style()
    return item


@dataclass
class Workshop:
    """Edits to the mesh in ``root`` (a folder with mesh.yaml), staged in :attr:`edits` until applied."""

    root: Path

    def __post_init__(self) -> None:
        self.mesh_file = find_mesh_file(self.root)
        self.root = self.mesh_file.parent
        if not self.mesh_file.is_file():
            raise DesignError(f"no {MESH_FILE} in {self.root}; start with `quanta init`")
        self.edits = Edits(self.root)
        self._refs: References | None = None

    # ------------------------------------------------------------------ files

    def _read(self, path: Path) -> Any:
        return _yaml().load(self.edits.read(path))

    def _write(self, path: Path, data: Any) -> None:
        text = io.StringIO()
        _yaml().dump(data, text)
        self.edits.write(path, _TRAILING_SPACES.sub("\n", text.getvalue()))

    def _list(self, data: CommentedMap, key: str, *, before: Sequence[str] = ()) -> CommentedSeq:
        """``data[key]`` as a list to append to: an absent, null or empty ``[]`` one becomes a block
        list (inserted before the first of ``before`` present, else at the end)."""
        if data.get(key):
            return data[key]
        fresh = CommentedSeq()
        if key not in data and (anchor := next((k for k in before if k in data), None)) is not None:
            data.insert(list(data.keys()).index(anchor), key, fresh)
        else:
            data[key] = fresh
        return fresh

    @property
    def refs(self) -> References:
        """The mesh as it is on disk, to check what an edit refers to."""
        if self._refs is None:
            result = load_mesh(self.root)
            unreadable = [d for d in result.diagnostics if d.is_error and d.code in _UNEDITABLE]
            if result.mesh is None or unreadable:  # an edit rewrites the YAML: it must read as written
                raise SpecError(unreadable or result.diagnostics)
            self._refs = References(result.mesh)
        return self._refs

    def _product_file(self, name: str, option: str = "product") -> Path:
        return self.refs.product(name, option).path

    def apply(self) -> None:
        """Write the staged changes."""
        self.edits.apply()

    # ------------------------------------------------------------------ mesh.yaml

    def add_use_case(
        self,
        use_case: str,
        persona: str,
        domain: str,
        statement: str,
        *,
        product: str | None = None,
        port: str | None = None,
        access: str | None = None,
        title: str | None = None,
    ) -> str:
        refs = self.refs
        refs.identifier("use case", use_case, "USE_CASE_ID")
        refs.absent("use case", use_case, "USE_CASE_ID")
        refs.require("domain", domain, "--domain")
        if product:
            refs.product_reference(product, "--product")
        if port:
            refs.identifier("port", port, "--port")
        mesh = self._read(self.mesh_file)
        cases = self._list(mesh, "useCases")
        entry = CommentedMap([("id", use_case)])
        fields = (("title", title), ("persona", persona), ("domain", domain), ("statement", _folded(statement)))
        for key, value in fields:
            if value is not None:
                entry[key] = value
        if product:
            port = port or (access or "sql")
            entry["consumes"] = CommentedSeq([_flow(product=product, port=port, access=access)])
            entry["consumes"].fa.set_flow_style()
        cases.append(entry)
        self._write(self.mesh_file, mesh)
        if product and access:
            self._ensure_port(product, port or access, access, use_case)
        return f"added use case {use_case}"

    def add_domain(self, name: str, team: str | None = None, description: str | None = None) -> str:
        self.refs.identifier("domain", name, "NAME")
        self.refs.absent("domain", name, "NAME")
        if team:
            self.refs.identifier("team", team, "--team")
        mesh = self._read(self.mesh_file)
        self._list(mesh, "domains").append(_flow(name=name, team=team, description=description))
        self._write(self.mesh_file, mesh)
        return f"added domain {name}"

    def add_system(self, name: str, domain: str, description: str | None = None) -> str:
        self.refs.identifier("system", name, "NAME")
        self.refs.absent("system", name, "NAME")
        self.refs.require("domain", domain, "--domain")
        mesh = self._read(self.mesh_file)
        self._list(mesh, "systems").append(_flow(name=name, domain=domain, description=description))
        self._write(self.mesh_file, mesh)
        return f"added system of record {name}"

    def _consumers(self, ref: str) -> list[tuple[str, str, str]]:
        mesh = self._read(self.mesh_file)
        found = []
        for case in mesh.get("useCases") or []:
            for consumed in case.get("consumes") or []:
                if consumed.get("product") == ref or str(consumed.get("product")).split(".")[-1] == ref:
                    port = consumed["port"]
                    found.append((case["id"], port, consumed.get("access") or _port_type(port)))
        return found

    def _inputs(self, texts: Sequence[str], use_case: str | None) -> list[CommentedMap]:
        items = []
        for text in texts:
            item = self._parsed(parse_input, text, use_case, "--input")
            if item["type"] == "product":
                self.refs.product_reference(item["product"], "--input")
            else:
                self.refs.require("system", item["system"], "--input")
                self.refs.identifier("input", item["id"], "--input")
            items.append(item)
        return items

    def _properties(self, texts: Sequence[str], use_case: str | None) -> list[CommentedMap]:
        items = [self._parsed(parse_property, text, use_case, "--property") for text in texts]
        for item in items:
            self.refs.identifier("property", item["name"], "--property", snake=True)
        return items

    def _parsed(self, parse: Any, text: str, use_case: str | None, option: str) -> CommentedMap:
        try:
            item: CommentedMap = parse(text, use_case)
        except InvalidArgument as exc:
            raise refuse(Code.INVALID_VALUE, str(exc), self.refs.argument(), field=option, hint=exc.hint) from None
        return item

    # ------------------------------------------------------------------ products

    def add_product(
        self,
        name: str,
        description: str,
        use_case: str,
        *,
        inputs: Sequence[str] = (),
        properties: Sequence[str] = (),
        domain: str | None = None,
    ) -> str:
        refs = self.refs
        refs.identifier("product", name, "NAME")
        refs.require("use case", use_case, "--use-case")
        if domain:
            refs.require("domain", domain, "--domain")
        existing = refs.find(f"{domain}.{name}" if domain else name)
        if existing:
            raise refuse(
                Code.DUPLICATE_ID,
                f"product '{existing[0].spec.ref}' already exists",
                refs.at(existing[0], "name"),
                field="NAME",
                hint=f"generalise it instead: `quanta design generalise {existing[0].spec.ref} -u {use_case} -p …`",
            )
        folder = self.root / "products" / (domain or "proposed") / name
        if self.edits.exists(folder / "dataproduct.yaml"):
            raise refuse(
                Code.DUPLICATE_ID,
                "a product file is already there (it does not load as part of the mesh)",
                Location(str(folder / "dataproduct.yaml")),
                field="NAME",
                hint="fix or remove that file first (`quanta validate` says what is wrong with it)",
            )
        parsed_inputs, parsed_properties = self._inputs(inputs, None), self._properties(properties, None)
        spec = CommentedMap([("apiVersion", "quanta/v1"), ("kind", "DataProduct"), ("name", name)])
        if domain:
            spec["domain"] = domain
        spec.update(
            [("version", "1.0.0"), ("status", "proposed"), ("description", description), ("introducedBy", use_case)]
        )
        spec["inputs"] = CommentedSeq(parsed_inputs)
        spec["schema"] = CommentedMap([("properties", CommentedSeq(parsed_properties))])
        ref = f"{domain}.{name}" if domain else name
        outputs = CommentedSeq()
        for case, port, access in self._consumers(ref):
            outputs.append(_port(port, ACCESS_PORTS[access], case))
        spec["outputs"] = outputs
        self._write(folder / "dataproduct.yaml", spec)
        return f"added proposed product {ref}"

    def generalise(
        self, product: str, use_case: str, *, inputs: Sequence[str] = (), properties: Sequence[str] = ()
    ) -> str:
        source = self.refs.product(product, "NAME")
        path = source.path
        self.refs.require("use case", use_case, "--use-case")
        parsed_inputs, parsed_properties = self._inputs(inputs, use_case), self._properties(properties, use_case)
        spec = self._read(path)
        existing = [p["name"] for p in (spec.get("schema") or {}).get("properties") or []]
        added = []
        for item in parsed_properties:
            if item["name"] in existing:
                raise refuse(
                    Code.DESIGN_CONFLICT,
                    f"{source.spec.ref} already has property {item['name']}",
                    self.refs.at(source, "schema", "properties", existing.index(item["name"]), "name"),
                    field="--property",
                    hint="a property is added once: reuse it, or give the new one another name",
                )
            if "schema" not in spec:
                spec["schema"] = CommentedMap([("properties", CommentedSeq())])
            self._list(spec["schema"], "properties").append(item)
            added.append(f"property {item['name']}")
        known_inputs = [i["id"] for i in spec.get("inputs") or []]
        for item in parsed_inputs:
            if item["id"] in known_inputs:
                raise refuse(
                    Code.DESIGN_CONFLICT,
                    f"{source.spec.ref} already has input {item['id']}",
                    self.refs.at(source, "inputs", known_inputs.index(item["id"]), "id"),
                    field="--input",
                    hint="each input is read once; the use case reuses it as it is",
                )
            self._list(spec, "inputs").append(item)
            added.append(f"input {item['id']}")
        self._write(path, spec)
        return f"generalised {product} for {use_case}: " + ", ".join(added)

    def _ensure_port(self, product: str, port: str, access: str, use_case: str) -> None:
        if len(self.refs.find(product)) != 1:
            return  # the product is added later; its ports come from the use cases then
        path = self._product_file(product)
        spec = self._read(path)
        if any(o.get("id") == port for o in spec.get("outputs") or []):
            return
        self._list(spec, "outputs").append(_port(port, ACCESS_PORTS.get(access, access), use_case))
        self._write(path, spec)

    def describe(self, product: str, description: str) -> str:
        """Set a product's job description (folded when long), keeping the rest as written."""
        source = self.refs.product(product, "NAME")
        if not description.strip():
            raise refuse(
                Code.INVALID_VALUE,
                "an empty job description",
                self.refs.at(source, "description"),
                field="DESCRIPTION",
                hint="say in one or two sentences what one row is and what it is for",
            )
        spec = self._read(source.path)
        if "description" in spec:
            spec["description"] = _folded(description)
        else:
            keys = list(spec.keys())
            position = keys.index("status") + 1 if "status" in keys else len(keys)
            spec.insert(position, "description", _folded(description))
        self._write(source.path, spec)
        return f"{source.spec.ref}: {description}"

    def assign(self, product: str, domain: str, *, transfer: bool = False) -> str:
        source = self.refs.product(product, "NAME")
        path = source.path
        self.refs.require("domain", domain, "DOMAIN")
        spec = self._read(path)
        current = spec.get("domain")
        if current and current != domain and not transfer:
            raise refuse(
                Code.DESIGN_CONFLICT,
                f"{source.spec.ref} is owned by {current}; a product has exactly one owner",
                self.refs.at(source, "domain"),
                field="DOMAIN",
                hint=f"move it with `quanta design assign {source.spec.ref} {domain} --transfer`",
            )
        if "domain" in spec:
            spec["domain"] = domain
        else:
            spec.insert(list(spec.keys()).index("name") + 1, "domain", domain)
        self._write(path, spec)
        return f"{spec['name']} is owned by {domain}"

    def promote(self, product: str) -> str:
        source = self.refs.product(product, "NAME")
        path = source.path
        spec = self._read(path)
        if not spec.get("domain"):
            raise refuse(
                Code.MISSING_DOMAIN,
                f"{source.spec.ref} has no owning domain; only an owned product becomes draft",
                self.refs.at(source, "name"),
                field="NAME",
                hint=f"assign one first: `quanta design assign {source.spec.ref} <domain>` "
                f"(`quanta design owners {source.spec.ref}` ranks the candidates)",
            )
        if spec.get("status", "draft") != "proposed":
            raise refuse(
                Code.DESIGN_CONFLICT,
                f"{source.spec.ref} is {spec.get('status', 'draft')}, not proposed",
                self.refs.at(source, "status"),
                field="NAME",
                hint="only proposed products are promoted to draft",
            )
        spec["status"] = "draft"
        self._write(path, spec)
        return f"{spec['domain']}.{spec['name']} is now draft"

    def scaffold(self, names: Sequence[str] = (), *, python: bool = False) -> list[str]:
        """Turn draft products (all, or those named) into code that validates at once."""
        from quanta.blueprints.product import scaffold

        for name in names:
            self.refs.product(name, "NAMES")
        done = []
        for product in self.refs.source.products:
            spec = product.spec
            if names and not {spec.ref, spec.name} & set(names):
                continue
            if spec.status != "draft" or spec.transform is not None:
                if names:
                    raise refuse(
                        Code.DESIGN_CONFLICT,
                        f"{spec.ref} is {spec.status}{' with a transform' if spec.transform else ''}",
                        self.refs.at(product, "transform" if spec.transform else "status"),
                        field="NAMES",
                        hint="only draft products without a transform are scaffolded "
                        f"(`quanta design promote {spec.ref}` makes a proposed one draft)",
                    )
                continue
            plan = scaffold(self.refs.source, product, python=python)
            for relative, text in plan.files.items():
                target = product.folder / relative
                if not self.edits.exists(target):
                    self.edits.write(target, text)
            document = self._read(product.path)
            transform = _flow(**plan.transform)
            if isinstance(plan.transform.get("steps"), list):
                steps = CommentedSeq(plan.transform["steps"])
                steps.fa.set_flow_style()
                transform["steps"] = steps
            keys = list(document.keys())
            position = keys.index("schema") if "schema" in keys else len(keys)
            document.insert(position, "transform", transform)
            self._write(product.path, document)
            done.append(f"scaffolded {spec.ref}: " + ", ".join(sorted(plan.files)))
        return done

    def write_slos(self, product: str, slos: dict[str, Any], schedule: str) -> str:
        """Set ``slos:`` and ``schedule:`` of a product, keeping everything else as written."""
        path = self._product_file(product)
        spec = self._read(path)
        block = CommentedMap()
        for key, value in slos.items():
            if isinstance(value, dict):
                item = CommentedMap()
                for inner, inner_value in value.items():
                    if isinstance(inner_value, list):
                        sequence = CommentedSeq(inner_value)
                        sequence.fa.set_flow_style()
                        inner_value = sequence
                    item[inner] = inner_value
                item.fa.set_flow_style()
                block[key] = item
            else:
                block[key] = value
        if "schedule" in spec:
            spec["schedule"] = schedule
        else:
            keys = list(spec.keys())
            anchor = next((k for k in ("introducedBy", "description", "status") if k in keys), "name")
            spec.insert(keys.index(anchor) + 1, "schedule", schedule)
        spec["slos"] = block
        self._write(path, spec)
        return f"wrote slos and schedule '{schedule}' to {path.name}"


def _port_type(port: str) -> str:
    return next((kind for kind in ACCESS_PORTS if kind in port), "sql")


def _port(port: str, kind: str, use_case: str) -> CommentedMap:
    if kind == "report":
        return _flow(id=port, type="report", template=f"{port}.html.j2", introducedBy=use_case)
    if kind == "model":
        return _flow(id=port, type="model", entrypoint="model.py:predict", introducedBy=use_case)
    return _flow(id=port, type=kind, introducedBy=use_case)


def parse_property(text: str, use_case: str | None) -> CommentedMap:
    """``name:type[:description]`` → a property mapping."""
    name, _, rest = text.partition(":")
    logical, _, description = rest.partition(":")
    logical = logical or "string"
    if logical not in LOGICAL_TYPES:
        raise InvalidArgument(
            f"'{text}': '{logical}' is not a logical type",
            f"write name:type[:description] with a type of {', '.join(sorted(LOGICAL_TYPES))}",
        )
    return _flow(name=name.strip(), logicalType=logical, description=description.strip() or None, introducedBy=use_case)


def parse_input(text: str, use_case: str | None) -> CommentedMap:
    """``product:<ref>[@major]`` or ``system:<name>[:entity]`` → an input mapping."""
    kind, _, rest = text.partition(":")
    if kind == "product" and rest:
        ref, _, major = rest.partition("@")
        if major and not major.isdigit():
            raise InvalidArgument(f"'{text}': '@{major}' is not a major version", "write product:<domain.name>@2")
        return _flow(id=ref.split(".")[-1], type="product", product=ref, major=int(major or 1), introducedBy=use_case)
    if kind == "system" and rest:
        system, _, entity = rest.partition(":")
        return _flow(
            id=f"{system}-{entity}" if entity else system,
            type="source",
            system=system,
            entity=entity or None,
            introducedBy=use_case,
        )
    raise InvalidArgument(f"'{text}' is not an input", "write product:<domain.name>[@major] or system:<name>[:entity]")
