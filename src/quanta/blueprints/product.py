"""Scaffold a designed product into code: a SQL (or Python) transformation skeleton matching its
inputs and properties, report templates for its report ports, and a test. Templates live in
``templates/product`` so a blueprint system can reuse them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from quanta.spec.index import ProductIndex, sql_identifier
from quanta.spec.loader import MeshSource, ProductSource

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "time": "TIME",
    "array": "VARCHAR[]",
    "object": "JSON",
}


@dataclass(frozen=True)
class ColumnSketch:
    name: str
    expression: str
    todo: str = ""


@dataclass(frozen=True)
class Scaffold:
    """Files to write (relative to the product folder) and the transform the spec should get."""

    files: dict[str, str]
    transform: dict[str, object]


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("quanta.blueprints", "templates/product"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def scaffold(mesh: MeshSource, product: ProductSource, python: bool = False) -> Scaffold:
    spec = product.spec
    index = ProductIndex.of(mesh)
    notes: list[str] = []
    upstream_columns: dict[str, str] = {}
    relations = []
    for spec_input in spec.inputs:
        relation = sql_identifier(spec_input.id)
        relations.append(relation)
        if spec_input.type == "product":
            upstream = index.resolve(spec_input.options.product, spec_input.options.major)
            names = upstream.spec.schema_.names if upstream else []
            notes.append(
                f"{relation}: product {spec_input.options.product} ({', '.join(names) or 'no properties yet'})"
            )
            for name in names:
                upstream_columns.setdefault(name, relation)
        else:
            system = getattr(spec_input.options, "system", "?")
            notes.append(f"{relation}: system {system} — set `type: files` or `type: api` to read it")
    columns = []
    for prop in spec.schema_.properties:
        if prop.name in upstream_columns:
            columns.append(ColumnSketch(prop.name, f"{upstream_columns[prop.name]}.{prop.name}"))
        else:
            columns.append(
                ColumnSketch(
                    prop.name,
                    f"cast(null as {DUCKDB_TYPES[prop.logical_type]})",
                    prop.description or f"derive {prop.name}",
                )
            )
    if len(relations) > 1:
        notes.append("join the inputs on their shared business keys: " + ", ".join(relations))
    source = relations[0] if relations else "(select 1) as nothing"
    environment = _environment()
    context = {"product": spec, "columns": columns, "notes": notes, "source": source}
    stem = sql_identifier(spec.name)
    files: dict[str, str] = {}
    if python:
        files[f"{stem}.py"] = environment.get_template("transform.py.j2").render(context)
        transform: dict[str, object] = {"type": "python", "entrypoint": f"{stem}.py:build"}
    else:
        files[f"{stem}.sql"] = environment.get_template("transform.sql.j2").render(context)
        transform = {"type": "sql", "dialect": "duckdb", "steps": [f"{stem}.sql"]}
    for port in spec.outputs:
        if port.type == "report":
            files[port.options.template] = environment.get_template("report.html.j2").render(product=spec, port=port.id)
    depth = len(product.folder.relative_to(mesh.root).parts)
    files[f"test_{stem}.py"] = environment.get_template("test_product.py.j2").render(
        ref=spec.ref, identifier=stem, depth=depth, folder=str(Path(*product.folder.relative_to(mesh.root).parts))
    )
    return Scaffold(files, transform)
