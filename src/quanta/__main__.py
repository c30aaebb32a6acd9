"""``python -m quanta`` runs the CLI (through the warm fork server when one is available)."""

from quanta.cli.launch import main

main()
