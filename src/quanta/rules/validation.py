"""The rule set ``quanta validate`` runs after loading: every mesh-wide consistency rule."""

from __future__ import annotations

from quanta.rules.base import RuleSet
from quanta.rules.references import (
    BusinessKeysMatchGlossary,
    DomainsAreDeclared,
    InputsResolve,
    PortsAndPropertiesResolve,
    RolesAreDeclared,
    RowFiltersParse,
    UseCasesResolve,
)
from quanta.rules.structure import IdsAreUnique, NoDependencyCycles, OneSpecPerMajor, ReferencedFilesExist


def validation_rules() -> RuleSet:
    """A fresh rule set with every validation rule, in reporting order."""
    return RuleSet(
        [
            IdsAreUnique(),
            DomainsAreDeclared(),
            InputsResolve(),
            UseCasesResolve(),
            RolesAreDeclared(),
            PortsAndPropertiesResolve(),
            BusinessKeysMatchGlossary(),
            RowFiltersParse(),
            OneSpecPerMajor(),
            NoDependencyCycles(),
            ReferencedFilesExist(),
        ]
    )
