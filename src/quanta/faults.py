"""Fault injection for failure-safety tests: a named checkpoint kills the process when asked.

Set ``QUANTA_FAULT=<checkpoint>`` and the process SIGKILLs itself on reaching it. With the
variable unset (always, outside tests) a checkpoint is a dictionary look-up.
"""

from __future__ import annotations

import os
import signal

AFTER_PARQUET = "after-parquet"
BEFORE_CATALOG_COMMIT = "before-catalog-commit"
DURING_CATALOG_COMMIT = "during-catalog-commit"
BEFORE_MANIFEST_UPLOAD = "before-manifest-upload"
CHECKPOINTS = (AFTER_PARQUET, BEFORE_CATALOG_COMMIT, DURING_CATALOG_COMMIT, BEFORE_MANIFEST_UPLOAD)
"""Every checkpoint; ``QUANTA_FAULT`` must name one of them."""


def checkpoint(name: str) -> None:
    if os.environ.get("QUANTA_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
