"""``quanta schema``: the JSON Schema of mesh and product specs, for editors."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def schema(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Print the JSON Schema of mesh.yaml and dataproduct.yaml (for editor completion)."""
    from quanta.spec.jsonschema import spec_json_schema
    from quanta.spec.plugins import PluginRegistry

    text = json.dumps(spec_json_schema(PluginRegistry.default()), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
