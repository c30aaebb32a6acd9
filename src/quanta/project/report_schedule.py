"""Scheduled reports: each report port with a ``schedule`` is rendered once per tick, whatever the
number of server processes, and its delivery recorded as a catalog event.

Every pass (``quanta serve`` runs one every ``interval_s``) takes the database's clock, and for each
published product's scheduled report port the latest tick at or before it; a tick older than
``misfire`` (a server that was down) is skipped. The tick is claimed in the catalog (one row per
product, port and tick, ``INSERT … ON CONFLICT DO NOTHING``), so exactly one process renders it:
as the product's owner (a member of its owning team: classified values masked), through the data
plane, in every format the port lists, and kept with the snapshots it used.

The ``report.rendered`` event names the principals the port is granted to (by a grant or as a
member of the owning team; never a platform admin only by being one) and the report's address.
The rendering is not sent to them: each recipient reads the report at that address as
themselves, so a recipient with a row filter or masks never sees the owner's figures. The
webhook dispatcher delivers the event.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from quanta.access import Principal
from quanta.ports.reports import ReportPort
from quanta.read.plane import DataPlane
from quanta.spec.product import DataProduct

_log = logging.getLogger("quanta.reports")

MISFIRE = timedelta(hours=1)
"""A tick later than this is not rendered any more (the next one will be)."""
EVENT = "report.rendered"


@dataclass(frozen=True)
class ScheduledRender:
    """What one pass rendered for one claimed tick."""

    product: str
    port: str
    tick: datetime
    renders: tuple[int, ...]
    recipients: tuple[str, ...]
    event_id: int | None
    error: str | None = None


def due_tick(schedule: str, now: datetime) -> datetime:
    """The latest tick of ``schedule`` (cron, UTC) at or before ``now`` (aware UTC)."""
    from croniter import croniter

    probe = now.replace(second=0, microsecond=0) + timedelta(minutes=1)  # a tick at ``now`` itself counts
    tick: datetime = croniter(schedule, probe).get_prev(datetime)
    return tick


def report_url(spec: DataProduct, port: str) -> str:
    """Where a recipient reads the report (relative to the server's base URL)."""
    return f"/api/v1/products/{spec.domain}/{spec.name}/v{spec.major}/reports/{port}"


class ReportScheduler:
    """Renders due scheduled reports; ``clock`` None: the catalog database's clock."""

    def __init__(
        self,
        plane: DataPlane,
        reports: ReportPort,
        *,
        interval_s: float = 15.0,
        misfire: timedelta = MISFIRE,
        clock: Callable[[], datetime] | None = None,
        name: str | None = None,
    ) -> None:
        self.plane = plane
        self.reports = reports
        self.interval_s = interval_s
        self.misfire = misfire
        self.clock = clock or plane.catalog.reports.now
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        """Who claims ticks (recorded with each claim)."""
        self._seen: set[tuple[str, str, datetime]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quanta-reports", daemon=True)

    def run_due(self) -> list[ScheduledRender]:
        """One pass: render every due, unclaimed tick; returns what this process rendered."""
        now = self.clock()
        done = []
        for spec in self.plane.published():
            for port in spec.outputs:
                schedule = getattr(port.options, "schedule", None) if port.type == "report" else None
                if not schedule:
                    continue
                tick = due_tick(schedule, now)
                seen = (spec.key, port.id, tick)
                if now - tick > self.misfire or seen in self._seen:
                    continue
                if self.plane.catalog.snapshots.current(spec.key) is None:
                    continue  # nothing published yet: try again next pass
                self._seen.add(seen)
                if self.plane.catalog.reports.claim_tick(spec.key, port.id, tick, self.name):
                    done.append(self._render(spec, port.id, tick))
        return done

    def _render(self, spec: DataProduct, port: str, tick: datetime) -> ScheduledRender:
        reports = self.plane.catalog.reports
        try:
            formats = self.reports.formats(spec, port)
            rendered = self.reports.render(
                owner_of(self.plane, spec), spec, port, formats, trigger="schedule", tick=tick
            )
            renders = tuple(r.render_id for r in rendered if r.render_id is not None)
            recipients = tuple(granted(self.plane, spec, port))
            first = rendered[0]
            data = {
                "product": spec.key,
                "port": port,
                "tick": tick.isoformat(),
                "snapshot": first.snapshot_id,
                "previous": first.previous_id,
                "formats": [r.format for r in rendered],
                "url": report_url(spec, port),
                "recipients": list(recipients),
            }
            event = self.plane.catalog.events.record(EVENT, f"report {spec.key} {port}", data, "schedule")
        except Exception as exc:  # recorded with the tick; the next tick tries again
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"[:500]
            _log.warning("scheduled report %s %s at %s failed: %s", spec.key, port, tick.isoformat(), error)
            reports.finish_tick(spec.key, port, tick, [], error)
            return ScheduledRender(spec.key, port, tick, (), (), None, error)
        reports.finish_tick(spec.key, port, tick, list(renders))
        return ScheduledRender(spec.key, port, tick, renders, recipients, event)

    def start(self) -> ReportScheduler:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception as exc:  # the catalog unreachable for a moment: try again next interval
                _log.warning("scheduled reports pass failed: %s", str(exc).strip().splitlines()[0] if str(exc) else exc)
            self._stop.wait(self.interval_s)


def owner_of(plane: DataPlane, spec: DataProduct) -> Principal:
    """The principal a scheduled report is rendered as: a member of the product's owning team
    (every port, classified values masked); the platform owner, masked too, for a product no team
    owns."""
    team = plane.owning_team(spec)
    if team is None:
        return Principal(f"schedule:{spec.ref}", owner=True)
    return Principal(f"schedule:{spec.ref}", team=team)


def granted(plane: DataPlane, spec: DataProduct, port: str) -> list[str]:
    """The catalog's principals the report port is granted to, by a grant or as a member of the
    owning team (a platform admin is not a recipient by being one)."""
    record = plane.catalog.snapshots.current(spec.key)
    found = []
    for known in plane.catalog.access.all():
        principal = Principal(known.id, frozenset(known.roles), dict(known.attributes), False, known.team)
        if plane.decide(principal, spec, port, record).allowed:
            found.append(known.id)
    return found
