"""The spec reference in docs/ is generated from the models and must be up to date."""

from __future__ import annotations

from pathlib import Path

from quanta.spec.codes import CODE_DOCS, Code
from quanta.spec.reference import render_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "spec.md"


def test_reference_is_up_to_date() -> None:
    assert DOC.read_text() == render_reference(), (
        "docs/reference/spec.md is stale: run `python -m quanta.spec.reference > docs/reference/spec.md`"
    )


def test_every_code_is_documented() -> None:
    assert set(CODE_DOCS) == set(Code)
    text = render_reference()
    assert all(f"`{code.value}`" in text for code in Code)
