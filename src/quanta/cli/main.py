"""The Typer app and the one error boundary that renders every ``QuantaError``."""

from __future__ import annotations

import sys

import typer

from quanta.cli import (
    build,
    catalog,
    daemon,
    design,
    example,
    init,
    inspect,
    outputs,
    query,
    schema,
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
app.add_typer(catalog.app, name="catalog")
app.add_typer(design.app, name="design")
app.add_typer(example.app, name="example")
app.add_typer(daemon.app, name="daemon")


def run() -> None:
    """Console-script entry point: run the app; render errors without a traceback unless --debug."""
    debug = "--debug" in sys.argv[1:]
    try:
        app()
    except QuantaError as exc:
        if debug:
            raise
        from quanta.cli.render import error_console, render_diagnostics

        if isinstance(exc, SpecError):
            render_diagnostics(exc.diagnostics)
        else:
            error_console().print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if _interrupted(exc):
            sys.exit(130)
        if debug:
            raise
        from quanta.cli.render import error_console

        error_console().print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
            "run again with --debug for a traceback, and please report it",
            highlight=False,
        )
        sys.exit(2)


def _interrupted(exc: Exception) -> bool:
    """Whether DuckDB turned a Ctrl-C during a query into an error of its own."""
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(exc, duckdb.InterruptException):
        return True
    return isinstance(exc, RuntimeError) and str(exc) == "Query interrupted"
