"""Blueprints: the templates new meshes and products start from (one place for all of them)."""

from quanta.blueprints.mesh import create_mesh

__all__ = ["create_mesh"]
