"""Specification models and the loader."""
