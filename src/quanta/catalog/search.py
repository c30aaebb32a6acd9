"""Search products by name, job description, tags and property names and descriptions."""

from __future__ import annotations

from dataclasses import dataclass

from quanta.spec.product import DataProduct


@dataclass(frozen=True)
class SearchHit:
    spec: DataProduct
    score: int
    matches: tuple[str, ...]


def search(products: list[DataProduct], text: str) -> list[SearchHit]:
    """Products matching every word of ``text`` somewhere, best first."""
    words = [w.lower() for w in text.split() if w.strip()]
    hits = []
    for spec in products:
        fields = [("name", spec.ref, 5), ("description", spec.description or "", 2), ("tags", " ".join(spec.tags), 3)]
        for prop in spec.schema_.properties:
            fields.append((f"property {prop.name}", f"{prop.name} {prop.description or ''}", 1))
        score, matches = 0, []
        for word in words:
            found = [(label, weight) for label, value, weight in fields if word in value.lower()]
            if not found:
                break
            score += sum(weight for _, weight in found)
            matches += [label for label, _ in found]
        else:
            if words:
                hits.append(SearchHit(spec, score, tuple(dict.fromkeys(matches))))
    return sorted(hits, key=lambda h: (-h.score, h.spec.ref))
