"""Property test: random mutations of valid specs always yield located diagnostics from the closed
code set; never a traceback, never a location outside the file, never a hang. Hostile mutations
(alias bombs, deep nesting, huge or special files, overflowing durations, globs and templates
leading out, odd settings) are included; each example runs under a deadline."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanta.blueprints import create_mesh
from quanta.errors import QuantaError
from quanta.project import Mesh
from quanta.project.settings import resolve_platform
from quanta.spec.codes import Code

CODES = {c.value for c in Code}
WHOLE_FILE = {"file-not-found", "not-a-file", "file-too-large"}
"""Codes about a file as a whole: located at the file, with no line."""
DEADLINE = 20  # seconds: a regression fails the example instead of hanging CI
TEMPLATE = Path(tempfile.mkdtemp(prefix="quanta-mutations-")) / "mesh"
create_mesh("mutated", TEMPLATE)
FILES = ["mesh.yaml", "products/sales/orders/dataproduct.yaml", "products/sales/daily-revenue/dataproduct.yaml"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, width=32),
    st.text(max_size=12),
    st.sampled_from(["sales.orders", "table", "1.0.0", "product", "sql"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(data: Any, draw: Any) -> Any:
    paths = [p for p in _paths(data) if p]
    path = draw(st.sampled_from(paths))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    action = draw(st.sampled_from(["delete", "replace", "rename", "shuffle"]))
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = draw(values)
    elif action == "rename" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=10)) + "x"] = parent.pop(last)
    elif action == "shuffle" and isinstance(parent[last], list):
        parent[last] = draw(st.permutations(parent[last]))
    return data


def _check(root: Path) -> None:
    with _deadline(DEADLINE):
        report = Mesh.validate(root / "mesh.yaml")
        if report.ok and report.source is not None:
            with contextlib.suppress(QuantaError):  # a clear error is fine, anything else is not
                resolve_platform(report.source.spec)
    for d in report.diagnostics:
        assert d.code in CODES, d.render()
        path = Path(d.location.path)
        if d.code in WHOLE_FILE:
            assert d.location.line == 0 and (path.exists() or path.is_symlink()), d.render()
            continue
        assert path.is_file(), d.render()
        lines = path.read_text().splitlines() or [""]
        assert 1 <= d.location.line <= len(lines), d.render()
        assert 1 <= d.location.column <= len(lines[d.location.line - 1]) + 1, d.render()


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in this thread after ``seconds`` (a blocking read is interrupted too)."""

    def expire(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"validation took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), which=st.sampled_from(FILES), rounds=st.integers(1, 3))
def test_structural_mutations_give_located_errors(data: st.DataObject, which: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mesh"
        shutil.copytree(TEMPLATE, root)
        target = root / which
        spec = yaml.safe_load(target.read_text())
        for _ in range(rounds):
            spec = _mutate(spec, data.draw)
        target.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
        _check(root)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), which=st.sampled_from(FILES))
