"""Output ports: how consumers get at a product's snapshots (reports and file exports so far)."""
