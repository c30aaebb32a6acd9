"""Execution engines (DuckDB embedded, Spark scale-out) and engine-neutral SQL helpers."""
