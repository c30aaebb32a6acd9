"""The rule set ``quanta validate`` runs after loading: every mesh-wide consistency rule."""

from __future__ import annotations

from quanta.rules.base import RuleSet
from quanta.rules.engines import EnginesAreRegistered
from quanta.rules.masks import MasksFitTypes
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
from quanta.sql.rowfilter import RowFilterParser, parse_row_filter


def validation_rules(parse_row_filters: RowFilterParser = parse_row_filter) -> RuleSet:
    """A fresh rule set with every validation rule, in reporting order; ``parse_row_filters`` may
    be a memo of the parser."""
    return RuleSet(
        [
            IdsAreUnique(),
            DomainsAreDeclared(),
            InputsResolve(),
            UseCasesResolve(),
            RolesAreDeclared(),
            PortsAndPropertiesResolve(),
            BusinessKeysMatchGlossary(),
            RowFiltersParse(parse_row_filters),
            MasksFitTypes(),
            EnginesAreRegistered(),
            OneSpecPerMajor(),
            NoDependencyCycles(),
            ReferencedFilesExist(),
        ]
    )
