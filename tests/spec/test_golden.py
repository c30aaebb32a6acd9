"""Golden diagnostics: each file under golden/ holds one kind of mistake (or several) and
declares, in `# expect:` comments, the code, line:column and hint every diagnostic must have."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from quanta.project import Mesh
from quanta.spec.codes import Code

GOLDEN = Path(__file__).parent / "golden"
EXPECT = re.compile(r"^# expect: (?P<code>[a-z-]+) (?P<line>\d+):(?P<col>\d+) ?(?P<hint>.*)$", re.M)


def _expectations(path: Path) -> list[tuple[str, int, int, str]]:
    found = [(m["code"], int(m["line"]), int(m["col"]), m["hint"].strip()) for m in EXPECT.finditer(path.read_text())]
    assert found, f"{path.name} declares no expectation"
    return found


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_golden(golden: Path, mesh_dir: Path) -> None:
    target = mesh_dir / "products" / "zz-golden" / golden.stem / "dataproduct.yaml"
    target.parent.mkdir(parents=True)
    shutil.copy(golden, target)
    report = Mesh.validate(mesh_dir)
    shown = str(target.relative_to(mesh_dir.parent))
    mine = [d for d in report.diagnostics if d.location.path == shown]
    others = [d.render() for d in report.diagnostics if d.location.path != shown]
    assert not others, f"diagnostics outside the golden file: {others}"
    expected = _expectations(golden)
    actual = sorted((d.code, d.location.line, d.location.column) for d in mine)
    assert actual == sorted((c, line, col) for c, line, col, _ in expected), "\n".join(d.render() for d in mine)
    for code, line, col, hint in expected:
        matches = [d for d in mine if (d.code, d.location.line, d.location.column) == (code, line, col)]
        assert code in {c.value for c in Code}
        assert any(hint in d.hint or hint in d.message for d in matches), [d.render() for d in matches]


def test_golden_covers_at_least_fifteen_codes() -> None:
    codes = {code for path in GOLDEN.glob("*.yaml") for code, *_ in _expectations(path)}
    assert len(codes) >= 15, codes
