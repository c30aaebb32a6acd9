"""Quanta: design, build, serve and govern data products."""

__version__ = "0.1.0"
