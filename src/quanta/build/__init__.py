"""Building products: input connectors, the runner, snapshot manifests and compatibility."""
