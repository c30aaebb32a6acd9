"""Typed masks as sqlglot expressions: ``null``, ``redact``, ``partial`` and keyed ``hash``.

``hash`` is HMAC-SHA256 computed in SQL, ``H((k ⊕ opad) ‖ unhex(H((k ⊕ ipad) ‖ text)))``, with
the padded keys precomputed here as hex literals; without a key it is NULL, never an unkeyed
hash. A NULL value stays NULL under every mask.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from sqlglot import exp


class MaskRule(Protocol):
    """A mask: its kind (``null``, ``redact``, ``partial``, ``hash``) and the property's logical type."""

    @property
    def kind(self) -> str: ...

    @property
    def logical_type(self) -> str: ...


REDACTED = "***"
"""What a redacted (or partially shown) string reads as."""
_BLOCK = 64
_EMAIL = r"^[^@]+@[^@]+$"


def padded_keys(key: bytes) -> tuple[str, str]:
    """The HMAC inner and outer padded keys, as hex."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in key)
    outer = bytes(b ^ 0x5C for b in key)
    return inner.hex(), outer.hex()


def mask_value(rule: MaskRule, column: str, key: bytes | None = None) -> exp.Expression:
    """What ``column`` reads as under ``rule``."""
    value = exp.column(column, quoted=True)
    if rule.kind == "hash":
        return _hash(value, key)
    if rule.kind == "partial" and rule.logical_type == "string":
        return _keep_missing(value, _partial(value))
    if rule.kind == "redact" and rule.logical_type == "string":
        return _keep_missing(value, _varchar(exp.Literal.string(REDACTED)))
    # null, and redact of a non-string: NULL of the property's own type
    return exp.Case(ifs=[exp.If(this=exp.false(), true=value)], default=exp.Null())


def _varchar(value: exp.Expression) -> exp.Expression:
    return exp.cast(value, exp.DataType.build("VARCHAR"))


def _keep_missing(value: exp.Expression, masked: exp.Expression) -> exp.Expression:
    missing = exp.Is(this=value.copy(), expression=exp.Null())
    return exp.Case(ifs=[exp.If(this=missing, true=exp.Null())], default=masked)


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _partial(value: exp.Expression) -> exp.Expression:
    """First character and ``***``; an e-mail address keeps its domain (``j***@example.com``)."""
    head = exp.DPipe(this=_call("left", value.copy(), exp.Literal.number(1)), expression=exp.Literal.string(REDACTED))
    domain = _call("substr", value.copy(), _call("strpos", value.copy(), exp.Literal.string("@")))
    email = _call("regexp_matches", value.copy(), exp.Literal.string(_EMAIL))
    return exp.Case(ifs=[exp.If(this=email, true=exp.DPipe(this=head.copy(), expression=domain))], default=head)


def _hash(value: exp.Expression, key: bytes | None) -> exp.Expression:
    if key is None:
        return _varchar(exp.Null())
    inner, outer = padded_keys(key)
    text = _call("encode", _varchar(value.copy()))
    first = _call("sha256", exp.DPipe(this=_call("unhex", exp.Literal.string(inner)), expression=text))
    second = _call(
        "sha256", exp.DPipe(this=_call("unhex", exp.Literal.string(outer)), expression=_call("unhex", first))
    )
    return _keep_missing(value, _varchar(second))
