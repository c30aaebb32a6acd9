"""How a product computes its public table: SQL steps or a Python entry point."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from quanta.spec.base import EngineName, SpecModel


class SqlTransform(SpecModel):
    """SQL files run in order; every input is a relation named by its id, each step a view
    named after its file stem, and the last step is the public table."""

    type: Literal["sql"]
    """``sql``."""
    dialect: Literal["duckdb", "spark", "postgres"] = "duckdb"
    """Dialect the SQL is written in (transpiled with sqlglot when the engine differs)."""
    steps: list[Annotated[str, Field(pattern=r"^[\w./-]+\.sql$")]] = Field(min_length=1)
    """SQL files relative to the product folder; all but the last are private."""
    engine: EngineName | None = None
    """The engine that builds this product (the platform's when omitted), e.g. ``spark`` for one heavy
    aggregate while the rest of the mesh builds on DuckDB."""


class PythonTransform(SpecModel):
    """A Python function that receives the inputs and returns the public table."""

    type: Literal["python"]
    """``python``."""
    entrypoint: str = Field(pattern=r"^[\w./-]+\.py:[A-Za-z_]\w*$", examples=["model.py:build"])
    """``file.py:function`` relative to the product folder; imported only when built."""
    inputs: Literal["arrow", "dataframe"] = "arrow"
    """What the function receives: ``arrow`` (each input as a pyarrow Table, and ``inputs.sql()`` in
    DuckDB's dialect returning Arrow; runs unchanged on every engine) or ``dataframe`` (the engine's
    own data frames, e.g. Spark DataFrames; only on an engine that offers them)."""
    engine: EngineName | None = None
    """The engine that builds this product (the platform's when omitted)."""


Transform = Annotated[SqlTransform | PythonTransform, Field(discriminator="type")]
