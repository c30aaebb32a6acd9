"""Why one product's build failed; recorded on the run, never a traceback."""

from __future__ import annotations


class BuildFailure(Exception):
    """A product could not be built; the message says why and what to do."""


class InputUnavailable(BuildFailure):
    """An input could not be read (missing files, a source that stays down, no upstream snapshot)."""


class IncompatibleSchema(BuildFailure):
    """The new schema breaks the last published snapshot of the same major version."""


class InputChanged(BuildFailure):
    """An input's files changed while the engine read them: what was read may be partial."""
