"""The exported JSON Schema is valid, accepts every spec in the repository and rejects typos."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from quanta.spec.jsonschema import spec_json_schema
from quanta.spec.yamlsource import parse_yaml

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted(
    p
    for pattern in ("**/mesh.yaml", "**/dataproduct.yaml")
    for p in REPO.glob(pattern)
    if not any(part in {".venv", "golden", ".git", ".quanta-demo"} for part in p.parts)
)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = spec_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _data(path: Path) -> dict:
    document, diagnostics = parse_yaml(path.read_text().replace("$name", "example"), str(path))
    assert document is not None and not diagnostics
    return document.data


def test_repository_has_example_specs() -> None:
    assert any(p.name == "mesh.yaml" for p in SPECS) and any(p.name == "dataproduct.yaml" for p in SPECS)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(REPO)))
def test_schema_accepts_repository_specs(path: Path, validator: jsonschema.Draft202012Validator) -> None:
    errors = [e.message for e in validator.iter_errors(_data(path))]
    assert not errors


def test_schema_rejects_a_misspelled_plugin_option(validator: jsonschema.Draft202012Validator) -> None:
    spec = {
        "apiVersion": "quanta/v1",
        "kind": "DataProduct",
        "name": "x",
        "version": "1.0.0",
        "inputs": [{"id": "a", "type": "product", "product": "d.p", "majr": 1}],
    }
    assert list(validator.iter_errors(spec))
    spec["inputs"][0]["major"] = spec["inputs"][0].pop("majr")
    assert not list(validator.iter_errors(spec))


def test_schema_rejects_unknown_port_type(validator: jsonschema.Draft202012Validator) -> None:
    spec = {
        "apiVersion": "quanta/v1",
        "kind": "DataProduct",
        "name": "x",
        "version": "1.0.0",
        "outputs": [{"id": "a", "type": "ftp"}],
    }
    assert list(validator.iter_errors(spec))
