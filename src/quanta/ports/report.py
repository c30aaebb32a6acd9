"""Render a product's report port: a Jinja2 template from the product folder, queried against the
current and the previous published snapshot, written as one self-contained HTML file.

Templates get ``product``, ``snapshot``, ``previous`` (``None`` for the first snapshot),
``artefacts`` (the snapshot manifest's), ``generated_at``, ``sql(query, **params)`` (one SELECT over
the views ``current`` and ``previous``; rows as dicts), ``bar_chart(...)`` (inline SVG) and the
filters ``number``, ``eur``, ``pct`` and ``signed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from quanta.errors import QuantaError
from quanta.ports.charts import bar_chart


class ReportError(QuantaError):
    """A report cannot be rendered; the message names the template and why."""


@dataclass(frozen=True)
class ReportRequest:
    """Everything one rendering needs."""

    folder: Path
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
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from markupsafe import Markup

    environment = ImmutableSandboxedEnvironment(  # templates may not reach Python internals
        loader=jinja2.FunctionLoader(lambda name: template_source(request.folder, name)),
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
        raise ReportError(f"template {exc.name} not found in {request.folder}") from None
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None) or _template_line(exc, request.folder / request.template)
        where = f"{request.template}:{line}" if line else request.template
        raise ReportError(f"{where}: {exc.message or exc}") from None


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


def _template_line(exc: BaseException, path: Path) -> int | None:
    """The template line of a rendering error: Jinja2 rewrites tracebacks to point into the template."""
    line, trace = None, exc.__traceback__
    while trace is not None:
        if Path(trace.tb_frame.f_code.co_filename) == path:
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
