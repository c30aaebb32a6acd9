"""Deciding whether a product needs building, and why: plain data in, reasons out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from quanta.plan.fingerprints import digest


@dataclass(frozen=True)
class Fingerprints:
    """What a build of a product would be made from."""

    spec: str
    code: str
    inputs: dict[str, str | None] = field(default_factory=dict)

    @property
    def inputs_digest(self) -> str:
        return digest(*(f"{k}={v}" for k, v in sorted(self.inputs.items())))


@dataclass(frozen=True)
class Previous:
    """What the current snapshot was built from (None fields: there is no current snapshot)."""

    spec: str | None = None
    code: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    built_at: datetime | None = None


def reasons_to_build(now: Fingerprints, before: Previous, *, full: bool = False, due: bool = False) -> list[str]:
    """Why the product must be (re)built; empty when its current snapshot is up to date."""
    if before.spec is None:
        return ["no published snapshot yet"]
    reasons = []
    if full:
        reasons.append("--full")
    if now.spec != before.spec:
        reasons.append("spec changed")
    if now.code != before.code:
        reasons.append("code changed")
    for input_id, fingerprint in sorted(now.inputs.items()):
        if input_id not in before.inputs:
            reasons.append(f"input '{input_id}' added")
        elif fingerprint is None:
            reasons.append(f"input '{input_id}' is checked at build time")
        elif fingerprint != before.inputs[input_id]:
            reasons.append(f"input '{input_id}' changed")
    reasons += [f"input '{gone}' removed" for gone in sorted(set(before.inputs) - set(now.inputs))]
    if due:
        reasons.append("schedule due")
    return reasons


def is_due(schedule: str | None, built_at: datetime | None, now: datetime) -> bool:
    """Whether the schedule fired since the current snapshot was built."""
    if schedule is None:
        return False
    if built_at is None:
        return True
    from croniter import croniter

    next_run: datetime = croniter(schedule, built_at).get_next(datetime)
    return next_run <= now
