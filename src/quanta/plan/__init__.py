"""What to build and why: dependency order, fingerprints, due schedules."""
