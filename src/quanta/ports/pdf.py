"""A report's HTML as PDF, with WeasyPrint (the one module importing it), offline: nothing outside
the document is fetched (a report is self-contained: charts are inline SVG)."""

from __future__ import annotations

from quanta.errors import MissingExtraError, QuantaError

EXTRA = "pdf"


class PdfUnavailable(MissingExtraError):
    """WeasyPrint, or the pango library it needs, is missing."""


def html_to_pdf(html: str) -> bytes:
    """The PDF of one self-contained HTML document."""
    import logging
    import warnings

    for name in ("weasyprint", "fontTools"):  # font subsetting notes, not the caller's business
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import weasyprint
    except ImportError:
        raise PdfUnavailable("weasyprint", EXTRA) from None
    except OSError as exc:  # WeasyPrint is installed but pango (a system library) is not
        error = PdfUnavailable("weasyprint", EXTRA)
        error.args = (f"{error}; it also needs the pango library ({str(exc).splitlines()[0]})",)
        raise error from None
    try:
        from weasyprint.urls import URLFetcher

        offline = URLFetcher(allowed_protocols=("data",))  # inline data only: no network, no local files
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return bytes(weasyprint.HTML(string=html, url_fetcher=offline).write_pdf())
    except Exception as exc:
        raise QuantaError(f"the report could not be written as PDF: {type(exc).__name__}: {exc}") from None