def test_textual_mutations_give_located_errors(data: st.DataObject, which: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mesh"
        shutil.copytree(TEMPLATE, root)
        target = root / which
        lines = target.read_text().splitlines()
        index = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "indent", "truncate", "garble"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "indent":
            lines[index] = "   " + lines[index]
        elif action == "truncate":
            lines[index] = lines[index][: data.draw(st.integers(0, max(0, len(lines[index]) - 1)))]
        else:
            lines[index] = data.draw(st.text(alphabet="{}[]:,-'\" abc#&*!|>", max_size=15))
        target.write_text("\n".join(lines) + "\n")
        _check(root)


# ----------------------------------------------------------------------------- hostile values

MESH, ORDERS, REVENUE = FILES
UNITS = st.sampled_from(["ms", "s", "m", "h", "d", "w"])
durations = st.one_of(
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(0, 10**40), UNITS),
    st.builds(lambda n, unit: "9" * n + unit, st.integers(300, 2000), UNITS),
    st.sampled_from(["36500d", "36501d", "5218w", "5219w", "0.000001ms", "1e400d", "-1d", "inf d"]),
)
odd_numbers = st.one_of(
    st.integers(-(10**30), 10**30), st.booleans(), st.floats(), st.text(max_size=6), st.none(), st.just(1024)
)
blank_texts = st.one_of(st.sampled_from(["", " ", "\t", "\n"]), st.text(max_size=6), st.none(), st.integers())
globs = st.one_of(
    st.sampled_from(["/etc/*", "../**/*.yaml", "", " ", "products/**x/*.yaml", "C:/specs/*.yaml", "\\\\host\\x"]),
    st.sampled_from(["products/../../*.yaml", "./products/**/dataproduct.yaml", "**", "*", "products/**/*.sql"]),
    st.text(alphabet="/.*?[]!\\ab", max_size=10),
)
long_texts = st.text(alphabet="ab:/@ .", min_size=1, max_size=6).map(lambda s: s * (60_000 // len(s)))
"""Long texts for the secret check: many starts of a URL, none or some of them complete."""
templates = st.one_of(
    st.sampled_from(["../x.html.j2", "/etc/hostname", "link-out.j2", "link-in.j2", "pipe.j2", "../../../../mesh.yaml"]),
    st.text(alphabet="/.ab", max_size=8),
)
TARGETS: list[tuple[str, tuple[Any, ...], st.SearchStrategy[Any]]] = [
    (MESH, ("platform", "threads"), odd_numbers),
    (MESH, ("platform", "memoryLimit"), blank_texts),
    (MESH, ("platform", "storage"), blank_texts),
    (MESH, ("platform", "storageEndpoint"), blank_texts),
    (MESH, ("platform", "cache"), blank_texts),
    (MESH, ("platform", "catalog"), blank_texts),
    (MESH, ("platform",), st.sampled_from([None, "", {}, []])),
    (MESH, ("profiles", "prod"), st.sampled_from([None, "", {}, {"threads": 0}, {"catalog": ""}])),
    (MESH, ("profiles", "prod", "threads"), odd_numbers),
    (MESH, ("products", 0), globs),
    (MESH, ("products",), st.lists(globs, max_size=3)),
    (REVENUE, ("slos", "freshness", "maxAge"), durations),
    (REVENUE, ("slos", "retention", "period"), durations),
    (REVENUE, ("slos", "window"), durations),
    (REVENUE, ("slos", "buildDuration", "max"), durations),
    (REVENUE, ("outputs", 1), templates.map(lambda name: {"id": "daily", "type": "report", "template": name})),
    (
        ORDERS,
        ("description",),
        st.text(alphabet="ab:/@ .", min_size=1, max_size=6).map(lambda s: s * (60_000 // len(s))),
    ),
]


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    """Set ``value`` at ``path``, creating mappings (and appending to lists) on the way."""
    for part, following in itertools.pairwise(path):
        if isinstance(data, list):
            if part >= len(data):
                data.append({})
            data = data[part] if isinstance(data[part], dict | list) else {}
            continue
        if not isinstance(data.get(part), dict | list):
            data[part] = [] if isinstance(following, int) else {}
        data = data[part]
    last = path[-1]
    if isinstance(data, list):
        if last < len(data):
            data[last] = value
        else:
            data.append(value)
    else:
        data[last] = value


def _product_folder_extras(root: Path) -> None:
    """Files templates may name: a symlink leading out, one staying in, a FIFO."""
    folder = (root / REVENUE).parent
    (folder / "link-out.j2").symlink_to(root / "mesh.yaml")
    (folder / "inside.j2").write_text("ok")
    (folder / "link-in.j2").symlink_to(folder / "inside.j2")
    os.mkfifo(folder / "pipe.j2")


@settings(max_examples=200, deadline=None)
@given(data=st.data(), target=st.sampled_from(TARGETS))
def test_hostile_values_give_located_errors(
    data: st.DataObject, target: tuple[str, tuple[Any, ...], st.SearchStrategy[Any]]
) -> None:
    which, path, strategy = target
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mesh"
        shutil.copytree(TEMPLATE, root)
        _product_folder_extras(root)
        spec = yaml.safe_load((root / which).read_text())
        _set(spec, path, data.draw(strategy))
        (root / which).write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=1 << 20))
        _check(root)


# -------------------------------------------------------------------------- hostile documents


def _laughs(levels: int, width: int, merge: bool) -> str:
    """An alias bomb of ``levels`` anchors, each ``width`` aliases of the one before (or merges)."""
    if merge:
        lines = ["  m0: &m0 {" + ", ".join(f"k{i}: v" for i in range(width)) + "}"]
        for level in range(1, levels):
            lines.append(f"  m{level}: &m{level} {{<<: [" + ", ".join([f"*m{level - 1}"] * width) + "]}")
    else:
        lines = ["  l0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
        for level in range(1, levels):
            lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _nested(depth: int, flow: str) -> str:
    return {"[": "[" * depth + "]" * depth, "{": "{a: " * depth + "1" + "}" * depth}[flow]


documents = st.one_of(
    st.builds(
        lambda n, w, m: ("text", "x-bomb:\n" + _laughs(n, w, m)), st.integers(2, 9), st.integers(2, 9), st.booleans()
    ),
    st.builds(lambda d, f: ("text", f"x-deep: {_nested(d, f)}\n"), st.integers(1, 1500), st.sampled_from("[{")),
    st.sampled_from([("text", "x-self: &s [1, *s]\n"), ("text", "x-self: &s {a: {b: *s}}\n")]),
    st.builds(
        lambda s, n: ("text", f"x-long: '{s * n}'\n"),
        st.text(alphabet="ab:/@ .", min_size=1, max_size=5),
        st.integers(1, 150_000),
    ),
    st.builds(lambda n: ("text", f"x-number: {'9' * n}\n"), st.integers(1, 10_000)),
    st.builds(lambda n: ("text", "".join(f"k{i}: [1]\n" for i in range(n))), st.integers(1, 20_000)),
    st.builds(lambda n: ("text", "# " + "x" * n + "\n"), st.integers((1 << 20) - 3000, (1 << 20) + 3000)),
    st.sampled_from([("fifo", ""), ("device", "/dev/zero"), ("device", "/dev/null"), ("dangling", "")]),
)


@settings(max_examples=150, deadline=None)
@given(which=st.sampled_from(FILES), document=documents)
def test_hostile_documents_are_refused_located_and_fast(which: str, document: tuple[str, str]) -> None:
    kind, payload = document
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mesh"
        shutil.copytree(TEMPLATE, root)
        target = root / which
        if kind == "text":
            target.write_text(target.read_text() + payload)
        else:
            target.unlink()
            if kind == "fifo":
                os.mkfifo(target)
            else:
                target.symlink_to(payload or root / "nowhere.yaml")
        _check(root)
