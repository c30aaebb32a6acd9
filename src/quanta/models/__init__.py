"""Statistical models products can use (pure numpy/scipy, no platform dependencies)."""
