"""Fingerprinting Python transforms survives CPython 3.11's spurious "AST constructor recursion
depth mismatch" SystemError (python/cpython gh-106905, seen in CI when two builds fingerprinted at
once): parses are serialised and that error is retried once; any other SystemError is not hidden."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from quanta.plan import fingerprints


def test_a_spurious_recursion_depth_mismatch_is_retried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real, calls = ast.parse, []

    def flaky(source: str) -> ast.Module:
        calls.append(source)
        if len(calls) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=36, after=30)")
        return real(source)

    monkeypatch.setattr(fingerprints.ast, "parse", flaky)
    entry = tmp_path / "model.py"
    entry.write_text("def build(inputs, info):\n    return None\n")
    modules = fingerprints.python_modules(entry, tmp_path)
    assert len(calls) == 2 and "FunctionDef" in modules[entry]


def test_another_system_error_is_raised(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(source: str) -> ast.Module:
        raise SystemError("something else")

    monkeypatch.setattr(fingerprints.ast, "parse", broken)
    entry = tmp_path / "model.py"
    entry.write_text("x = 1\n")
    with pytest.raises(SystemError, match="something else"):
        fingerprints.python_modules(entry, tmp_path)
