"""The built wheel works on its own: installed in a fresh virtual environment (dependencies from the
package index), `quanta init`, `validate` and `build` run outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_the_wheel_installs_and_runs_init_validate_and_build(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--disable-pip-version-check",
        "-w",
        dist,
        REPO,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("quanta-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel, cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    where = _run(python, "-c", "import quanta, sys; print(quanta.__file__)", cwd=work).stdout
    assert str(env_dir) in where and str(REPO / "src") not in where  # the wheel's copy, not the source tree
    quanta = env_dir / "bin" / "quanta"
    _run(quanta, "init", "shop", cwd=work)
    assert "0 error(s)" in _run(quanta, "validate", "shop", cwd=work).stderr
    built = _run(quanta, "build", "shop", cwd=work)
    assert "sales.daily-revenue@v1" in built.stdout and "failed" not in built.stdout
    assert "5" in _run(quanta, "query", "select count(*) as n from sales.orders", "--mesh", "shop", cwd=work).stdout
