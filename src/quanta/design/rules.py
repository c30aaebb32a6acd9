"""Design rules on the shared Rule API: is each product well defined, owned, traced and used?"""

from __future__ import annotations

import re
from collections.abc import Iterator

import networkx as nx

from quanta.design.interaction import build_map, product_id, use_case_id
from quanta.errors import Severity
from quanta.quality.consistency import FreshnessIsAchievable
from quanta.rules.base import Rule, RuleSet, Violation, violation
from quanta.spec.codes import Code
from quanta.spec.index import ProductIndex
from quanta.spec.loader import MeshSource

MAX_WORDS = 40
MAX_USE_CASES = 5
_SENTENCE = re.compile(r"[.!?](?:\s|$)")
WARNING = Severity.WARNING


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_'-]*")
_VAGUE_WORDS = (
    "a an the of for and or to in on with from by about all any some every various varied misc miscellaneous "
    "other others etc stuff thing things data dataset datasets information info table tables record records "
    "entity entities object objects item items content contents details detail general generic master core "
    "main raw related relevant important useful everything anything something it its this that these "
    "product products kind kinds type types lots lot many more"
)
_VAGUE = frozenset(_VAGUE_WORDS.split())
"""Words that say nothing about what a product delivers."""
MIN_SPECIFIC_WORDS = 2
MAX_LIST_ITEMS = 5
"""More short items listed in a row than this is a list of concepts, not a description of one."""
MAX_BARE_LIST_ITEMS = 3
"""A sentence that is nothing but a list of more short items than this names several concepts."""
_LIST_SEPARATOR = re.compile(r"\s*(?:,|;|\band\b|\bor\b|&)\s*", re.IGNORECASE)


def job_description_findings(description: str | None) -> list[tuple[str, str, str]]:
    """The job-description test on one text: ``(code, message, hint)`` for each problem, none for a
    good description (one or two sentences about one concept, saying something specific)."""
    text = " ".join((description or "").split())
    if not text:
        return [(Code.JOB_DESCRIPTION_MISSING.value, "no job description", "")]
    found: list[tuple[str, str, str]] = []
    words, sentences = len(text.split()), len(_SENTENCE.findall(text)) or 1
    if words > MAX_WORDS or sentences > 2:
        found.append(
            (
                Code.JOB_DESCRIPTION_LONG.value,
                f"the job description has {words} words in {sentences} sentences",
                "if it cannot be said in one or two sentences, the product is not well defined: split it or sharpen it",
            )
        )
    specific = [w for w in _WORD.findall(text) if w.lower() not in _VAGUE]
    if len(specific) < MIN_SPECIFIC_WORDS:
        found.append(
            (
                Code.JOB_DESCRIPTION_VAGUE.value,
                f"the job description '{text}' is too vague to say what the product delivers",
                "say what one row is and what it is for, e.g. 'Every order placed in the web shop, one row per order.'",
            )
        )
    ands = len(re.findall(r"\band\b", text, re.IGNORECASE))
    items, bare = _longest_list(text)
    if ands >= 2 or items > MAX_LIST_ITEMS or bare > MAX_BARE_LIST_ITEMS:
        how = "with 'and'" if ands >= 2 else f"as a list of {max(items, bare)} items"
        found.append(
            (
                Code.JOB_DESCRIPTION_CONCEPTS.value,
                f"the job description strings several concepts together {how}",
                "a product is one cohesive concept; consider one product per concept",
            )
        )
    return found


def _longest_list(text: str) -> tuple[int, int]:
    """Enumerations in the text's sentences: short parts (three words or fewer) separated by commas,
    semicolons, 'and', 'or' or '&'. Returns the longest run of such parts, and the most parts of a
    sentence that is nothing but such a list (zero when none is)."""
    longest = bare = 0
    for sentence in re.split(r"[.!?](?:\s|$)", text):
        if sentence.count(",") + sentence.count(";") < 2:
            continue
        parts = [p for p in _LIST_SEPARATOR.split(sentence) if p.strip()]
        run = 0
        for part in parts:
            run = run + 1 if len(part.split()) <= 3 else 0
            longest = max(longest, run)
        if all(len(p.split()) <= 3 for p in parts):
            bare = max(bare, len(parts))
    return longest, bare


class JobDescriptionTest(Rule):
    name = "job-description"
    description = "Every product has a one- or two-sentence job description about one specific concept."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        for product in mesh.products:
            for code, message, hint in job_description_findings(product.spec.description):
                if code == Code.JOB_DESCRIPTION_MISSING.value:
                    yield violation(
                        product.document,
                        ("name",),
                        code,
                        f"{product.spec.ref} has no job description",
                        hint="add `description:` — one or two sentences saying what it delivers",
                        severity=WARNING if product.spec.status == "proposed" else Severity.ERROR,
                    )
                else:
                    yield violation(product.document, ("description",), code, message, hint=hint, severity=WARNING)


