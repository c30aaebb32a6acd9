"""Typed masks through the real read path: each mask on each logical type (values and the Arrow
type the caller receives), keyed hashes that still join, no key → NULL, NULL stays NULL, and
masks that do not fit a type are located spec errors."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from quanta.access import Principal
from quanta.blueprints import create_mesh
from quanta.project import Mesh

KEY = "test-mask-key"
KINDS = ("null", "redact", "partial", "hash")
TYPES: dict[str, tuple[str, str]] = {  # property → (logical type, SQL producing it)
    "email": ("string", "customer_id || '@example.com'"),
    "nickname": ("string", "customer_id"),
    "age": ("integer", "cast(42 as integer)"),
    "score": ("number", "cast(amount as double)"),
    "vip": ("boolean", "cast(amount as double) > 100"),
    "birthday": ("date", "cast(order_date as date)"),
    "seen_at": ("timestamp", "cast(order_date as timestamp)"),
    "at_time": ("time", "time '12:30:00'"),
    "tags": ("array", "[country]"),
    "info": ("object", "{'c': country}"),
}
STRING_ONLY = {"partial"}
SCALAR_ONLY = {"hash"}


def _defined(kind: str, logical_type: str) -> bool:
    if kind in STRING_ONLY:
        return logical_type == "string"
    if kind in SCALAR_ONLY:
        return logical_type not in ("array", "object")
    return True


def _mesh(root: Path) -> Path:
    create_mesh("demo", root)
    mesh_yaml = root / "mesh.yaml"
    roles = "".join(f"  - {{name: r-{k}, description: Reads with {k} masks.}}\n" for k in KINDS)
    mesh_yaml.write_text(mesh_yaml.read_text().replace("roles:\n", "roles:\n" + roles))
    folder = root / "products/sales/orders"
    spec = folder / "dataproduct.yaml"
    extra = "".join(
        f"    - {{name: {name}, logicalType: {t}, classification: pii, description: Masked {t}.}}\n"
        for name, (t, _) in TYPES.items()
    )
    grants = "".join(f"    - {{role: r-{k}, ports: [table], masks: {{{_grant_masks(k)}}}}}\n" for k in KINDS)
    text = spec.read_text().replace(
        "description: Customer who ordered.}",
        "classification: pii, description: Customer who ordered.}",
    )
    text = text.replace("outputs:\n", extra + "outputs:\n").replace("  grants:\n", "  grants:\n" + grants)
    spec.write_text(text)
    columns = "".join(
        f",\n    case when order_id = 'o-1001' then null else {sql} end as {name}" for name, (_, sql) in TYPES.items()
    )
    sql = (folder / "orders.sql").read_text().replace("as order_date\n", "as order_date" + columns + "\n")
    (folder / "orders.sql").write_text(sql)
    customers = root / "products/sales/customers"
    customers.mkdir()
    (customers / "customers.sql").write_text("select distinct customer_id from orders\n")
    (customers / "dataproduct.yaml").write_text(
        "apiVersion: quanta/v1\nkind: DataProduct\nname: customers\ndomain: sales\nversion: 1.0.0\n"
        "status: active\nteam: {name: sales-data, email: sales-data@example.com}\n"
        "description: Every customer who ordered.\n"
        "inputs:\n  - {id: orders, type: product, product: sales.orders, major: 1}\n"
        "transform: {type: sql, dialect: duckdb, steps: [customers.sql]}\n"
        "schema:\n  properties:\n"
        "    - {name: customer_id, logicalType: string, required: true, classification: pii}\n"
        "outputs:\n  - {id: table, type: sql}\n"
        "access:\n  grants:\n    - {role: r-hash, ports: [table], masks: {customer_id: hash}}\n"
    )
    return root


def _grant_masks(kind: str) -> str:
    props = {"customer_id": "string", **{n: t for n, (t, _) in TYPES.items()}}
    return ", ".join(f"{n}: {kind}" for n, t in props.items() if _defined(kind, t))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _mesh(tmp_path_factory.mktemp("masks") / "demo")
    report = Mesh.validate(root)
    assert not report.errors, [str(d) for d in report.errors]
    mesh = Mesh.load(root)
    try:
        assert {o.status for o in mesh.build().outcomes} == {"built"}
    finally:
        mesh.close()
    return root


@pytest.fixture
def mesh(built: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mesh]:
    monkeypatch.setenv("QUANTA_MASK_KEY", KEY)
    loaded = Mesh.load(built)
    yield loaded
    loaded.close()


def _read(mesh: Mesh, kind: str, sql: str = "select * from sales.orders order by order_id") -> Any:
    return mesh.platform.plane.query(Principal(f"u-{kind}", roles=frozenset({f"r-{kind}"})), sql)


def _clear(mesh: Mesh) -> Any:
    return mesh.query("select * from sales.orders order by order_id", unmask=True)


def _hmac(value: str) -> str:
    return hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("kind", KINDS)
def test_each_mask_on_each_type(mesh: Mesh, kind: str) -> None:
    clear, masked = _clear(mesh), _read(mesh, kind)
    for name, (logical_type, _) in TYPES.items():
        if not _defined(kind, logical_type):
            continue
        values, original = masked.column(name).to_pylist(), clear.column(name).to_pylist()
        received = masked.schema.field(name).type
        assert values[0] is None and original[0] is None  # o-1001: NULL stays NULL under every mask
        own_type = clear.schema.field(name).type
        if kind == "null" or (kind == "redact" and logical_type != "string"):
            assert received == own_type and values == [None] * len(values)
        elif kind == "redact":
            assert received == pa.string() and set(values[1:]) == {"***"}
        elif kind == "partial":
            assert received == pa.string()
            for shown, value in zip(values[1:], original[1:], strict=True):
                expected = value[0] + "***" + (value[value.index("@") :] if "@" in value else "")
                assert shown == expected
        else:
            assert received == pa.string()
            assert masked.column(name).to_pylist()[1:] == [_hmac(_duck_text(v)) for v in original[1:]]


def _duck_text(value: Any) -> str:
    """The value's text as DuckDB casts it to VARCHAR."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_partial_keeps_the_email_domain(mesh: Mesh) -> None:
    masked = _read(mesh, "partial", "select email, nickname from sales.orders where order_id = 'o-1002'")
    assert masked.to_pylist() == [{"email": "c***@example.com", "nickname": "c***"}]


