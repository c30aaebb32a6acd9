"""The engine-neutral SQL toolkit (sqlglot): the fail-closed gate for user SQL, row filters, and
the rewriter that builds secured relations and pins a gated query to them."""
