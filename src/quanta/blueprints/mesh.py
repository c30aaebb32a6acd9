"""Create a new mesh folder from the ``init`` template."""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from quanta.errors import QuantaError
from quanta.spec.base import KEBAB

_TEXT_SUFFIXES = {".yaml", ".sql", ".py", ".md", ".csv", ".j2"}


def create_mesh(name: str, target: Path, *, empty: bool = False) -> list[Path]:
    """Write a valid minimal mesh named ``name`` into ``target`` (which must not hold files): with
    a domain, a system and two sample products, or (``empty``) only mesh.yaml, for a workshop."""
    if not re.match(KEBAB, name):
        raise QuantaError(f"mesh name '{name}' must be lower-case kebab-case, e.g. 'fashion-retail'")
    if target.exists() and any(target.iterdir()):
        raise QuantaError(f"{target} already exists and is not empty; choose another folder")
    written: list[Path] = []
    for relative, source in _walk(files("quanta.blueprints") / "templates" / ("empty" if empty else "init"), Path()):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8")
        if destination.suffix in _TEXT_SUFFIXES:
            text = Template(text).safe_substitute(name=name)
        destination.write_text(text, encoding="utf-8")
        written.append(destination)
    return written


def _walk(folder: Traversable, relative: Path) -> list[tuple[Path, Traversable]]:
    found: list[tuple[Path, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            found += _walk(entry, relative / entry.name)
        elif entry.name != "__pycache__":
            found.append((relative / entry.name, entry))
    return found
