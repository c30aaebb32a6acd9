"""Fixtures of the build tests; the four-product mesh itself lives in four_mesh.py (a module name no
other test folder's conftest shadows)."""

from four_mesh import *  # noqa: F403
