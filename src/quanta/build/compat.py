"""Breaking changes between the last published schema of a major version and a new one."""

from __future__ import annotations

from typing import Any

from quanta.spec.schema import Property

_WIDENINGS = {("integer", "number")}


def schema_record(properties: list[Property]) -> list[dict[str, Any]]:
    """What the catalog keeps of a schema to judge compatibility later."""
    return [
        {
            "name": p.name,
            "logicalType": p.logical_type,
            "required": p.required or p.primary_key,
            "primaryKey": p.primary_key,
            "classification": p.classification,
        }
        for p in properties
    ]


def breaking_changes(previous: list[dict[str, Any]], current: list[Property]) -> list[str]:
    """Each change that would break a consumer of ``previous``; empty when the change is additive."""
    changes = []
    now = {p.name: p for p in current}
    for old in previous:
        name = old["name"]
        new = now.get(name)
        if new is None:
            changes.append(f"property '{name}' was removed or renamed")
            continue
        if old["logicalType"] != new.logical_type and (old["logicalType"], new.logical_type) not in _WIDENINGS:
            changes.append(f"property '{name}' changed type from {old['logicalType']} to {new.logical_type}")
        if old["required"] and not (new.required or new.primary_key):
            changes.append(f"property '{name}' may now be null (it was required)")
    old_key = [o["name"] for o in previous if o["primaryKey"]]
    new_key = [p.name for p in current if p.primary_key]
    if sorted(old_key) != sorted(new_key):
        changes.append(f"primary key changed from ({', '.join(old_key)}) to ({', '.join(new_key)})")
    return changes
