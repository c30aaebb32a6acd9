"""``python -m quanta`` runs the CLI."""

from quanta.cli.main import run

run()
