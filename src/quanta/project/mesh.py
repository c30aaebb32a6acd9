"""``Mesh``: the facade front ends call for a checked-out mesh — load, validate, plan, build, test,
gc; reads go through its :class:`~quanta.project.platform.Platform`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quanta.errors import Diagnostic, QuantaError, SpecError
from quanta.project.memos import memoised_row_filter_parser
from quanta.rules.base import RuleSet
from quanta.rules.validation import validation_rules
from quanta.spec.errormap import suggest
from quanta.spec.loader import MeshSource, ProductSource, load_mesh
from quanta.spec.mesh import PlatformSettings
from quanta.spec.plugins import PluginRegistry
from quanta.spec.product import DataProduct
from quanta.state import STATE_FILE, LocalState

if TYPE_CHECKING:  # these import the engine layers, which no-op commands never need
    from quanta.build.gc import GcReport
    from quanta.build.planner import PlanItem
    from quanta.build.product import Workspace
    from quanta.build.runner import BuildReport, Listener
    from quanta.catalog import Catalog
    from quanta.catalog.search import SearchQuery, SearchResult
    from quanta.ports.files import ExportResult
    from quanta.project.platform import Platform
    from quanta.quality.checks import CheckResult


@dataclass
class ValidationReport:
    """Everything validation found, sorted by file and position; the mesh when it loaded."""

    diagnostics: list[Diagnostic]
    source: MeshSource | None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def ok(self) -> bool:
        return self.source is not None and not self.errors


@dataclass
class Mesh:
    """A validated mesh, its registries and (opened on demand) its catalog, storage and engine."""

    source: MeshSource
    plugins: PluginRegistry
    rules: RuleSet = field(default_factory=validation_rules)
    profile: str | None = None
    _platform: Platform | None = field(default=None, repr=False)
    _workspace: Workspace | None = field(default=None, repr=False)

    @staticmethod
    def validate(path: Path, plugins: PluginRegistry | None = None, rules: RuleSet | None = None) -> ValidationReport:
        """Load every spec under ``path`` and run all validation rules; never raises for bad input."""
        result = load_mesh(path, plugins or PluginRegistry.default())
        diagnostics = list(result.diagnostics)
        if result.mesh is not None and rules is not None:
            diagnostics.extend(rules.run(result.mesh))
        elif result.mesh is not None:
            with _local_state(result.mesh.root) as state:
                diagnostics.extend(validation_rules(memoised_row_filter_parser(state)).run(result.mesh))
        diagnostics.sort(key=Diagnostic.sort_key)
        return ValidationReport(diagnostics, result.mesh)

    @classmethod
    def load(cls, path: Path, plugins: PluginRegistry | None = None, profile: str | None = None) -> Mesh:
        """A valid mesh, or :class:`SpecError` with every diagnostic."""
        plugins = plugins or PluginRegistry.default()
        report = cls.validate(path, plugins)
        if not report.ok or report.source is None:
            raise SpecError(report.diagnostics)
        return cls(report.source, plugins, profile=profile)

    def settings(self, profile: str | None = None) -> PlatformSettings:
        """The effective platform settings (mesh defaults < profile < environment)."""
        from quanta.project.settings import resolve_platform

        return resolve_platform(self.source.spec, profile or self.profile)

    # ---------------------------------------------------------------- platform and workspace

    @property
    def platform(self) -> Platform:
        """The catalog and storage this mesh publishes to."""
        if self._platform is None:
            from quanta.project.platform import Platform
            from quanta.project.settings import environment_settings

            self._platform = Platform.open(self.settings(), self.source.root, environment_settings().run_lease)
        return self._platform

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            from quanta.project.workspace import open_workspace

            self._workspace = open_workspace(self.source, self.settings(), self.platform)
        return self._workspace

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.state.close()
            self._workspace.engines.close()
            self._workspace = None
        if self._platform is not None:
            self._platform.close()
            self._platform = None

    @property
    def catalog(self) -> Catalog:
        return self.platform.catalog

    @property
    def title(self) -> str:
        return f"mesh {self.source.spec.name}"

    def specs(self) -> list[DataProduct]:
        """The specs of every product in the checkout."""
        return [p.spec for p in self.source.products]

    def spec(self, name: str) -> DataProduct:
        return self.product(name).spec

    def product(self, name: str) -> ProductSource:
        """A product by ``domain.name`` (latest major) or ``domain.name@vN``."""
        for product in self.source.products:
            if name in (product.spec.key, product.spec.ref):
                candidates = [p for p in self.source.products if p.spec.ref == product.spec.ref]
                return product if name == product.spec.key else max(candidates, key=lambda p: p.spec.major)
        hint = suggest(name, [p.spec.ref for p in self.source.products])
        raise QuantaError(f"no product '{name}' in mesh '{self.source.spec.name}'" + (f"; {hint}" if hint else ""))

    def _selection(self, names: Iterable[str] | None) -> set[str] | None:
        names = list(names or [])
        return {self.product(n).spec.key for n in names} if names else None

    # ---------------------------------------------------------------- build

    def plan(
        self, select: Iterable[str] | None = None, *, full: bool = False, due: bool = False, now: datetime | None = None
    ) -> list[PlanItem]:
        from quanta.build.planner import plan_build
        from quanta.build.product import BuildOptions

        options = BuildOptions(full=full, due=due, now=now or datetime.now(UTC))
        return plan_build(self.workspace, options, self._selection(select))

    def build(
        self,
        select: Iterable[str] | None = None,
        *,
        full: bool = False,
        due: bool = False,
        now: datetime | None = None,
        listener: Listener | None = None,
        arguments: Iterable[str] = (),
    ) -> BuildReport:
        from quanta.build.product import BuildOptions
        from quanta.build.runner import run_build

        options = BuildOptions(full=full, due=due, now=now or datetime.now(UTC))
        return run_build(self.workspace, options, self._selection(select), listener, arguments)

    def gc(self, keep: int, now: datetime | None = None, grace: timedelta | None = None) -> GcReport:
        """Delete old snapshots and orphans; never what a live build or a recent reader needs."""
        from quanta.build.gc import DEFAULT_GRACE, collect_garbage

        if keep < 1:
            raise QuantaError("--keep must be at least 1")
        retention = {p.spec.key: p.spec.slos.retention for p in self.source.products if p.spec.slos.retention}
        grace = DEFAULT_GRACE if grace is None else grace
        return collect_garbage(self.workspace.catalog, self.workspace.store, keep, retention, now, grace)

    # ---------------------------------------------------------------- inspect and read

    def read(
        self,
        name: str,
        *,
        snapshot_id: str | None = None,
        as_of: datetime | None = None,
        unmask: bool = False,
        limit: int | None = None,
    ) -> Any:
        """A product snapshot as a pyarrow Table (current, by id, or as of a time)."""
        key = self.product(name).spec.key
        return self.platform.read(key, snapshot_id=snapshot_id, as_of=as_of, unmask=unmask, limit=limit)

    def query(
        self,
        sql: str,
        *,
        unmask: bool = False,
        as_of: datetime | None = None,
        limit: int | None = None,
        principal: str | None = None,
    ) -> Any:
        """One gated query over every product published to the platform (as ``principal`` would see it)."""
        return self.platform.query(sql, unmask=unmask, as_of=as_of, limit=limit, principal=principal)

    def report(
        self,
        name: str,
        port: str,
        *,
        snapshot_id: str | None = None,
        out: Path | None = None,
        file_format: str | None = None,
    ) -> Path:
        """Render a report port of a product's current (or given) snapshot to one HTML or PDF file
        (``file_format`` None: the port's first format), from the product folder's templates."""
        from quanta.project.outputs import render

        folder = self.source.root / ".quanta" / "reports"
        plane = self.platform.plane
        return render(plane, self.product(name), port, snapshot_id, out, folder, file_format=file_format)

    def export(
        self,
        name: str,
        file_format: str = "parquet",
        *,
        out: Path | None = None,
        snapshot_id: str | None = None,
        unmask: bool = False,
    ) -> ExportResult:
        """Write a product snapshot to one Parquet or CSV file (classified properties masked)."""
        key = self.product(name).spec.key
        return self.platform.export(key, file_format, out=out, snapshot_id=snapshot_id, unmask=unmask)

    def verify(self, names: list[str], snapshot_id: str | None = None) -> dict[str, list[str]]:
        """Checksum the files of the named products' (or every product's) current snapshot."""
        return self.platform.verify([self.product(n).spec.key for n in names], snapshot_id)

    def test(self, names: Iterable[str] | None = None, snapshot_id: str | None = None) -> dict[str, list[CheckResult]]:
        """Run every product's checks (or the named ones') on its current snapshot, or on ``snapshot_id``;
        nothing is published or recorded."""
        from quanta.engines.base import Relation
        from quanta.quality.compile import compile_checks
        from quanta.quality.run import run_checks

        selected = self._selection(names)
        results: dict[str, list[CheckResult]] = {}
        workspace = self.workspace
        for product in self.source.products:
            if selected is not None and product.spec.key not in selected:
                continue
            key = product.spec.key
            record = workspace.catalog.snapshots.get(snapshot_id) if snapshot_id else None
            if snapshot_id is not None and (record is None or record.product_key != key):
                raise QuantaError(f"{key} has no snapshot {snapshot_id}")
            record = record or workspace.catalog.snapshots.current(key)
            if record is None:
                continue  # checks run as the platform on the engine, over the manifest's files
            relation = Relation("snapshot", "parquet", self.platform.plane.files(product.spec, record))
            results[product.spec.key] = run_checks(
                workspace.engine_for(product),
                relation,
                compile_checks(product.spec),
                product.spec,
                masks=workspace.mesh.spec.masks,
            )
        return results

    def slo_documents(self, names: Iterable[str] | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
        """The SLO/SLI document of every product (or the named ones)."""
        from quanta.quality.document import slo_document

        selected = self._selection(names)
        return [
            slo_document(self.workspace.catalog, p.spec, now)
            for p in self.source.products
            if selected is None or p.spec.key in selected
        ]

    def search(self, query: SearchQuery) -> SearchResult:
        """Search the checkout's products (ranked with the trust the catalog measured)."""
        from quanta.project.discovery import Discovery

        discovery = Discovery(self.workspace.catalog, self.specs)
        try:
            return discovery.search(query)
        finally:
            discovery.close()


@contextmanager
def _local_state(root: Path) -> Iterator[LocalState]:
    """The checkout's local state, or one in memory when its folder cannot be written."""
    try:
        state = LocalState(root / STATE_FILE)
    except (OSError, sqlite3.Error):
        state = LocalState(None)
    try:
        yield state
    finally:
        state.close()
