"""The report port: a product's report rendered for one principal, as HTML or PDF from the same
template, through the data plane (the reader's masks and row filter apply to every figure).

Templates come from the product's published descriptor, so a server renders without the product
folder; ``quanta report`` in a mesh passes the folder's working copy instead. A rendering from the
descriptor is kept in the catalog with the snapshots it used (the current and the previous one),
keyed by what the reader saw: a reader whose secured reads equal an earlier one's gets the kept
rendering (audited all the same), and two processes rendering it at once keep one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quanta.access import Principal
from quanta.catalog.reports import ReportRender
from quanta.errors import BadRequest, NotAcceptable, NotFound
from quanta.ports.report import PublishedTemplates, ReportRequest, Templates, render_report
from quanta.read.plane import DataPlane, SecuredRead, Selector
from quanta.spec.product import DataProduct

MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
_FAMILY = {"html": "text/*", "pdf": "application/*"}


@dataclass(frozen=True)
class RenderedReport:
    """One rendered report, ready to send or write."""

    content: bytes
    format: str
    snapshot_id: str
    previous_id: str | None
    fingerprint: str
    """What the reader saw (template, secured reads): equal fingerprints, equal reports."""
    sha256: str
    filename: str
    render_id: int | None = None
    """The kept rendering's id in the catalog (None: not kept, e.g. a working copy's template)."""

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


class ReportPort:
    """Renders report ports over one data plane."""

    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane
        self._templates: dict[str, PublishedTemplates] = {}

    def formats(self, spec: DataProduct, port_id: str) -> list[str]:
        """The formats a report port offers; :class:`NotFound` when ``spec`` has no such port."""
        port = spec.output(port_id)
        if port is None or port.type != "report":
            reports = [p.id for p in spec.outputs if p.type == "report"]
            raise NotFound(
                f"{spec.ref} v{spec.major} has no report port '{port_id}'"
                + (f"; its reports: {', '.join(reports)}" if reports else "; it declares no report port")
            )
        return list(port.options.formats)

    def choose(self, spec: DataProduct, port_id: str, requested: str | None) -> str:
        """The format to render: ``requested``, which the port must offer, else the port's first."""
        formats = self.formats(spec, port_id)
        if requested is None:
            return formats[0]
        if requested not in formats:
            raise BadRequest(f"report port '{port_id}' offers {', '.join(formats)}, not '{requested}'", "format")
        return requested

    def negotiate(self, spec: DataProduct, port_id: str, explicit: str | None, accept: str | None) -> str:
        """The format to answer in: ``?format=`` when given (it must be offered), else the port's
        format ``Accept`` ranks best (the port's first when anything goes);
        :class:`NotAcceptable` when ``Accept`` names none the port offers."""
        if explicit is not None:
            return self.choose(spec, port_id, explicit)
        formats = self.formats(spec, port_id)
        if not accept or not accept.strip():
            return formats[0]
        best: tuple[float, int] | None = None
        chosen = None
        for part in accept.split(","):
            media, *options = [p.strip().lower() for p in part.split(";")]
            quality = 1.0
            for option in options:
                key, _, value = option.partition("=")
                if key.strip() == "q":
                    try:
                        quality = float(value)
                    except ValueError:
                        quality = 0.0
            matching = [f for f in formats if media in ("*/*", MEDIA_TYPES[f].split(";")[0], _FAMILY[f])]
            for file_format in matching:
                rank = (quality, -formats.index(file_format))
                if quality > 0 and (best is None or rank > best):
                    best, chosen = rank, file_format
        if chosen is None:
            offered = ", ".join(MEDIA_TYPES[f].split(";")[0] for f in formats)
            raise NotAcceptable(f"report port '{port_id}' offers {offered}; the request accepts none of them")
        return chosen

    def render(
        self,
        principal: Principal,
        spec: DataProduct,
        port_id: str,
        formats: Sequence[str],
        selector: Selector | None = None,
        *,
        templates: Templates | None = None,
        trigger: str = "on-demand",
        tick: datetime | None = None,
    ) -> list[RenderedReport]:
        """The report of the selected snapshot as ``principal`` reads it, in each of ``formats``
        (every one the port must offer); :class:`AccessDenied` when the port is refused.
        ``templates`` None: the published descriptor's, and the renderings are kept."""
        for file_format in formats:
            self.choose(spec, port_id, file_format)
        port = spec.output(port_id)
        assert port is not None
        current = self.plane.secure(principal, spec, port_id, selector or Selector())
        before = self.plane.catalog.snapshots.published_before(current.snapshot)
        previous = self.plane.secure(principal, spec, port_id, record=before) if before else None
        descriptor_id = None
        source: Templates
        if templates is None:
            descriptor_id, source = self._published(spec)
        else:
            source = templates
        fingerprint = _fingerprint(descriptor_id, port.options.template, current, previous)
        kept = {f: self.plane.catalog.reports.find(fingerprint, f) for f in formats} if descriptor_id else {}
        found = {f: k for f, k in kept.items() if k is not None}
        if len(found) == len(formats):
            self.plane.record_access(current, statement=f"report {port_id} (kept)")
            return [self._rendered(spec, port_id, k) for k in found.values()]
        html = (
            found["html"].content.decode() if "html" in found else self._html(spec, port_id, source, current, previous)
        )
        out = []
        for file_format in formats:
            if file_format in found:
                out.append(self._rendered(spec, port_id, found[file_format]))
                continue
            content = html.encode() if file_format == "html" else _pdf(html)
            sha = hashlib.sha256(content).hexdigest()
            name = f"{spec.ref}-{port_id}-{current.snapshot.id}.{file_format}"
            made = RenderedReport(content, file_format, current.snapshot.id, _id(previous), fingerprint, sha, name)
            if descriptor_id is not None:
                record = ReportRender(
                    spec.key, port_id, current.snapshot.id, _id(previous), descriptor_id, file_format,
                    fingerprint, principal.id, trigger, sha, content, tick,
                )  # fmt: skip
                made = self._rendered(spec, port_id, self.plane.catalog.reports.keep(record))
            out.append(made)
        return out

    def _html(
        self,
        spec: DataProduct,
        port_id: str,
        templates: Templates,
        current: SecuredRead,
        previous: SecuredRead | None,
    ) -> str:
        empty = current.relation.copy().where("FALSE")  # a first snapshot compares with nothing
        relations = {"current": current.relation, "previous": previous.relation if previous else empty}
        query = self.plane.scoped_query(relations, current, f"report {port_id}")
        port = spec.output(port_id)
        assert port is not None
        return render_report(
            ReportRequest(
                templates=templates,
                template=port.options.template,
                product=_product(spec),
                current=self._describe(current),
                previous=self._describe(previous) if previous else None,
                generated_at=datetime.now(UTC),
                query=query,
            )
        )

    def _published(self, spec: DataProduct) -> tuple[str, PublishedTemplates]:
        """The product's current published descriptor id and its files as templates."""
        entry = self.plane.catalog.products.entry(spec.key)
        if entry is None or entry.descriptor_id is None:
            raise NotFound(f"{spec.key} has no published descriptor")
        cached = self._templates.get(entry.descriptor_id)
        if cached is None:
            descriptor = self.plane.catalog.products.descriptor(entry.descriptor_id)
            if descriptor is None:
                raise NotFound(f"{spec.key}: its published descriptor {entry.descriptor_id} is missing")
            cached = PublishedTemplates(dict(descriptor.files), f"the published descriptor of {spec.key}")
            self._templates = {entry.descriptor_id: cached}  # the latest one only
        return entry.descriptor_id, cached

    def _describe(self, read: SecuredRead) -> dict[str, Any]:
        manifest = self.plane.manifest(read.spec, read.snapshot)
        return {
            "id": read.snapshot.id,
            "rows": read.snapshot.rows,
            "published_at": read.snapshot.published_at,
            "artefacts": manifest.get("artefacts") or {},
        }

    @staticmethod
    def _rendered(spec: DataProduct, port_id: str, kept: ReportRender) -> RenderedReport:
        name = f"{spec.ref}-{port_id}-{kept.snapshot_id}.{kept.format}"
        return RenderedReport(
            kept.content, kept.format, kept.snapshot_id, kept.previous_id, kept.fingerprint, kept.sha256, name, kept.id
        )


def _product(spec: DataProduct) -> dict[str, Any]:
    return {
        "ref": spec.ref,
        "name": spec.name,
        "domain": spec.domain,
        "version": spec.version,
        "description": spec.description,
        "team": spec.team.name if spec.team else None,
    }


def _fingerprint(descriptor_id: str | None, template: str, current: SecuredRead, previous: SecuredRead | None) -> str:
    material = {
        "descriptor": descriptor_id,
        "template": template,
        "current": [current.snapshot.id, current.fingerprint],
        "previous": [previous.snapshot.id, previous.fingerprint] if previous else None,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _id(read: SecuredRead | None) -> str | None:
    return read.snapshot.id if read is not None else None


def _pdf(html: str) -> bytes:
    from quanta.ports.pdf import html_to_pdf

    return html_to_pdf(html)
