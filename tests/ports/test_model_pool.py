"""The model port's worker pool with real child processes: artefacts travel once per snapshot, a
new scoring-code digest replaces the port's worker, and the code's local imports load."""

from __future__ import annotations

from quanta.ports.model.pool import Code, WorkerPool

SCORING = """
from helpers import scaled


def predict(features, artefacts):
    return {"value": scaled(features["x"], artefacts["k"]), "kind": [str(features["x"].dtype)] * len(features["x"])}
"""
HELPERS = "def scaled(x, k):\n    return x * k\n"


def _code(version: str = "1") -> Code:
    files = {"score.py": SCORING, "helpers.py": HELPERS + f"# version {version}\n"}
    return Code(files, "score.py:predict", {"x": "number"}, f"digest-{version}")


def test_artefacts_are_sent_again_only_when_the_snapshot_changes() -> None:
    pool = WorkerPool()
    try:
        worker = pool.worker("p@v1", "score", _code())
        scored = worker.score("s1", {"k": 2}, {"x": [1, 2]}, 10)
        assert scored["value"].tolist() == [2.0, 4.0] and scored["kind"] == ["float64"] * 2
        assert worker.score("s1", {"k": 3}, {"x": [1]}, 10)["value"].tolist() == [2.0]  # same snapshot: kept
        assert worker.score("s2", {"k": 3}, {"x": [1]}, 10)["value"].tolist() == [3.0]  # a new snapshot: re-sent
        assert worker.snapshot == "s2"
    finally:
        pool.close()


def test_new_scoring_code_replaces_the_ports_worker() -> None:
    pool = WorkerPool()
    try:
        first = pool.worker("p@v1", "score", _code("1"))
        first.score("s1", {"k": 1}, {"x": [1]}, 10)
        assert pool.worker("p@v1", "score", _code("1")) is first
        second = pool.worker("p@v1", "score", _code("2"))
        assert second is not first and not first.alive()
        assert second.score("s1", {"k": 5}, {"x": [2]}, 10)["value"].tolist() == [10.0]
        assert pool.workers() == [second]
    finally:
        pool.close()
    assert not second.alive()
