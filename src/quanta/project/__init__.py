"""The facade front ends call: load and validate a mesh (build, measure, serve follow)."""

from quanta.project.mesh import Mesh, ValidationReport

__all__ = ["Mesh", "ValidationReport"]
