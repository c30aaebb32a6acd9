"""The SQL port: the PostgreSQL wire protocol v3 over the data plane."""
