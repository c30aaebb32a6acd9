"""Recording a change inside its own transaction: every change to principals, tokens, verifiers,
grants or requests bumps the access generation, gets an audit row (when auditing is on) and, for
request steps and grant changes, an event, all committed with the change itself.

Who made a change is the *actor* set by :func:`acting_as` around it (``local`` otherwise).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection

from quanta.catalog.access import bump_generation
from quanta.catalog.audit import AuditLog
from quanta.catalog.events import Events
from quanta.catalog.records import AuditEntry

_actor: contextvars.ContextVar[str] = contextvars.ContextVar("quanta_actor", default="local")

EVENT_KINDS = frozenset(
    {
        "request.created",
        "request.approved",
        "request.rejected",
        "request.withdrawn",
        "grant.added",
        "grant.revoked",
        "grant.expired",
        "grant.expiring",
    }
)
"""Changes that are also events (the rest — principals, tokens, verifiers — are audited only)."""


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Attribute the changes made inside the block to ``actor``."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def actor() -> str:
    """Who the current changes are attributed to."""
    return _actor.get()


class Changes:
    """Records changes for the stores that make them."""

    def __init__(self, audit: AuditLog, events: Events) -> None:
        self.audit = audit
        self.events = events

    def record(
        self,
        connection: Connection,
        action: str,
        subject: str,
        data: dict[str, Any] | None = None,
        *,
        product: str | None = None,
        access: bool = True,
    ) -> None:
        """Record ``action`` on ``subject`` in the caller's transaction; ``access`` False for a change
        that grants or takes away nothing (no generation bump)."""
        data = dict(data or {})
        who = actor()
        if access:
            bump_generation(connection)
        if self.audit.enabled:
            entry = AuditEntry(actor=who, action=action, product=product, data={"subject": subject, **data})
            self.audit.append([entry], connection)
        if action in EVENT_KINDS:
            self.events.record(action, subject, data | ({"product": product} if product else {}), who, connection)
