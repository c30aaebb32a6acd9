"""How a product computes its public table: SQL steps or a Python entry point."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from quanta.spec.base import SpecModel


class SqlTransform(SpecModel):
    """SQL files run in order; every input is a relation named by its id, each step a view
    named after its file stem, and the last step is the public table."""

    type: Literal["sql"]
    """``sql``."""
    dialect: Literal["duckdb", "spark", "postgres"] = "duckdb"
    """Dialect the SQL is written in (transpiled with sqlglot when the engine differs)."""
    steps: list[Annotated[str, Field(pattern=r"^[\w./-]+\.sql$")]] = Field(min_length=1)
    """SQL files relative to the product folder; all but the last are private."""


class PythonTransform(SpecModel):
    """A Python function that receives the inputs and returns the public table."""

    type: Literal["python"]
    """``python``."""
    entrypoint: str = Field(pattern=r"^[\w./-]+\.py:[A-Za-z_]\w*$", examples=["model.py:build"])
    """``file.py:function`` relative to the product folder; imported only when built."""


Transform = Annotated[SqlTransform | PythonTransform, Field(discriminator="type")]
