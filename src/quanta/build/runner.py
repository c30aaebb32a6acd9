"""A build run: products in dependency order, independent ones side by side; a failure blocks
only its downstream. Progress is reported through a listener so front ends stay thin."""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime

from quanta.build.descriptor import mesh_descriptor
from quanta.build.product import BuildOptions, Outcome, Workspace, build_product
from quanta.catalog import ProductEntry, StepRecord
from quanta.plan.order import BuildGraph
from quanta.spec.loader import ProductSource
from quanta.storage import new_id

Listener = Callable[[str, str, Outcome | None], None]
"""Called with (product key, "start" | "done", outcome when done)."""


@dataclass
class BuildReport:
    run_id: str
    outcomes: list[Outcome] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


def run_build(
    workspace: Workspace,
    options: BuildOptions,
    selected: set[str] | None = None,
    listener: Listener | None = None,
    arguments: Iterable[str] = (),
) -> BuildReport:
    """Build the selected products (all when None) of the workspace's mesh."""
    notify = listener or (lambda *_: None)
    run_id = new_id()
    report = BuildReport(run_id)
    started = time.perf_counter()
    catalog = workspace.catalog
    catalog.runs.start(run_id, _who(), list(arguments), workspace.mesh.spec.name)
    completed = False  # a run that stops on an error, or on Ctrl-C, is recorded failed
    workers = os.cpu_count() or 1  # each engine admits as many of these as its capabilities allow
    try:
        with catalog.runs.heartbeat(run_id), ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            try:
                catalog.products.register_mesh(mesh_descriptor(workspace.mesh))
                registered = {entry.key: entry for entry in catalog.products.entries()}
                _run_graph(workspace, options, selected, registered, pool, report, notify)
                completed = True
            except KeyboardInterrupt:  # Ctrl-C: stop what runs, start nothing more
                options.cancel.set()
                pool.shutdown(wait=False, cancel_futures=True)
                workspace.engines.interrupt()
                raise
    finally:
        report.duration_s = time.perf_counter() - started
        succeeded = completed and report.ok
        catalog.runs.finish(run_id, "succeeded" if succeeded else "failed", report.duration_s)
        workspace.store.discard_staging(run_id)
    return report


def _record_failure(workspace: Workspace, run_id: str, outcome: Outcome) -> None:
    """A ``build.failed`` event (its message's first line only: engine errors may quote data)."""
    message = (outcome.error or "").strip().splitlines()
    data = {"run": run_id, "reasons": list(outcome.reasons), "error": message[0][:300] if message else None}
    workspace.catalog.events.record("build.failed", outcome.key, data, _who())


def _run_graph(
    workspace: Workspace,
    options: BuildOptions,
    selected: set[str] | None,
    registered: dict[str, ProductEntry],
    pool: ThreadPoolExecutor,
    report: BuildReport,
    notify: Listener,
) -> None:
    """Each product as soon as its upstreams are done, the longest expected first (so the long
    ones do not end up last); a product whose upstream failed is blocked."""
    graph = BuildGraph(workspace.mesh, workspace.index)
    expected = workspace.catalog.runs.typical_durations()
    running: dict[Future[Outcome], str] = {}
    finished: list[Outcome] = []
    try:
        while graph.active:
            for key in sorted(graph.ready(), key=lambda k: (-expected.get(k, 0.0), k)):
                blockers = graph.failed_upstreams(key)
                if selected is not None and key not in selected:
                    graph.done(key, ok=True)  # not part of this run: its last snapshot stands
                elif blockers:
                    finished.append(Outcome(key, "blocked", (f"upstream failed: {', '.join(blockers)}",)))
                    notify(key, "done", finished[-1])
                    graph.done(key, ok=False)
                else:
                    notify(key, "start", None)
                    future = pool.submit(
                        build_product, workspace, graph.product(key), report.run_id, options, registered.get(key)
                    )
                    running[future] = key
            if not running:
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                outcome = future.result()
                graph.done(running.pop(future), ok=outcome.ok)
                finished.append(outcome)
                if outcome.status == "failed":
                    _record_failure(workspace, report.run_id, outcome)
                notify(outcome.key, "done", outcome)
            _record(workspace, report, finished)
            finished = []
    finally:  # an interrupted run still records what it finished
        _record(workspace, report, finished)
    report.outcomes.sort(key=lambda o: graph.position(o.key))


def _record(workspace: Workspace, report: BuildReport, outcomes: list[Outcome]) -> None:
    """A generation's outcomes: in the report, and in the catalog in one transaction."""
    now = datetime.now(UTC)
    workspace.catalog.runs.record_steps(
        [
            StepRecord(
                report.run_id,
                o.key,
                o.status,
                list(o.reasons),
                now,
                o.duration_s,
                o.rows,
                o.snapshot_id,
                o.error,
            )
            for o in outcomes
        ]
    )
    report.outcomes.extend(outcomes)


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def select_products(products: Iterable[ProductSource], names: Iterable[str]) -> set[str]:
    """Product keys matching ``names`` (``domain.name`` or ``domain.name@vN``); unknown names raise KeyError."""
    wanted = set(names)
    products = list(products)
    keys = set()
    for product in products:
        if product.spec.ref in wanted or product.spec.key in wanted:
            keys.add(product.spec.key)
    found_names = {p.spec.ref for p in products if p.spec.key in keys} | keys
    missing = sorted(wanted - found_names)
    if missing:
        raise KeyError(", ".join(missing))
    return keys
