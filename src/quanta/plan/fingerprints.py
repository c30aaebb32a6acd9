"""Fingerprints that decide rebuilds: the spec's data-shaping parts, the code (SQL normalised so
comment-only edits change nothing; Python including the local modules it imports)."""

from __future__ import annotations

import ast
import hashlib
import json
import threading
from pathlib import Path
from typing import Protocol

from quanta.spec.product import DataProduct
from quanta.spec.transform import PythonTransform, SqlTransform


def digest(*parts: str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode())
        hasher.update(b"\0")
    return hasher.hexdigest()


def spec_fingerprint(product: DataProduct) -> str:
    """Hash of what shapes the data: version, inputs with options, transform, schema."""
    shaping = {
        "version": product.version,
        "inputs": [
            {
                **i.model_dump(by_alias=True, exclude={"description", "introduced_by"}),
                "options": i.options.model_dump(by_alias=True) if i.options is not None else i.raw_options(),
            }
            for i in product.inputs
        ],
        "transform": _transform(product),
        "schema": product.schema_.model_dump(by_alias=True),
    }
    return digest(json.dumps(shaping, sort_keys=True, default=str))


_LATER_DEFAULTS = {"engine": None, "inputs": "arrow"}
"""Transform fields added after fingerprints were first published: left out at their defaults, so
adding them rebuilds nothing (a product choosing another engine or mode is rebuilt)."""


def _transform(product: DataProduct) -> dict[str, object] | None:
    if product.transform is None:
        return None
    dumped = product.transform.model_dump(by_alias=True)
    for name, default in _LATER_DEFAULTS.items():
        if name in dumped and dumped[name] == default:
            del dumped[name]
    return dumped


class DigestMemo(Protocol):
    """Remembers normalised digests by raw digest (the catalog keeps one)."""

    def code_digest(self, raw_sha256: str) -> str | None: ...

    def store_code_digest(self, raw_sha256: str, normalised_sha256: str) -> None: ...


def code_fingerprint(product: DataProduct, folder: Path, memo: DigestMemo | None = None) -> str:
    """Hash of the transformation's code as it means, not as it is formatted."""
    transform = product.transform
    if isinstance(transform, SqlTransform):
        return digest(*(_sql_digest((folder / step).read_text(), transform.dialect, memo) for step in transform.steps))
    if isinstance(transform, PythonTransform):
        entry = folder / transform.entrypoint.split(":", 1)[0]
        return digest(*(f"{path.relative_to(folder)}:{source}" for path, source in python_sources(entry, folder)))
    return digest("no-transform")


def _sql_digest(sql: str, dialect: str, memo: DigestMemo | None) -> str:
    raw = digest(dialect, sql)
    known = memo.code_digest(raw) if memo is not None else None
    if known is None:
        known = digest(normalised_sql(sql, dialect))
        if memo is not None:
            memo.store_code_digest(raw, known)
    return known


def normalised_sql(sql: str, dialect: str) -> str:
    """SQL re-rendered by sqlglot without comments or formatting; raw text if it does not parse."""
    import sqlglot

    try:
        statements = sqlglot.parse(sql, dialect=dialect)
    except sqlglot.errors.SqlglotError:
        return sql.strip()
    return ";".join(s.sql(dialect=dialect, comments=False) for s in statements if s is not None)


def python_sources(entry: Path, folder: Path) -> list[tuple[Path, str]]:
    """The entry module and every module under ``folder`` it imports, transitively, as AST dumps
    (so comments and formatting do not count)."""
    return sorted(python_modules(entry, folder).items())


_PARSING = threading.Lock()


def _parsed(source: str) -> ast.Module:
    """``ast.parse(source)``, one thread at a time: CPython 3.11 keeps the AST constructor's
    recursion depth in state the threads share, so two parses at once (two products fingerprinted
    by parallel builds) can fail with "AST constructor recursion depth mismatch" (python/cpython
    gh-106905). A parse another library makes at the same moment can still collide: that spurious
    SystemError is retried once."""
    with _PARSING:
        try:
            return ast.parse(source)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc):
                raise
            return ast.parse(source)


def python_modules(entry: Path, folder: Path) -> dict[Path, str]:
    """Path → AST dump (or the text, when it does not parse) of the entry module and the local
    modules it imports, transitively."""
    seen: dict[Path, str] = {}
    pending = [entry]
    while pending:
        path = pending.pop()
        if path in seen or not path.is_file():
            continue
        source = path.read_text(encoding="utf-8")
        try:
            tree = _parsed(source)
        except SyntaxError:
            seen[path] = source
            continue
        seen[path] = ast.dump(tree)
        pending += [m for m in _local_modules(tree, path, folder) if m not in seen]
    return seen


def _local_modules(tree: ast.Module, path: Path, folder: Path) -> list[Path]:
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        base = folder
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
            prefix = node.module or ""
            names = [f"{prefix}.{a.name}" if prefix else a.name for a in node.names] + ([prefix] if prefix else [])
        for name in names:
            candidate = base.joinpath(*name.split("."))
            for option in (candidate.with_suffix(".py"), candidate / "__init__.py"):
                if option.is_file() and option.resolve().is_relative_to(folder.resolve()):
                    found.append(option)
    return found
