"""Render a product's report port: a Jinja2 template, queried against the current and the previous
published snapshot, as one self-contained HTML document.

Templates come from a :class:`Templates` source: :class:`PublishedTemplates` reads the files the
product's published descriptor holds (what a server renders from, no checkout needed);
:class:`FolderTemplates` reads a product folder's working copy (``quanta report`` in a mesh).
Both resolve names the same way: ``..`` and absolute names are not found.

Templates get ``product``, ``snapshot``, ``previous`` (``None`` for the first snapshot),
``artefacts`` (the snapshot manifest's), ``generated_at``, ``sql(query, **params)`` (one SELECT over
the views ``current`` and ``previous``; rows as dicts), ``bar_chart(...)`` (inline SVG) and the
filters ``number``, ``eur``, ``pct`` and ``signed``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from quanta.errors import QuantaError
from quanta.ports.charts import bar_chart


class ReportError(QuantaError):
    """A report cannot be rendered; the message names the template and why."""


class Templates(Protocol):
    """Where a report's templates come from."""

    @property
    def where(self) -> str:
        """What the source is, for error messages (a folder, or a product's published descriptor)."""
        ...

    def source(self, name: str) -> tuple[str, str]:
        """A template's text and the file name its errors are located in; raises
        ``jinja2.TemplateNotFound`` for a name the source does not hold."""
        ...


@dataclass(frozen=True)
class FolderTemplates:
    """Templates read from a product folder, only from inside it (see :func:`template_source`)."""

    folder: Path

    @property
    def where(self) -> str:
        return str(self.folder)

    def source(self, name: str) -> tuple[str, str]:
        text, filename, _ = template_source(self.folder, name)
        return text, filename


@dataclass(frozen=True)
class PublishedTemplates:
    """Templates from a published descriptor's files (path relative to the product folder → bytes)."""

    files: Mapping[str, bytes]
    where: str

    def source(self, name: str) -> tuple[str, str]:
        import posixpath

        import jinja2
        from jinja2.loaders import split_template_path

        path = posixpath.join(*split_template_path(name))  # a name with '..' is not found
        content = self.files.get(path)
        if content is None or name.startswith("/"):
            raise jinja2.TemplateNotFound(name)
        try:
            return content.decode("utf-8"), f"{self.where}/{path}"
        except UnicodeDecodeError as exc:
            raise ReportError(f"template {name} cannot be read: {exc}") from None


@dataclass(frozen=True)
class ReportRequest:
    """Everything one rendering needs."""

    templates: Templates
    template: str
    product: dict[str, Any]
    current: dict[str, Any]
    """``id``, ``rows``, ``published_at`` and ``artefacts`` of the snapshot reported on."""
    previous: dict[str, Any] | None
    generated_at: datetime
    query: Callable[[str, dict[str, Any] | None], list[dict[str, Any]]]
    """Runs one gated query over ``current`` and ``previous`` (the data plane's secured relations)."""


def render_report(request: ReportRequest) -> str:
    """The rendered HTML; template and query errors become :class:`ReportError`."""
    filenames: dict[str, str] = {}
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from markupsafe import Markup

    environment = ImmutableSandboxedEnvironment(  # templates may not reach Python internals
        loader=jinja2.FunctionLoader(lambda name: _loaded(request.templates, name, filenames)),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(number=_number, eur=_eur, pct=_pct, signed=_signed)

    def sql(query: str, **params: Any) -> list[dict[str, Any]]:
        try:
            return request.query(query, params or None)
        except QuantaError as exc:
            raise ReportError(f"{request.template}: query failed: {exc}") from None

    def chart(labels: list[str], values: list[float], **options: Any) -> Markup:
        return Markup(bar_chart(labels, [float(v or 0) for v in values], **options))

    try:
        template = environment.get_template(request.template)
        return template.render(
            product=request.product,
            snapshot=request.current,
            previous=request.previous,
            artefacts=request.current["artefacts"],
            generated_at=request.generated_at,
            sql=sql,
            bar_chart=chart,
        )
    except jinja2.TemplateNotFound as exc:
        raise ReportError(f"template {exc.name} not found in {request.templates.where}") from None
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None) or _template_line(exc, filenames.get(request.template))
        where = f"{request.template}:{line}" if line else request.template
        raise ReportError(f"{where}: {exc.message or exc}") from None


def _loaded(templates: Templates, name: str, filenames: dict[str, str]) -> tuple[str, str, Callable[[], bool]]:
    text, filename = templates.source(name)
    filenames[name] = filename
    return text, filename, lambda: True


def template_source(folder: Path, name: str) -> tuple[str, str, Callable[[], bool]]:
    """A template's text, file name and up-to-date check, read only from inside ``folder``: a
    name with ``..`` or that is not a regular file is not found; one whose real path (symlinks
    followed) leads out of the folder is refused."""
    import jinja2
    from jinja2.loaders import split_template_path

    path = folder.joinpath(*split_template_path(name))
    real = path.resolve()
    if not real.is_relative_to(folder.resolve()):
        raise ReportError(f"template {name} leads outside the product folder {folder}; templates must live in it")
    if not real.is_file():
        raise jinja2.TemplateNotFound(name)
    try:
        return real.read_text(encoding="utf-8"), str(path), lambda: True
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"template {name} cannot be read: {exc}") from None


MISSING = "\u2013"  # an en dash for a missing number


def _template_line(exc: BaseException, filename: str | None) -> int | None:
    """The template line of a rendering error: Jinja2 rewrites tracebacks to point into the template."""
    line, trace = None, exc.__traceback__
    while trace is not None and filename is not None:
        if trace.tb_frame.f_code.co_filename == filename:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def _number(value: float | None, digits: int = 0) -> str:
    return MISSING if value is None else f"{value:,.{digits}f}"


def _eur(value: float | None, digits: int = 0) -> str:
    return MISSING if value is None else f"€{value:,.{digits}f}"


def _pct(value: float | None, digits: int = 1) -> str:
    return MISSING if value is None else f"{100 * value:.{digits}f}%"


def _signed(value: float | None, digits: int = 0) -> str:
    return MISSING if value is None else f"{value:+,.{digits}f}"
