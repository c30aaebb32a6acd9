"""Staged file changes: a workshop edit is computed in memory, then shown as a diff (``--dry-run``)
or written. Nothing touches the disk before every check has passed, so a refused edit leaves the
files byte-identical."""

from __future__ import annotations

import difflib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Edits:
    """File writes, folder moves and removals waiting to be applied, relative to ``root``."""

    root: Path
    writes: dict[Path, str] = field(default_factory=dict)
    moves: list[tuple[Path, Path]] = field(default_factory=list)
    removals: list[Path] = field(default_factory=list)

    def read(self, path: Path) -> str:
        """The text ``path`` will have: staged, else on disk."""
        return self.writes[path] if path in self.writes else path.read_text(encoding="utf-8")

    def exists(self, path: Path) -> bool:
        return path in self.writes or (path.exists() and path not in self.removals)

    def write(self, path: Path, text: str) -> None:
        self.writes[path] = text

    def move(self, source: Path, target: Path) -> None:
        """Move a folder (applied after the writes, which name the paths before the move)."""
        self.moves.append((source, target))

    def remove(self, path: Path) -> None:
        """Remove a file or a folder."""
        self.removals.append(path)
        self.writes.pop(path, None)

    @property
    def empty(self) -> bool:
        return not (self.writes or self.moves or self.removals)

    def _show(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def diff(self) -> str:
        """A unified diff of every staged change (moves and removals as one line each)."""
        out: list[str] = []
        for path, text in self.writes.items():
            before = path.read_text(encoding="utf-8") if path.exists() else ""
            name = self._show(path)
            out += difflib.unified_diff(
                before.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"a/{name}" if path.exists() else "/dev/null",
                tofile=f"b/{name}",
            )
        out += [f"move {self._show(a)}/ → {self._show(b)}/\n" for a, b in self.moves]
        out += [f"remove {self._show(p)}{'/' if p.is_dir() else ''}\n" for p in self.removals]
        return "".join(line if line.endswith("\n") else line + "\n" for line in out)

    def apply(self) -> None:
        """Write, then move, then remove; each file is replaced atomically."""
        for path, text in self.writes.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial")
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, path)
        for source, target in self.moves:
            target.parent.mkdir(parents=True, exist_ok=True)
            source.rename(target)
            _prune(source.parent, self.root)
        for path in self.removals:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
            _prune(path.parent, self.root)
        self.writes, self.moves, self.removals = {}, [], []


def _prune(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to ``root`` while they are empty."""
    while folder != root and root in folder.parents and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
