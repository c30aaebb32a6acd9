"""The Rule API: checks over specs that return located violations.

Validation rules, design rules and governance fitness functions all share it.
"""

from quanta.rules.base import Rule, RuleSet, Violation, violation

__all__ = ["Rule", "RuleSet", "Violation", "violation"]
