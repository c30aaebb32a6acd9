"""Synthetic systems of record for the fashion-retail mesh, realistic and deterministic per seed.

Purchasing follows BG/NBD dynamics with known parameters (customers buy at Gamma-distributed
rates and drop out with Beta-distributed probabilities after each purchase), spend is
Pareto-like, seasonality can be switched off, return rates depend on category and size, and
the dirt the source products must clean is listed in a defects manifest.

Writes, under the output folder, what each system exposes:
``ecommerce/orders/drop_date=YYYY-MM-DD/*.csv`` (daily order-line drops),
``crm/customers.ndjson``, ``returns/returns.csv`` (with the item, the order's day and the refund),
``pim/catalogue.json`` and ``defects.json``.
SF1 ≈ 100k customers and about a million order lines.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from quanta.models.clv import BgNbd

START = date(2024, 1, 1)
WEEKS = 104
PURCHASES = BgNbd(r=1.3, alpha=8.0, a=0.7, b=3.0)  # weeks
COUNTRIES = ["FR", "DE", "ES", "IT", "NL", "BE", "GB"]
COUNTRY_WEIGHTS = [0.25, 0.22, 0.15, 0.12, 0.1, 0.06, 0.1]
COUNTRY_DIRT = {
    "FR": ["fr", "France", "FRA"],
    "DE": ["de", "Germany", "DEU"],
    "ES": ["es", "Spain", "ESP"],
    "IT": ["it", "Italy", "ITA"],
    "NL": ["nl", "Netherlands", "NLD"],
    "BE": ["be", "Belgium", "BEL"],
    "GB": ["gb", "UK", "GBR"],
}
CATEGORIES = {  # category: (sizes, base price EUR, return rate)
    "dresses": (["XS", "S", "M", "L", "XL"], 79.0, 0.35),
    "shirts": (["XS", "S", "M", "L", "XL"], 39.0, 0.20),
    "trousers": (["XS", "S", "M", "L", "XL"], 59.0, 0.25),
    "knitwear": (["XS", "S", "M", "L", "XL"], 69.0, 0.15),
    "outerwear": (["XS", "S", "M", "L", "XL"], 149.0, 0.18),
    "shoes": (["36", "37", "38", "39", "40", "41", "42", "43", "44", "45"], 99.0, 0.25),
    "accessories": (["ONE"], 29.0, 0.05),
}
DEPARTMENTS = {"women": "F", "men": "M", "kids": "U"}
STYLES = ["classic", "casual", "sport", "minimal", "boho", "street", "business", "evening"]
CHUNK = 1_000_000  # order lines drawn at a time
EPOCH = date(1970, 1, 1).toordinal()
OWN_STYLE = 0.75  # share of a customer's lines in their own style: the taste recommendations can learn
REASONS = ["too small", "too large", "not as pictured", "damaged", "changed mind"]
FIRST = ["Anna", "Ben", "Chloé", "David", "Emma", "Felix", "Greta", "Hugo", "Inès", "Jonas", "Lena", "Marco"]
LAST = ["Martin", "Müller", "García", "Rossi", "de Vries", "Dubois", "Smith", "Peeters", "Bernard", "Schmidt"]


@dataclass(frozen=True)
class Settings:
    scale: float = 1.0
    seed: int = 42
    seasonality: bool = True
    end: date | None = None
    """Last day of the history (it spans ``WEEKS`` weeks); by default it starts on ``START``, so the
    same seed gives the same bytes on any day."""

    @property
    def start(self) -> date:
        return START if self.end is None else self.end - timedelta(weeks=WEEKS)


@dataclass
class Defects:
    """The dirt the generator put in, so tests can check the source products remove exactly it."""

    duplicate_order_lines: list[str] = field(default_factory=list)
    inconsistent_country_codes: dict[str, str] = field(default_factory=dict)
    missing_phones: list[str] = field(default_factory=list)
    late_returns: list[str] = field(default_factory=list)


def generate(out: Path, settings: Settings) -> dict[str, Any]:
    """Write every system's export under ``out``; returns a summary (counts, parameters)."""
    rng = np.random.default_rng(settings.seed)
    defects = Defects()
    customers = max(50, round(100_000 * settings.scale))
    catalogue = _catalogue(rng, max(200, round(20_000 * min(1.0, settings.scale) ** 0.5)), settings.start)
    people = _customers(rng, customers, defects)
    lines = _order_lines(rng, people, catalogue, settings, defects)
    returns = _returns(rng, lines, catalogue, defects)
    _write(out, people, catalogue, lines, returns, defects, settings.start)
    summary = {
        "customers": customers,
        "products": len(catalogue["sku"]),
        "orderLines": len(lines["line"]),
        "returns": len(returns["return"]),
        "seed": settings.seed,
        "scale": settings.scale,
        "seasonality": settings.seasonality,
        "purchaseModel": asdict(effective_purchase_model(settings.seasonality)),
        "purchaseModelBeforeSeasonality": asdict(PURCHASES),
        "start": settings.start.isoformat(),
        "weeks": WEEKS,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _catalogue(rng: np.random.Generator, count: int, start: date) -> dict[str, np.ndarray]:
    names = list(CATEGORIES)
    category = rng.choice(names, count, p=[0.16, 0.16, 0.15, 0.12, 0.08, 0.18, 0.15])
    style = rng.choice(STYLES, count)
    cells = len(names) * len(STYLES)  # every (category, style) cell gets at least one item
    category[: min(cells, count)] = np.repeat(names, len(STYLES))[: min(cells, count)]
    style[: min(cells, count)] = np.tile(STYLES, len(names))[: min(cells, count)]
    department = rng.choice(list(DEPARTMENTS), count, p=[0.55, 0.35, 0.10])
    sizes = np.array([rng.choice(CATEGORIES[c][0]) for c in category])
    price = np.array([CATEGORIES[c][1] for c in category]) * rng.lognormal(0, 0.35, count)
    return {
        "sku": np.array([f"SKU-{i:06d}" for i in range(count)]),
        "category": category,
        "style": style,
        "department": department,
        "target_gender": np.array([DEPARTMENTS[d] for d in department]),
        "size": sizes,
        "colour": rng.choice(["black", "white", "navy", "beige", "red", "green", "grey"], count),
        "brand": rng.choice(["Aurel", "Brio", "Corvo", "Duna", "Estra"], count),
        "list_price": np.round(price, 2),
        "launch_date": np.array([(start - timedelta(days=int(d))).isoformat() for d in rng.integers(0, 900, count)]),
        "status": rng.choice(["active", "discontinued"], count, p=[0.9, 0.1]),
        "popularity": rng.pareto(1.2, count) + 1,
    }


def _customers(rng: np.random.Generator, count: int, defects: Defects) -> dict[str, np.ndarray]:
    ids = np.array([f"C{i:07d}" for i in range(1, count + 1)])
    country = rng.choice(COUNTRIES, count, p=COUNTRY_WEIGHTS)
    raw_country = country.astype(object)
    for i in np.flatnonzero(rng.random(count) < 0.02):
        raw_country[i] = rng.choice(COUNTRY_DIRT[country[i]])
        defects.inconsistent_country_codes[ids[i]] = str(raw_country[i])
    first = rng.choice(FIRST, count)
    last = rng.choice(LAST, count)
    phone = np.array([f"+33 6 {n:08d}" for n in rng.integers(0, 10**8, count)], dtype=object)
    missing = np.flatnonzero(rng.random(count) < 0.05)
    phone[missing] = None
    defects.missing_phones = [str(ids[i]) for i in missing]
    signup_week = rng.uniform(0, WEEKS - 1, count)
    return {
        "customer_id": ids,
        "first_name": first,
        "last_name": last,
        "email": np.array(
            [
                f"{given}.{family}.{key[1:]}@example.com".lower().replace(" ", "")
                for given, family, key in zip(first, last, ids, strict=True)
            ]
        ),
        "phone": phone,
        "gender": rng.choice(["F", "M", "X"], count, p=[0.58, 0.40, 0.02]),
        "birth_date": np.array(
            [(date(1950, 1, 1) + timedelta(days=int(d))).isoformat() for d in rng.integers(0, 20000, count)]
        ),
        "country": raw_country,
        "true_country": country,
        "signup_week": signup_week,
        "marketing_consent": rng.random(count) < 0.6,
        "affluence": rng.gamma(2.0, 0.5, count),
        "style": rng.integers(0, len(STYLES), count),
        "category_taste": rng.dirichlet(np.full(len(CATEGORIES), 0.6), count),
    }


def _seasonal_acceptance(weeks: np.ndarray) -> np.ndarray:
    """Probability that a purchase the BG/NBD clock schedules at ``weeks`` since a 1 January happens:
    a summer low, an autumn high and the December peak."""
    strength = 1 + 0.35 * np.sin(2 * np.pi * (weeks - 12) / 52) + 0.6 * ((weeks % 52) > 46)
    result: np.ndarray = strength / 1.95
    return result


def _seasonal_accept(rng: np.random.Generator, weeks: np.ndarray) -> np.ndarray:
    return rng.random(len(weeks)) < _seasonal_acceptance(weeks)


def effective_purchase_model(seasonality: bool) -> BgNbd:
    """The BG/NBD parameters the generated purchases follow. Seasonality thins each customer's
    purchases by the year's mean acceptance, which divides the rate by it (alpha grows); drop-out
    happens after a purchase, so a and b stay."""
    if not seasonality:
        return PURCHASES
    year = np.arange(0, 52, 1 / 1024) + 1 / 2048  # midpoints: the acceptance's mean over one year
    accepted = float(np.mean(_seasonal_acceptance(year)))
    return BgNbd(PURCHASES.r, PURCHASES.alpha / accepted, PURCHASES.a, PURCHASES.b)


def _order_lines(
    rng: np.random.Generator,
    people: dict[str, np.ndarray],
    catalogue: dict[str, np.ndarray],
    settings: Settings,
    defects: Defects,
) -> dict[str, np.ndarray]:
    """First purchase at sign-up, then BG/NBD repeat purchases until drop-out or the end."""
    count = len(people["customer_id"])
    rates = rng.gamma(PURCHASES.r, 1 / PURCHASES.alpha, count)
    drop = rng.beta(PURCHASES.a, PURCHASES.b, count)
    clock = people["signup_week"].copy()
    customer_index, order_week = [np.arange(count)], [clock.copy()]
    active = np.ones(count, dtype=bool)
    while active.any():
        clock = np.where(active, clock + rng.exponential(1 / np.maximum(rates, 1e-12)), clock)
        in_time = active & (clock < WEEKS)
        season = clock + (settings.start.timetuple().tm_yday - 1) / 7  # weeks since a 1 January
        bought = in_time & _seasonal_accept(rng, season) if settings.seasonality else in_time
        customer_index.append(np.flatnonzero(bought))
        order_week.append(clock[bought])
        active = in_time & ~(bought & (rng.random(count) < drop))  # drop-out happens after a purchase
    who = np.concatenate(customer_index)
    when = np.concatenate(order_week)
    order_ids = np.arange(len(who))
    lines_per_order = 1 + rng.poisson(1.2 * people["affluence"][who])
    line_order = np.repeat(order_ids, lines_per_order)
    line_customer = who[line_order]
    sku_index = _choose_items(rng, people, catalogue, line_customer)
    gender = people["gender"][line_customer]
    wrong = ((catalogue["target_gender"][sku_index] == "F") & (gender == "M")) | (
        (catalogue["target_gender"][sku_index] == "M") & (gender == "F")
    )
    sku_index[wrong] = _choose_items(rng, people, catalogue, line_customer[wrong])  # mostly for one's own gender
    line_count = len(line_order)
    lines = {  # integers and numbers only: DuckDB formats the ids and timestamps when it writes
        "order": line_order,
        "line": np.arange(line_count),
        "customer": line_customer,
        "item": sku_index,
        "quantity": 1 + (rng.random(line_count) < 0.08).astype(np.int64),
        "unit_price": np.round(
            catalogue["list_price"][sku_index] * rng.choice([1.0, 0.9, 0.7], line_count, p=[0.7, 0.2, 0.1]), 2
        ),
        "epoch_seconds": np.floor((settings.start.toordinal() - EPOCH + when[line_order] * 7) * 86400).astype(np.int64),
    }
    duplicates = np.flatnonzero(rng.random(line_count) < 0.005)
    defects.duplicate_order_lines = [f"L{i:09d}" for i in duplicates]
    lines["_duplicate"] = np.isin(np.arange(line_count), duplicates)
    return lines


def _choose_items(
    rng: np.random.Generator, people: dict[str, np.ndarray], catalogue: dict[str, np.ndarray], customer: np.ndarray
) -> np.ndarray:
    """An item per line, drawn in chunks to bound memory (see `_choose_chunk`)."""
    return np.concatenate(
        [_choose_chunk(rng, people, catalogue, customer[i : i + CHUNK]) for i in range(0, len(customer), CHUNK)]
        or [np.array([], dtype=np.int64)]
    )


def _choose_chunk(
    rng: np.random.Generator, people: dict[str, np.ndarray], catalogue: dict[str, np.ndarray], customer: np.ndarray
) -> np.ndarray:
    """A category by the customer's taste, their own style most of the time, then an item of that
    (category, style) cell by popularity."""
    categories, styles = np.array(sorted(CATEGORIES)), np.array(sorted(STYLES))
    taste = np.cumsum(people["category_taste"][customer], axis=1)
    category = np.minimum((taste < rng.random(len(customer))[:, None]).sum(axis=1), len(categories) - 1)
    own = rng.random(len(customer)) < OWN_STYLE
    style = np.where(own, people["style"][customer], rng.integers(0, len(styles), len(customer)))
    line_cell = category * len(styles) + style
    item_cell = np.searchsorted(categories, catalogue["category"]) * len(styles) + np.searchsorted(
        styles, catalogue["style"]
    )
    order = np.argsort(item_cell, kind="stable")
    cumulative = np.cumsum(catalogue["popularity"][order])
    start = np.searchsorted(item_cell[order], line_cell, side="left")
    end = np.searchsorted(item_cell[order], line_cell, side="right")
    low = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
    draw = low + rng.random(len(customer)) * (cumulative[end - 1] - low)
    return order[np.minimum(np.searchsorted(cumulative, draw, side="right"), end - 1)]


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _returns(
    rng: np.random.Generator, lines: dict[str, np.ndarray], catalogue: dict[str, np.ndarray], defects: Defects
) -> dict[str, np.ndarray]:
    """Returns by category and size rates; 1% come back after the 60-day window (refused in the shop)."""
    category = catalogue["category"][lines["item"]]
    size = catalogue["size"][lines["item"]]
    base = np.array([CATEGORIES[c][2] for c in sorted(CATEGORIES)])[np.searchsorted(sorted(CATEGORIES), category)]
    rate = base * np.where(np.isin(size, ["XS", "XL", "36", "45"]), 1.3, 1.0)
    returned = np.flatnonzero(rng.random(len(rate)) < rate)
    late = rng.random(len(returned)) < 0.01
    delay = np.where(late, rng.integers(61, 120, len(returned)), rng.integers(3, 40, len(returned)))
    fit_related = np.isin(category[returned], ["shoes", "dresses", "trousers"])
    weights = np.where(fit_related[:, None], [0.35, 0.3, 0.15, 0.05, 0.15], [0.15, 0.15, 0.3, 0.1, 0.3])
    draw = rng.random(len(returned))[:, None]
    reason = np.minimum((np.cumsum(weights, axis=1) < draw).sum(axis=1), len(REASONS) - 1)
    defects.late_returns = [f"R{i:08d}" for i in np.flatnonzero(late)]
    quantity = np.ones(len(returned), dtype=np.int64)
    return {
        "return": np.arange(len(returned)),
        "line": lines["line"][returned],
        "item": lines["item"][returned],
        "order_day": lines["epoch_seconds"][returned] // 86400,
        "epoch_day": lines["epoch_seconds"][returned] // 86400 + delay,
        "reason": reason,
        "quantity": quantity,
        "refund": np.round(lines["unit_price"][returned] * quantity, 2),
    }


def _write(
    out: Path,
    people: dict[str, np.ndarray],
    catalogue: dict[str, np.ndarray],
    lines: dict[str, np.ndarray],
    returns: dict[str, np.ndarray],
    defects: Defects,
    start: date,
) -> None:
    import pyarrow as pa

    from quanta.engines.duckdb import DuckDBEngine

    for folder in ("ecommerce/orders", "crm", "returns", "pim"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    keep = ["order", "line", "customer", "item", "quantity", "unit_price", "epoch_seconds"]
    table = pa.table({k: lines[k] for k in keep})
    connection = DuckDBEngine(threads=1).connect()  # one thread: the same bytes every time
    connection.register("lines", pa.concat_tables([table, table.filter(pa.array(lines["_duplicate"]))]))
    connection.execute(f"""COPY (
            SELECT 'O' || lpad(CAST("order" AS VARCHAR), 8, '0') AS order_id,
                   'L' || lpad(CAST(line AS VARCHAR), 9, '0') AS order_line_id,
                   'C' || lpad(CAST(customer + 1 AS VARCHAR), 7, '0') AS customer_id,
                   'SKU-' || lpad(CAST(item AS VARCHAR), 6, '0') AS sku,
                   quantity, unit_price, make_timestamp(epoch_seconds * 1000000) AS order_ts,
                   CAST(make_timestamp(epoch_seconds * 1000000) AS DATE) AS drop_date
            FROM lines ORDER BY line)
        TO '{out / "ecommerce/orders"}' (FORMAT csv, HEADER, PARTITION_BY (drop_date), OVERWRITE_OR_IGNORE)""")
    connection.register("returns", pa.table(returns))
    connection.execute(f"""COPY (
            SELECT 'R' || lpad(CAST("return" AS VARCHAR), 8, '0') AS return_id,
                   'L' || lpad(CAST(line AS VARCHAR), 9, '0') AS order_line_id,
                   'SKU-' || lpad(CAST(item AS VARCHAR), 6, '0') AS sku,
                   DATE '1970-01-01' + CAST(order_day AS INTEGER) AS ordered_on,
                   DATE '1970-01-01' + CAST(epoch_day AS INTEGER) AS returned_at,
                   {_sql_list(REASONS)}[reason + 1] AS reason, quantity, refund AS refund_amount
            FROM returns ORDER BY "return")
        TO '{out / "returns/returns.csv"}' (FORMAT csv, HEADER)""")
    connection.close()
    with (out / "crm/customers.ndjson").open("w", encoding="utf-8") as handle:
        for i in range(len(people["customer_id"])):
            handle.write(
                json.dumps(
                    {
                        "customer_id": people["customer_id"][i],
                        "first_name": people["first_name"][i],
                        "last_name": people["last_name"][i],
                        "email": people["email"][i],
                        "phone": people["phone"][i],
                        "gender": people["gender"][i],
                        "birth_date": people["birth_date"][i],
                        "country": people["country"][i],
                        "signup_date": (start + timedelta(weeks=float(people["signup_week"][i]))).isoformat(),
                        "marketing_consent": bool(people["marketing_consent"][i]),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    items = [
        {k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in catalogue.items() if k != "popularity"}
        for i in range(len(catalogue["sku"]))
    ]
    (out / "pim/catalogue.json").write_text(json.dumps(items, ensure_ascii=False))
    (out / "defects.json").write_text(json.dumps(asdict(defects), indent=1, sort_keys=True))
