"""Calling a product's Python entry point: imported only at build time, from its folder."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from quanta.build.errors import BuildFailure


@dataclass(frozen=True)
class BuildInfo:
    """Passed as the second argument to entry points that accept one."""

    product: str
    version: str
    now: datetime


_LOADING = threading.Lock()
"""Loading a product's module edits the process-wide ``sys.path`` and ``sys.modules``: one product
at a time. Its function then runs outside the lock, beside other products' transforms."""


def entrypoint_caller(
    folder: Path, entrypoint: str, info: BuildInfo, waiting: Callable[[], AbstractContextManager[None]] = nullcontext
) -> Callable[[Any], Any]:
    """A function the engine calls with the inputs; it imports the module fresh each time. Time
    spent waiting for another product's module to load is spent inside ``waiting()``."""
    file_name, function_name = entrypoint.split(":", 1)
    path = folder / file_name

    def call(inputs: Any) -> Any:
        with waiting():
            _LOADING.acquire()
        try:
            function = _load(folder, path, function_name)
        finally:
            _LOADING.release()
        wants_info = len(inspect.signature(function).parameters) >= 2
        return function(inputs, info) if wants_info else function(inputs)

    return call


_IMPORTING = threading.Lock()
"""One import at a time: ``sys.path`` and ``sys.modules`` are the process's, and CPython 3.11's
compiler is not safe to run in two threads at once ("AST constructor recursion depth mismatch")."""


def _load(folder: Path, path: Path, function_name: str) -> Callable[..., Any]:
    with _IMPORTING:
        return _import(folder, path, function_name)


def _import(folder: Path, path: Path, function_name: str) -> Callable[..., Any]:
    """Import the module at ``path`` with ``folder`` first on the import path, its own modules
    winning over same-named ones, and leave ``sys.path`` and ``sys.modules`` as they were. Modules
    the product imports at its top level stay bound to it; import them there, not inside functions."""
    module_name = "quanta_transform_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
    shadowed = {name: sys.modules.pop(name) for name in _local_module_names(folder) if name in sys.modules}
    before = set(sys.modules)
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise BuildFailure(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        function = getattr(module, function_name, None)
        if not callable(function):
            raise BuildFailure(f"{path.name} has no function {function_name}()")
        return function
    finally:
        sys.path.remove(str(folder))
        for name in set(sys.modules) - before:  # the product's own modules are imported afresh next time
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if name == module_name or module_file.startswith(str(folder)):
                del sys.modules[name]
        sys.modules.update(shadowed)


def _local_module_names(folder: Path) -> set[str]:
    """Top-level modules and packages in the product folder: they win over same-named ones."""
    names = {p.stem for p in folder.glob("*.py")}
    return names | {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}