def test_hashed_keys_still_join(mesh: Mesh) -> None:
    sql = (
        "select o.order_id, c.customer_id from sales.orders o "
        "join sales.customers c on o.customer_id = c.customer_id order by o.order_id"
    )
    joined = _read(mesh, "hash", sql)
    clear = _clear(mesh)
    assert joined.column("order_id").to_pylist() == clear.column("order_id").to_pylist()
    assert joined.column("customer_id").to_pylist() == [_hmac(c) for c in clear.column("customer_id").to_pylist()]


def test_without_a_key_hashes_are_null_never_unkeyed(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUANTA_MASK_KEY", raising=False)
    loaded = Mesh.load(built)
    try:
        masked = _read(loaded, "hash")
    finally:
        loaded.close()
    assert masked.schema.field("customer_id").type == pa.string()
    assert set(masked.column("customer_id").to_pylist()) == {None}


def test_owner_sees_the_mesh_default_masks(mesh: Mesh) -> None:
    masked = mesh.query("select customer_id, age from sales.orders order by order_id")
    assert set(masked.column("customer_id").to_pylist()) == {"***"}  # pii: redact
    clear = _clear(mesh)
    assert masked.schema.field("age").type == clear.schema.field("age").type  # restricted would be null too
    assert set(masked.column("age").to_pylist()) == {None}


def _validate_with(root: Path, old: str, new: str, file: str = "products/sales/orders/dataproduct.yaml") -> Any:
    path = root / file
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return Mesh.validate(root)


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "code", "needle"),
    [
        (
            "role: r-null, ports: [table], masks: {",
            "role: r-null, ports: [table], masks: {age: partial, ",
            "mask-undefined-for-type",
            "role: r-null",
        ),
        (
            "role: r-null, ports: [table], masks: {",
            "role: r-null, ports: [table], masks: {country: hash, ",
            "mask-not-classified",
            "role: r-null",
        ),
        (
            "role: r-null, ports: [table], masks: {",
            "role: r-null, ports: [table], masks: {agee: hash, ",
            "unknown-property",
            "role: r-null",
        ),
    ],
)
def test_grant_mask_mistakes_are_located(tmp_path: Path, old: str, new: str, code: str, needle: str) -> None:
    root = _mesh(tmp_path / "demo")
    report = _validate_with(root, old, new)
    found = [d for d in report.errors if d.code == code]
    assert len(found) == 1, [str(d) for d in report.errors]
    spec = root / "products/sales/orders/dataproduct.yaml"
    assert found[0].location.line == _line_of(spec, needle)
    assert found[0].location.column > 1 and str(found[0].location.path).endswith("dataproduct.yaml")