class UseCasesTraceToSystems(Rule):
    name = "use-cases-trace-to-systems"
    description = "Every use case consumes a product and traces back to at least one system of record."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        graph = build_map(mesh).graph()
        for i, use_case in enumerate(mesh.spec.use_cases):
            reached = nx.descendants(graph, use_case_id(use_case.id)) if use_case_id(use_case.id) in graph else set()
            if not any(n.startswith("system:") for n in reached):
                missing = "consumes no product" if not use_case.consumes else "reaches no system of record"
                yield violation(
                    mesh.document,
                    ("useCases", i, "id"),
                    Code.USE_CASE_UNTRACED.value,
                    f"use case '{use_case.id}' {missing}",
                    hint="work backwards: name the consumer product, its sources and their systems",
                )


class ProductsAreUsed(Rule):
    name = "products-are-used"
    description = "Every product is consumed by a use case or another product."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        graph = build_map(mesh).graph()
        for product in mesh.products:
            node = product_id(product.spec.ref)
            if node in graph and graph.in_degree(node) == 0:
                yield violation(
                    product.document,
                    ("name",),
                    Code.UNUSED_PRODUCT.value,
                    f"no use case or product consumes {product.spec.ref}",
                    hint="link it from a use case (`consumes:`) or retire it",
                    severity=WARNING,
                )


class JoinedProductsShareAKey(Rule):
    name = "joined-products-share-a-key"
    description = "The products one consumer joins are connected through shared business keys."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        index = ProductIndex.of(mesh)
        for product in mesh.products:
            joinable = nx.Graph()
            keys: dict[int, set[str]] = {}
            for i, spec_input in enumerate(product.spec.inputs):
                if spec_input.type == "product":
                    found = index.resolve(spec_input.options.product, spec_input.options.major)
                    if found is not None:
                        joinable.add_node(i, ref=found.spec.ref)
                        keys[i] = {p.business_key for p in found.spec.schema_.properties if p.business_key}
            joinable.add_edges_from((i, j) for i in keys for j in keys if i < j and keys[i] & keys[j])
            if joinable.number_of_nodes() < 2:
                continue
            first = min(joinable.nodes)
            connected = nx.node_connected_component(joinable, first)
            for i in sorted(set(joinable.nodes) - connected):
                others = ", ".join(sorted(joinable.nodes[j]["ref"] for j in connected))
                yield violation(
                    product.document,
                    ("inputs", i),
                    Code.MISSING_SHARED_KEY.value,
                    f"{product.spec.ref} joins {joinable.nodes[i]['ref']}, which shares no business key "
                    f"with {others} (directly or through another input)",
                    hint="declare the key they share and the properties carrying it: `quanta design key <key> "
                    f"--owner <product> --on {joinable.nodes[i]['ref']} --on {joinable.nodes[first]['ref']}`",
                    severity=WARNING,
                )


class FewUseCasesPerMap(Rule):
    name = "few-use-cases-per-map"
    description = "About five use cases map most of a domain; more bring diminishing returns."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        if len(mesh.spec.use_cases) > MAX_USE_CASES:
            yield violation(
                mesh.document,
                ("useCases", MAX_USE_CASES),
                Code.TOO_MANY_USE_CASES.value,
                f"{len(mesh.spec.use_cases)} use cases on one map",
                hint="around five use cases map most of a domain; split the map by domain",
                severity=WARNING,
            )


class ConsumerProductsHaveSlos(Rule):
    name = "consumer-products-have-slos"
    description = "Products that serve a use case declare SLOs."

    def check(self, mesh: MeshSource) -> Iterator[Violation]:
        index = ProductIndex.of(mesh)
        found = (index.resolve(c.product) for u in mesh.spec.use_cases for c in u.consumes)
        consumed = {product.spec.ref for product in found if product is not None}
        for product in mesh.products:
            if product.spec.ref in consumed and not product.spec.slos.declared():
                yield violation(
                    product.document,
                    ("name",),
                    Code.CONSUMER_WITHOUT_SLOS.value,
                    f"{product.spec.ref} serves a use case but declares no SLOs",
                    hint="answer the SLO questions: `quanta design slo " + product.spec.ref + "`",
                    severity=WARNING,
                )


def design_rules() -> RuleSet:
    return RuleSet(
        [
            JobDescriptionTest(),
            UseCasesTraceToSystems(),
            ProductsAreUsed(),
            JoinedProductsShareAKey(),
            FewUseCasesPerMap(),
            ConsumerProductsHaveSlos(),
            FreshnessIsAchievable(),
        ]
    )
