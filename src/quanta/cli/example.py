"""``quanta example``: generate the systems of record of an example mesh."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import typer

app = typer.Typer(
    help="Example meshes and their synthetic source systems.", no_args_is_help=True, rich_markup_mode=None
)
fashion = typer.Typer(help="The fashion-retail reference mesh.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(fashion, name="fashion-retail")


@fashion.command("generate")
def generate(
    out: Path = typer.Option(Path("systems"), "--out", "-o", help="Folder for the exports."),
    scale: float = typer.Option(1.0, "--scale", help="SF1 ≈ 100k customers, about a million order lines."),
    seed: int = typer.Option(42, "--seed", help="Same seed, same bytes."),
    seasonality: bool = typer.Option(True, "--seasonality/--no-seasonality", help="Seasonal purchasing."),
    end: str | None = typer.Option(
        None, "--end", help="Last day of the two-year history (YYYY-MM-DD or 'today'); default 2025-12-29."
    ),
) -> None:
    """Write the e-commerce, CRM, returns and PIM exports plus a defects manifest."""
    from quanta.examples.fashion_retail import Settings
    from quanta.examples.fashion_retail import generate as write

    started = time.perf_counter()
    settings = Settings(scale=scale, seed=seed, seasonality=seasonality, end=_day(end) if end else None)
    summary = write(out, settings)
    typer.echo(
        f"wrote {summary['customers']:,} customers, {summary['products']:,} products, "
        f"{summary['orderLines']:,} order lines and {summary['returns']:,} returns to {out} "
        f"in {time.perf_counter() - started:.1f} s"
    )


def _day(text: str) -> date:
    if text == "today":
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"'{text}' is not a date such as 2026-11-29 (or 'today')", param_hint="--end"
        ) from None
