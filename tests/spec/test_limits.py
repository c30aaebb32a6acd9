"""Specs cannot exhaust the machine: alias bombs, deep nesting, huge files, FIFOs and devices,
quadratic secret scans, overflowing durations and odd settings are located errors, found fast."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quanta.errors import Diagnostic
from quanta.project import Mesh

PRODUCT = "products/sales/daily-revenue/dataproduct.yaml"
MEMORY = 1 << 30  # a runaway child dies at 1 GiB instead of taking the machine


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _validate_bounded(root: Path, seconds: float = 20) -> tuple[list[dict[str, object]], float]:
    """``quanta validate --format json`` in a child with a memory cap and a timeout."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "quanta", "validate", str(root), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=seconds,
        preexec_fn=_limit_memory,
        env=dict(os.environ),
    )
    elapsed = time.monotonic() - started
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return json.loads(done.stdout)["diagnostics"], elapsed


def _codes(diagnostics: list[Diagnostic]) -> list[tuple[str, str]]:
    return [(d.code, d.field) for d in diagnostics]


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _laughs(levels: int = 9) -> str:
    """A 'billion laughs' document: each anchor is nine aliases of the one before."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_fails_fast_and_located(mesh_dir: Path) -> None:
    spec = mesh_dir / PRODUCT
    bomb = _laughs()
    assert len(bomb) < 1600
    _replace(spec, "schedule:", "tags:\n" + "".join("  " + line + "\n" for line in bomb.splitlines()) + "schedule:")
    diagnostics, elapsed = _validate_bounded(mesh_dir)
    assert elapsed < 15
    codes = {(d["code"], d["path"].endswith(PRODUCT)) for d in diagnostics}
    assert ("yaml-too-complex", True) in codes
    (found,) = [d for d in diagnostics if d["code"] == "yaml-too-complex"]
    assert found["line"] > 1 and found["column"] >= 1
    assert "alias" in str(found["message"])


def test_merge_keys_cannot_bomb_either(mesh_dir: Path) -> None:
    spec = mesh_dir / PRODUCT
    lines = ["m0: &m0 {" + ", ".join(f"k{i}: v" for i in range(9)) + "}"]
    for level in range(1, 9):
        lines.append(f"m{level}: &m{level} {{<<: [" + ", ".join([f"*m{level - 1}"] * 9) + "]}")
    _replace(spec, "schedule:", "tags:\n" + "".join("  " + line + "\n" for line in lines) + "schedule:")
    diagnostics, elapsed = _validate_bounded(mesh_dir)
    assert elapsed < 15
    assert "yaml-too-complex" in {d["code"] for d in diagnostics}


def test_nesting_deeper_than_the_limit_is_located(mesh_dir: Path) -> None:
    spec = mesh_dir / PRODUCT
    _replace(spec, "schedule:", "tags: " + "[" * 500 + "]" * 500 + "\nschedule:")
    report = Mesh.validate(mesh_dir)
    (found,) = [d for d in report.diagnostics if d.code == "yaml-too-complex"]
    assert found.location.path.endswith(PRODUCT) and found.location.line == 10
    assert "nest" in found.message


def test_moderate_aliases_still_work(mesh_dir: Path) -> None:
    spec = mesh_dir / PRODUCT
    _replace(spec, "team: {name: sales-data", "team: &team {name: sales-data")
    _replace(spec, "schedule:", "x-copy: *team\nschedule:")
    report = Mesh.validate(mesh_dir)
    assert _codes(report.diagnostics) == [("unknown-field", "x-copy")]


def test_a_file_larger_than_the_limit_is_refused_without_reading_it(mesh_dir: Path) -> None:
    spec = mesh_dir / PRODUCT
    with spec.open("a") as handle:
        handle.write("# " + "x" * (2 << 20) + "\n")
    report = Mesh.validate(mesh_dir)
    (found,) = [d for d in report.diagnostics if d.location.path.endswith(PRODUCT)]
    assert found.code == "file-too-large" and "1 MiB" in found.message


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "/dev/null"])
def test_fifos_and_devices_are_refused(mesh_dir: Path, kind: str) -> None:
    spec = mesh_dir / PRODUCT
    spec.unlink()
    if kind == "fifo":
        os.mkfifo(spec)
    else:
        spec.symlink_to(kind)
    diagnostics, elapsed = _validate_bounded(mesh_dir)
    assert elapsed < 15
    assert [(d["code"], Path(str(d["path"])).name) for d in diagnostics if d["code"] == "not-a-file"] == [
        ("not-a-file", "dataproduct.yaml")
    ]


def test_a_fifo_as_the_mesh_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "mesh.yaml")
    diagnostics, _ = _validate_bounded(tmp_path / "mesh.yaml")
    assert [d["code"] for d in diagnostics] == ["not-a-file"]


@pytest.mark.parametrize("text", ["a" * 80_000, "a://" + "a" * 80_000, "a://b:" + "c" * 80_000, "a:" * 40_000])
def test_the_secret_check_is_linear(mesh_dir: Path, text: str) -> None:
    spec = mesh_dir / PRODUCT
    _replace(spec, "description: Revenue", f"description: {text} Revenue")
    started = time.monotonic()
    report = Mesh.validate(mesh_dir)
    assert time.monotonic() - started < 3
    assert "secret-in-spec" not in {d.code for d in report.diagnostics}


def test_the_secret_check_still_finds_passwords(mesh_dir: Path) -> None:
    spec = mesh_dir / PRODUCT
    _replace(spec, "description: Revenue", "description: see postgresql://me:hunter2@db/x. Revenue")
    report = Mesh.validate(mesh_dir)
    assert _codes(report.diagnostics) == [("secret-in-spec", "description")]


@pytest.mark.parametrize("value", ["99999999999999d", "9" * 400 + "w", "1000000000w", "36501d"])
def test_overflowing_durations_are_located(mesh_dir: Path, value: str) -> None:
    spec = mesh_dir / PRODUCT
    _replace(spec, "maxAge: 2d", f"maxAge: {value}")
    _replace(spec, "slos:\n", "slos:\n  retention: {period: " + value + "}\n")
    report = Mesh.validate(mesh_dir)
    found = [(d.code, d.field, d.location.line) for d in report.diagnostics]
    assert found == [
        ("invalid-value", "slos.retention.period", 25),
        ("invalid-value", "slos.freshness.maxAge", 26),
    ]
    assert all("too long" in d.message for d in report.diagnostics)


@pytest.mark.parametrize(
    "pattern",
    [
        "/etc/*",
        "../**/*.yaml",
        "products/../../x.yaml",
        "",
        ".",
        "./",
        "C:/specs/*.yaml",
        "products/**/../../../*.yaml",
    ],
)
def test_product_globs_stay_inside_the_mesh(mesh_dir: Path, pattern: str) -> None:
    _replace(mesh_dir / "mesh.yaml", "products: [products/**/dataproduct.yaml]", f"products: ['{pattern}']")
    report = Mesh.validate(mesh_dir)
    assert [(d.code, d.field, d.location.line) for d in report.diagnostics] == [("invalid-value", "products[0]", 31)]


@pytest.mark.parametrize("value", ["0", "-1", "true", "2.5", "100000000000000000000000", "1e400", "'4'"])
def test_odd_thread_counts_are_located(mesh_dir: Path, value: str) -> None:
    _replace(mesh_dir / "mesh.yaml", "engine: duckdb\n", f"engine: duckdb\n  threads: {value}\n")
    report = Mesh.validate(mesh_dir)
    assert [(d.field, d.location.line) for d in report.diagnostics] == [("platform.threads", 9)]
    assert report.diagnostics[0].code in {"invalid-value", "invalid-type"}


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("storage: .quanta/warehouse", "storage: ''", "platform.storage"),
        ("catalog: sqlite:///.quanta/catalog.db", "catalog: '  '", "platform.catalog"),
        ("engine: duckdb\n", "engine: duckdb\n  cache: ''\n", "platform.cache"),
        ("domains:", "profiles: {prod: {catalog: ''}}\ndomains:", "profiles.prod.catalog"),
        ("domains:", "profiles: {prod: }\ndomains:", "profiles.prod"),
        (
            "platform:\n  engine: duckdb\n  storage: .quanta/warehouse\n  catalog: sqlite:///.quanta/catalog.db\n",
            "platform:\n",
            "platform",
        ),
    ],
)
def test_empty_settings_are_located(mesh_dir: Path, old: str, new: str, field: str) -> None:
    _replace(mesh_dir / "mesh.yaml", old, new)
    report = Mesh.validate(mesh_dir)
    assert [d.field for d in report.diagnostics] == [field]
    assert report.diagnostics[0].code in {"invalid-value", "invalid-type"}


@pytest.mark.parametrize("text", ["tags: &a [1, *a]", "tags: &a {x: *a}"])
def test_an_alias_inside_its_own_anchor_is_located(mesh_dir: Path, text: str) -> None:
    _replace(mesh_dir / PRODUCT, "schedule:", text + "\nschedule:")
    found = [d for d in Mesh.validate(mesh_dir).diagnostics if d.location.path.endswith(PRODUCT)]
    assert [(d.code, d.location.line) for d in found] == [("yaml-too-complex", 10)]
    assert "part of" in found[0].message


def test_a_long_string_repeated_by_aliases_is_bounded(mesh_dir: Path) -> None:
    long = "postgresql://a:b@h/" + "x" * 500_000
    bomb = f"tags: [&s '{long}'" + ", *s" * 100_000 + "]\n"
    _replace(mesh_dir / PRODUCT, "schedule:", bomb + "schedule:")
    diagnostics, elapsed = _validate_bounded(mesh_dir)
    assert elapsed < 15
    assert "yaml-too-complex" in {d["code"] for d in diagnostics}


def test_many_errors_in_one_file_stay_fast_and_are_capped(mesh_dir: Path) -> None:
    spec = mesh_dir / PRODUCT
    lines = len(spec.read_text().splitlines())
    spec.write_text(spec.read_text() + "".join(f"k{i}: 1\n" for i in range(90_000)))
    assert spec.stat().st_size < 1 << 20
    diagnostics, elapsed = _validate_bounded(mesh_dir, seconds=60)
    assert elapsed < 10
    mine = [d for d in diagnostics if str(d["path"]).endswith(PRODUCT)]
    assert [d["code"] for d in mine] == ["unknown-field"] * 100 + ["too-many-errors"]
    assert mine[-1]["line"] == lines + 101 and "89,900 more" in str(mine[-1]["message"])