def test_mesh_mask_undefined_for_a_type_is_located(tmp_path: Path) -> None:
    root = _mesh(tmp_path / "demo")
    report = _validate_with(root, "products: [", "masks: {pii: partial}\nproducts: [", "mesh.yaml")
    found = [d for d in report.errors if d.code == "mask-undefined-for-type"]
    spec = root / "products/sales/orders/dataproduct.yaml"
    assert {d.location.line for d in found} == {
        _line_of(spec, f"name: {n},") for n, (t, _) in TYPES.items() if t != "string"
    }


def test_yaml_null_is_the_null_mask(tmp_path: Path) -> None:
    root = _mesh(tmp_path / "demo")
    report = _validate_with(root, "products: [", "masks: {pii: null, restricted: hash}\nproducts: [", "mesh.yaml")
    assert not report.errors, [str(d) for d in report.errors]


@pytest.mark.parametrize("key", [b"k", b"x" * 64, b"long" * 40])
def test_sql_hmac_matches_python(key: bytes) -> None:
    import duckdb

    from quanta.spec.masks import MaskRule
    from quanta.sql.masks import mask_value

    expression = mask_value(MaskRule("hash", "string"), "v", key).sql(dialect="duckdb")
    rows = duckdb.sql(f"select {expression} from (values ('héllo'), ('')) t(v)").fetchall()
    assert [r[0] for r in rows] == [hmac.new(key, m.encode(), hashlib.sha256).hexdigest() for m in ("héllo", "")]


def test_mesh_masks_come_from_the_published_mesh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _mesh(tmp_path / "demo")
    mesh_yaml = root / "mesh.yaml"
    mesh_yaml.write_text(mesh_yaml.read_text().replace("products: [", "masks: {pii: hash}\nproducts: [", 1))
    spec = root / "products/sales/orders/dataproduct.yaml"
    spec.write_text(
        spec.read_text().replace(
            "logicalType: array, classification: pii", "logicalType: array, classification: restricted"
        )
    )
    spec.write_text(
        spec.read_text().replace(
            "logicalType: object, classification: pii", "logicalType: object, classification: restricted"
        )
    )
    monkeypatch.setenv("QUANTA_MASK_KEY", KEY)
    loaded = Mesh.load(root)
    try:
        assert {o.status for o in loaded.build().outcomes} == {"built"}
        masked = loaded.query("select customer_id from sales.orders order by order_id")
        clear = _clear(loaded)
    finally:
        loaded.close()
    assert masked.column("customer_id").to_pylist() == [_hmac(c) for c in clear.column("customer_id").to_pylist()]


def test_the_key_never_reaches_an_error(mesh: Mesh) -> None:
    from quanta.read.plane import QueryError
    from quanta.sql.masks import padded_keys

    # fails inside DuckDB at run time, over the hashed relation
    sql = "select cast(customer_id as integer) from sales.orders"
    with pytest.raises(QueryError) as raised:
        _read(mesh, "hash", sql)
    message = str(raised.value)
    assert "Conversion" in message or "convert" in message.lower()
    assert KEY not in message and not any(k in message.lower() for k in padded_keys(KEY.encode()))


def test_engine_errors_are_scrubbed_of_the_padded_key() -> None:
    from quanta.read.plane import _scrubbed
    from quanta.sql.masks import padded_keys

    inner, outer = padded_keys(KEY.encode())
    assert _scrubbed(f"Error near UNHEX('{inner}') || UNHEX('{outer}')") == (
        "Error near UNHEX('<mask key>') || UNHEX('<mask key>')"
    )
