"""THE data plane: every reader of product data goes through :class:`DataPlane` — principal,
product@major, port and snapshot selector → catalog → access decision → secured relation → engine."""

from quanta.read.plane import DataPlane, Selector

__all__ = ["DataPlane", "Selector"]
