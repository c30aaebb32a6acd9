"""The ``quanta`` entry point: the Typer app and the one error boundary that renders every
``QuantaError``. Command modules import only Typer and Rich at module level; the platform is
imported when a command runs, so ``--help`` and a no-op build start fast."""

from __future__ import annotations

import os
import sys

import typer
from rich.text import Text

from quanta.cli import (
    access,
    audit,
    build,
    catalog,
    design,
    events,
    example,
    init,
    inspect,
    outputs,
    query,
    requests,
    schema,
    serve,
    slo,
    test,
    validate,
    verify,
)
from quanta.errors import QuantaError, SpecError

app = typer.Typer(
    name="quanta",
    help="Design, build, serve and govern data products in a data mesh.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain help: Typer's Rich help formatter alone costs 0.15 s of start-up
)


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show a traceback when something fails."),
) -> None:
    """Quanta: data products from use case to trusted, secure, discoverable, multi-port product."""


app.command("validate")(validate.validate)
app.command("schema")(schema.schema)
app.command("init")(init.init)
app.command("plan")(build.plan)
app.command("build")(build.build)
app.command("gc")(build.gc)
app.command("status")(inspect.status)
app.command("show")(inspect.show)
app.command("search")(inspect.search)
app.command("query")(query.query)
app.command("test")(test.test)
app.command("slo")(slo.slo)
app.command("report")(outputs.report)
app.command("export")(outputs.export)
app.command("verify")(verify.verify)
app.command("serve")(serve.serve)
access.app.command("request")(requests.request)
access.app.command("requests")(requests.requests)
access.app.command("approve")(requests.approve)
access.app.command("reject")(requests.reject)
access.app.command("withdraw")(requests.withdraw)
app.add_typer(access.app, name="access")
app.add_typer(audit.app, name="audit")
app.add_typer(events.app, name="events")
app.add_typer(catalog.app, name="catalog")
app.add_typer(design.app, name="design")
app.add_typer(example.app, name="example")


def run() -> None:
    """Console-script entry point: run the app; render errors without a traceback unless --debug."""
    debug = "--debug" in sys.argv[1:]
    _notice_retired_settings()
    try:
        app()
    except QuantaError as exc:
        if debug:
            raise
        from quanta.cli.render import error_console, render_diagnostics

        if isinstance(exc, SpecError):
            render_diagnostics(exc.diagnostics)
        else:
            error_console().print(_labelled("error", exc), highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if _interrupted(exc):
            sys.exit(130)
        if debug:
            raise
        from quanta.cli.render import error_console

        message = f"{type(exc).__name__}: {exc}\nrun again with --debug for a traceback, and please report it"
        error_console().print(_labelled("internal error", message), highlight=False)
        sys.exit(2)


def _labelled(label: str, message: object) -> Text:
    """An error line whose message is shown literally, never read as markup or emoji."""
    return Text.assemble((f"{label}:", "bold red"), " ", str(message))


def _notice_retired_settings() -> None:
    if "QUANTA_DAEMON" in os.environ:
        from quanta.cli.render import error_console

        error_console().print("notice: QUANTA_DAEMON is ignored: the fork server was removed", style="dim")


def _interrupted(exc: Exception) -> bool:
    """Whether DuckDB turned a Ctrl-C during a query into an error of its own."""
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(exc, duckdb.InterruptException):
        return True
    return isinstance(exc, RuntimeError) and str(exc) == "Query interrupted"
