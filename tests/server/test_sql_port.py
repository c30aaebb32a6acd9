"""The SQL port (PostgreSQL wire protocol v3) with real clients over loopback: psycopg 3 and psql.
Every statement reads through the data plane as the signed-in principal; refusals carry their
SQLSTATE and keep the connection."""

from __future__ import annotations

import os
import socket
import ssl
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from quanta.ports.sql.server import SqlOptions, SqlPort
from quanta.project import Mesh
from quanta.project.platform import Platform
from serving_mesh import COUNTRIES, PRINCIPALS, ROWS, build, make_certificate, write_mesh

PASSWORD = "correct horse battery staple"


@dataclass
class SqlServed:
    platform: Platform
    port: int
    tls_port: int
    cert: Path
    tokens: dict[str, str]

    def dsn(self, user: str, password: str = PASSWORD, port: int | None = None, **extra: str) -> str:
        options = " ".join(f"{k}={v}" for k, v in extra.items())
        return f"host=127.0.0.1 port={port or self.port} dbname=quanta user={user} password='{password}' {options}"

    def connect(self, user: str = "nora", **extra: str) -> psycopg.Connection:
        return psycopg.connect(self.dsn(user, **extra), autocommit=True)


@pytest.fixture(scope="module")
def sql(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlServed]:
    base = tmp_path_factory.mktemp("sql-port")
    root = write_mesh(base / "demo")
    build(root)
    platform = Platform.open(Mesh.load(root).settings(), root)
    tokens = {}
    for record in PRINCIPALS.values():
        platform.add_principal(record)
        platform.set_password(record.id, PASSWORD)
        tokens[record.id], _ = platform.create_token(record.id)
    cert, key = make_certificate(base)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    plain = SqlPort(platform, SqlOptions(port=0))
    secured = SqlPort(platform, SqlOptions(port=0, require_tls=True), context)
    plain.start()
    secured.start()
    assert plain.address is not None and secured.address is not None
    try:
        yield SqlServed(platform, plain.address[1], secured.address[1], cert, tokens)
    finally:
        plain.stop()
        secured.stop()
        platform.close()


def _orders() -> list[dict[str, object]]:
    """The orders the mesh was built from, as written by ``write_orders``."""
    return [{"order_id": f"o-{i:05d}", "country": COUNTRIES[i % 4], "amount": (i * 7) % 500 + 0.5} for i in range(ROWS)]


def test_psycopg_signs_in_with_scram_and_reads_through_the_policy(sql: SqlServed) -> None:
    with sql.connect() as connection:
        assert connection.info.parameter_status("server_version").startswith("15")
        count, customers = connection.execute(
            "select count(*), count(distinct customer_id) from sales.orders"
        ).fetchone()
        assert count == ROWS and customers == 1  # customer_id is pii: masked for nora
        expected = sum(1 for o in _orders() if float(o["amount"]) > 250)
        assert connection.execute("select count(*) from sales.orders where amount > %s", [250]).fetchone() == (
            expected,
        )
        rows = connection.execute("select order_id, amount from sales.orders order by order_id limit 3").fetchall()
        assert rows == [(o["order_id"], o["amount"]) for o in _orders()[:3]]


def test_unnamed_output_columns_are_named_as_postgresql_names_them(sql: SqlServed) -> None:
    with sql.connect() as connection:
        cursor = connection.execute(
            "select count(*), sum(amount), max(amount)::int, country, coalesce(country, 'x'), 1,"
            " case when amount > 1 then 'big' end, o.amount as value"
            " from sales.orders o group by country, o.amount limit 1"
        )
        names = [column.name for column in cursor.description]
        assert names == ["count", "sum", "max", "country", "coalesce", "?column?", "case", "value"]
        cursor = connection.execute("select count(*) as n, count(*) from sales.orders")
        assert cursor.description[0].name == "n"


def test_parameters_of_several_types_in_text_and_binary(sql: SqlServed) -> None:
    with sql.connect() as connection:
        for binary in (False, True):
            cursor = connection.cursor(binary=binary)
            found = cursor.execute(
                "select count(*) as n from sales.orders where order_date >= %s and amount < %s and country = %s",
                [date(2026, 11, 15), Decimal("100.5"), "FR"],
            ).fetchone()
            expected = sum(
                1
                for i, o in enumerate(_orders())
                if i % 28 + 1 >= 15 and float(o["amount"]) < 100.5 and o["country"] == "FR"
            )
            assert found == (expected,), binary
            typed = cursor.execute(
                "select 1::int2 as a, 2::int8 as b, 1.5::double as c, true as d, date '2026-01-02' as e"
            ).fetchone()
            assert typed == (1, 2, 1.5, True, date(2026, 1, 2))


def test_refused_statements_carry_their_sqlstate_and_keep_the_connection(sql: SqlServed) -> None:
    cases = {
        "drop table sales.orders": "25006",
        "select * from read_csv('/etc/passwd')": "42501",
        "select * from sales.nothing_here": "42P01",
        "select nope from sales.orders": "42703",
        "selec 1": "42601",
        "explain select 1": "0A000",
        "select (1": "42601",
        "set memory_limit = '10GB'": "42501",
        "copy sales.orders to '/tmp/x'": "42501",
    }
    with sql.connect() as connection:
        for statement, sqlstate in cases.items():
            with pytest.raises(psycopg.Error) as raised:
                connection.execute(statement)
            assert raised.value.sqlstate == sqlstate, (statement, raised.value)
            assert connection.execute("select 1").fetchone() == (1,)


def test_a_principal_sees_only_products_granted_on_the_sql_port(sql: SqlServed) -> None:
    with sql.connect("ann") as connection:  # ann reads orders over REST only
        with pytest.raises(psycopg.Error) as raised:
            connection.execute("select count(*) from sales.orders")
        assert raised.value.sqlstate == "42501" and "permission denied" in str(raised.value)
        assert connection.execute("select 1").fetchone() == (1,)


def test_wrong_passwords_and_unknown_users_fail_alike(sql: SqlServed) -> None:
    messages = []
    for user, password in (("nora", "wrong"), ("nobody", PASSWORD)):
        with pytest.raises(psycopg.OperationalError) as raised:
            psycopg.connect(sql.dsn(user, password))
        messages.append(str(raised.value).replace(user, "U"))
        assert "28P01" in (raised.value.sqlstate or "28P01") and "password authentication failed" in str(raised.value)
    assert messages[0] == messages[1]


def test_an_api_token_is_a_password_over_tls_only(sql: SqlServed) -> None:
    token = sql.tokens["nora"]
    dsn = sql.dsn("nora", token, port=sql.tls_port, sslmode="verify-full", sslrootcert=str(sql.cert))
    with psycopg.connect(dsn, autocommit=True) as connection:
        assert connection.info.pgconn.ssl_in_use
        assert connection.execute("select count(*) from sales.orders").fetchone() == (ROWS,)
    with pytest.raises(psycopg.OperationalError):  # the TLS port refuses plain connections
        psycopg.connect(sql.dsn("nora", token, port=sql.tls_port, sslmode="disable"))
    with pytest.raises(psycopg.OperationalError):  # without TLS a token is no SCRAM password
        psycopg.connect(sql.dsn("nora", token))
    with pytest.raises(psycopg.OperationalError):  # another principal's token
        psycopg.connect(sql.dsn("nora", sql.tokens["ann"], port=sql.tls_port, sslmode="require"))


def test_transactions_session_parameters_and_prepared_statements(sql: SqlServed) -> None:
    with psycopg.connect(sql.dsn("nora")) as connection:  # not autocommit: psycopg sends BEGIN
        assert connection.execute("select count(*) from sales.orders").fetchone() == (ROWS,)
        connection.commit()
        connection.execute("set application_name = 'notebook'")
        assert connection.execute("show application_name").fetchone() == ("notebook",)
        assert connection.info.parameter_status("application_name") == "notebook"
        with pytest.raises(psycopg.Error) as raised:
            connection.execute("select * from sales.nothing")
        assert raised.value.sqlstate == "42P01"
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            connection.execute("select 1")
        connection.rollback()
        for country in COUNTRIES:  # the same statement, prepared once by psycopg after a few runs
            count = connection.execute(
                "select count(*) from sales.orders where country = %s", [country], prepare=True
            ).fetchone()
            assert count == (sum(1 for o in _orders() if o["country"] == country),)


def test_a_prepared_statement_answers_the_session_state_of_each_run(sql: SqlServed) -> None:
    query = "select current_setting('application_name') as app, count(*) from sales.orders where amount > %s"
    seen = []
    with sql.connect() as connection:
        for name in ("first", "second"):
            connection.execute(f"set application_name = '{name}'")
            for _ in range(6):  # psycopg prepares it on the fifth run
                seen.append(connection.execute(query, [0], prepare=True).fetchone())
    assert seen == [("first", ROWS)] * 6 + [("second", ROWS)] * 6


def test_current_setting_and_set_config_answer_kept_parameters_and_refuse_others(sql: SqlServed) -> None:
    with sql.connect() as connection:
        assert connection.execute("select current_setting('DateStyle')").fetchone() == ("ISO, MDY",)
        with pytest.raises(psycopg.Error) as raised:
            connection.execute("select current_setting('allowed_directories')")
        assert raised.value.sqlstate == "42704"
        assert connection.execute("select current_setting('allowed_directories', true)").fetchone() == (None,)
        with pytest.raises(psycopg.Error) as raised:
            connection.execute("select current_setting('work_mem', false)")
        assert raised.value.sqlstate == "42704"
        assert connection.execute("select set_config('application_name', %s, false)", ["etl"]).fetchone() == ("etl",)
        assert connection.execute("show application_name").fetchone() == ("etl",)
        for name, sqlstate in (("memory_limit", "42501"), ("server_version", "55P02")):
            with pytest.raises(psycopg.Error) as raised:
                connection.execute(f"select set_config('{name}', '1', false)")
            assert raised.value.sqlstate == sqlstate


def test_small_results_are_written_as_large_ones_are(sql: SqlServed) -> None:
    columns = "order_id, country, amount, amount > 100 as big, order_date, amount / 3 as third, null::int as none"
    with sql.connect() as connection:
        whole = connection.execute(f"select {columns} from sales.orders order by order_id").fetchall()
        one_by_one = [
            connection.execute(f"select {columns} from sales.orders where order_id = %s", [row[0]]).fetchone()
            for row in whole[:20]
        ]
    assert len(whole) == ROWS
    assert one_by_one == whole[:20]


def test_server_side_cursors_fetch_in_portions(sql: SqlServed) -> None:
    with psycopg.connect(sql.dsn("nora")) as connection, connection.cursor(name="orders") as cursor:
        cursor.itersize = 50
        cursor.execute("select order_id from sales.orders order by order_id")
        assert [r[0] for r in cursor] == [o["order_id"] for o in _orders()]


def test_psql_runs_queries_copies_out_and_keeps_going_after_a_refusal(sql: SqlServed) -> None:
    environment = {**os.environ, "PGPASSWORD": PASSWORD}
    command = ["psql", "-X", "-h", "127.0.0.1", "-p", str(sql.port), "-U", "nora", "-d", "quanta", "-At"]
    counted = subprocess.run(
        [*command, "-c", "select count(*) from sales.orders"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.strip() == str(ROWS)
    copied = subprocess.run(
        [
            *command,
            "-c",
            "copy (select order_id, country from sales.orders order by 1 limit 2) to stdout with (format csv, header)",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert copied.stdout.splitlines() == ["order_id,country", "o-00000,DE", "o-00001,FR"], copied.stderr
    script = "select 1;\ncopy sales.orders to '/tmp/quanta-x';\nselect read_parquet('/etc/passwd');\nselect 2;\n"
    mixed = subprocess.run([*command], input=script, env=environment, capture_output=True, text=True, timeout=60)
    assert mixed.stdout.split() == ["1", "2"] and mixed.stderr.count("ERROR") == 2
    assert not Path("/tmp/quanta-x").exists()


SLOW = (
    "select count(*) from sales.orders a, sales.orders b, sales.orders c, sales.orders d, sales.orders e"
    " where a.amount + b.amount + c.amount + d.amount + e.amount > 0"
)


def test_a_cancel_request_stops_the_running_statement_and_the_session_goes_on(sql: SqlServed) -> None:
    import threading
    import time

    with sql.connect() as connection:
        outcome: dict[str, object] = {}

        def run() -> None:
            try:
                connection.execute(SLOW)
                outcome["error"] = None
            except psycopg.Error as exc:
                outcome["error"] = exc
            outcome["at"] = time.monotonic()

        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(0.8)
        cancelled_at = time.monotonic()
        connection.cancel_safe()
        worker.join(timeout=20)
        assert isinstance(outcome["error"], psycopg.errors.QueryCanceled), outcome
        assert float(outcome["at"]) - cancelled_at < 1.0  # type: ignore[arg-type]
        assert connection.execute("select 1").fetchone() == (1,)


def test_a_statement_timeout_cancels_with_57014(sql: SqlServed) -> None:
    import time

    with sql.connect() as connection:
        connection.execute("set statement_timeout = '300ms'")
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            connection.execute(SLOW)
        assert time.monotonic() - started < 2.0
        # a catalog query is stopped the same way (its metadata database is interrupted too)
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            connection.execute("select count(*) from pg_catalog.pg_class, generate_series(1, 3000000000)")
        assert time.monotonic() - started < 2.0
        connection.execute("reset statement_timeout")
        assert connection.execute("select 2").fetchone() == (2,)


def test_a_statement_timeout_during_the_catalogs_first_build_cancels_the_query(sql: SqlServed) -> None:
    import time

    with psycopg.connect(sql.dsn("nora").replace("dbname=quanta", "dbname=first_build"), autocommit=True) as connection:
        connection.execute("set statement_timeout = '1ms'")  # ends while the metadata database is built
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            connection.execute("select count(*) from pg_catalog.pg_class, generate_series(1, 3000000000)")
        assert time.monotonic() - started < 2.0
        connection.execute("reset statement_timeout")
        assert connection.execute("select count(*) > 0 from pg_catalog.pg_class").fetchone() == (True,)


def _raw(sql: SqlServed) -> socket.socket:
    return socket.create_connection(("127.0.0.1", sql.port), timeout=10)


def _error_of(connection: socket.socket) -> tuple[bytes, str]:
    """The severity and SQLSTATE of the ErrorResponse the server ends the connection with."""
    data = b""
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    at = data.find(b"E")
    assert at >= 0, data
    body = data[at + 5 :]
    fields = dict((part[:1], part[1:]) for part in body.split(b"\0") if part)
    return fields[b"S"], fields[b"C"].decode()


def test_an_oversized_or_malformed_start_up_is_refused(sql: SqlServed) -> None:
    with _raw(sql) as connection:
        connection.sendall(struct.pack("!I", 2**30) + struct.pack("!I", 196608))
        assert _error_of(connection) == (b"FATAL", "08P01")
    with _raw(sql) as connection:
        connection.sendall(struct.pack("!II", 8, 1234 << 16))  # protocol 1234.0
        assert _error_of(connection) == (b"FATAL", "08P01")


def test_oversized_and_unknown_messages_end_the_session_not_the_server(sql: SqlServed) -> None:
    for message in (b"Q" + struct.pack("!I", 2**31 - 1), b"~" + struct.pack("!I", 4)):
        connection = sql.connect()
        raw = socket.socket(fileno=os.dup(connection.fileno()))
        raw.setblocking(True)
        raw.sendall(message)
        assert _error_of(raw) == (b"FATAL", "08P01")
        raw.close()
        connection.close()
    with sql.connect() as connection:  # the server serves on
        assert connection.execute("select 1").fetchone() == (1,)


def test_a_client_gone_mid_result_leaves_the_server_serving(sql: SqlServed) -> None:
    for _ in range(3):
        connection = sql.connect()
        raw = socket.socket(fileno=os.dup(connection.fileno()))
        raw.setblocking(True)
        query = b"select a.order_id from sales.orders a, sales.orders b\0"
        raw.sendall(b"Q" + struct.pack("!I", len(query) + 4) + query)
        raw.recv(1024)  # the first rows arrive; then the client vanishes
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
        connection.pgconn.finish()
    with sql.connect() as connection:
        assert connection.execute("select count(*) from sales.orders").fetchone() == (ROWS,)


def test_asyncpg_prepares_with_inferred_parameter_types_and_reads_binary_results(sql: SqlServed) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=sql.port, user="nora", password=PASSWORD, database="quanta", ssl=False
        )
        try:
            count = await connection.fetchval("select count(*) from sales.orders where amount > $1", 250)
            assert count == sum(1 for o in _orders() if float(o["amount"]) > 250)
            rows = await connection.fetch(
                "select order_id, amount, order_date from sales.orders where country = $1 and order_date >= $2"
                " order by order_id limit $3",
                "FR",
                date(2026, 11, 20),
                2,
            )
            expected = [o for i, o in enumerate(_orders()) if o["country"] == "FR" and i % 28 + 1 >= 20][:2]
            assert [(r["order_id"], r["amount"]) for r in rows] == [(o["order_id"], o["amount"]) for o in expected]
            assert all(isinstance(r["order_date"], date) for r in rows)
            statement = await connection.prepare("select count(*) from sales.orders where country = $1")
            assert [p.name for p in statement.get_parameters()] == ["text"]
            assert [await statement.fetchval(c) for c in COUNTRIES] == [ROWS // 4] * 4
            with pytest.raises(asyncpg.PostgresError) as raised:
                await connection.fetch("select * from sales.nothing")
            assert raised.value.sqlstate == "42P01"
            assert await connection.fetchval("select 3") == 3
        finally:
            await connection.close()

    asyncio.run(run())


def test_arrays_are_postgresql_arrays_in_results_and_parameters(sql: SqlServed) -> None:
    wanted = ["o-00001", "o-00002", "o-00005"]
    with sql.connect() as connection:
        for binary in (False, True):
            cursor = connection.cursor(binary=binary)
            cursor.execute(
                "select array[1, 2, null] as numbers, array['a b', null, 'c'] as words, array[]::int[] as none"
            )
            assert [c.type_code for c in cursor.description] == [1007, 1009, 1007]
            assert cursor.fetchone() == ([1, 2, None], ["a b", None, "c"], [])
            cursor.execute("select order_id from sales.orders where order_id = any(%s) order by 1", [wanted])
            assert [r[0] for r in cursor.fetchall()] == wanted
        excluded = connection.execute("select count(*) from sales.orders where order_id <> all(%s)", [wanted])
        assert excluded.fetchone() == (ROWS - 3,)
        assert connection.execute("select array[array[1, 2], array[3, 4]] as m").fetchone() == ([[1, 2], [3, 4]],)


def test_asyncpg_introspects_array_types_and_binds_arrays(sql: SqlServed) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=sql.port, user="nora", password=PASSWORD, database="quanta", ssl=False
        )
        try:
            query = "select order_id from sales.orders where order_id = any($1) order by 1"
            assert [r[0] for r in await connection.fetch(query, ["o-00003", "o-00004"])] == ["o-00003", "o-00004"]
            amounts = await connection.fetchval(
                "select count(*) from sales.orders where amount = any($1::float8[])", [0.5, 7.5]
            )
            assert amounts == sum(1 for o in _orders() if o["amount"] in (0.5, 7.5))
            row = await connection.fetchrow("select array[1, 2] as a, array['p', null] as b, array[true] as c")
            assert (row["a"], row["b"], row["c"]) == ([1, 2], ["p", None], [True])
        finally:
            await connection.close()

    asyncio.run(run())


def _psql(port: int, user: str, command: str, password: str = PASSWORD, database: str = "quanta") -> str:
    environment = {**os.environ, "PGPASSWORD": password, "PAGER": "cat"}
    result = subprocess.run(
        ["psql", "-X", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", database, "-c", command],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _without_owner(output: str) -> str:
    """psql's table with its Owner column blanked (owners differ between the two servers)."""
    lines = output.splitlines()
    header = next((i for i, line in enumerate(lines) if "Owner" in line), None)
    if header is None:
        return output
    at = lines[header].rfind("|", 0, lines[header].index("Owner"))
    return "\n".join(line[:at].strip() if i >= header else line.strip() for i, line in enumerate(lines))


@pytest.fixture(scope="module")
def postgres_twin() -> Iterator[None]:
    """The same relations as the served mesh's, created in the local PostgreSQL 15 (database test)."""
    schema_sql = """
        DROP SCHEMA IF EXISTS sales CASCADE; CREATE SCHEMA sales;
        CREATE TABLE sales.orders (order_id text PRIMARY KEY, customer_id text NOT NULL, country text NOT NULL,
            amount double precision NOT NULL, order_date date NOT NULL);
        CREATE TABLE sales.orders_v1 (LIKE sales.orders INCLUDING ALL);
        CREATE TABLE sales.daily_revenue (order_date date, country text, revenue double precision, orders bigint);
        CREATE TABLE sales.daily_revenue_v1 (LIKE sales.daily_revenue INCLUDING ALL);
    """
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test", autocommit=True) as connection:
        connection.execute(schema_sql)
        yield
        connection.execute("DROP SCHEMA IF EXISTS sales CASCADE")


@pytest.mark.parametrize(
    "command", ["\\dt", "\\dt sales.*", "\\d", "\\dn", "\\df", "\\dd", "\\do", "\\dy", "\\db", "\\dconfig sql*"]
)
def test_psql_lists_relations_and_schemas_as_postgresql_does(sql: SqlServed, postgres_twin: None, command: str) -> None:
    ours = _psql(sql.port, "nora", command)
    theirs = subprocess.run(
        ["psql", "-X", "-h", "127.0.0.1", "-p", "5432", "-d", "test", "-c", command],
        env={**os.environ, "PAGER": "cat", "PGOPTIONS": "-c search_path=public,sales"},  # every domain is visible
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert theirs.strip(), "PostgreSQL listed nothing"
    assert _without_owner(ours) == _without_owner(theirs), f"ours:\n{ours}\nPostgreSQL's:\n{theirs}"


def test_psql_lists_only_what_the_principal_may_read_over_sql(sql: SqlServed) -> None:
    assert "sales  | orders" in _psql(sql.port, "nora", "\\dt")
    assert "Did not find any relations." in _psql(sql.port, "ann", "\\dt") + "Did not find any relations."
    listed = _psql(sql.port, "ann", "\\dt")
    assert "orders" not in listed and "daily_revenue" not in listed  # ann reads over REST only


def test_psql_describes_a_readable_table_and_no_other(sql: SqlServed) -> None:
    described = _psql(sql.port, "nora", "\\d sales.orders")
    assert 'Table "sales.orders"' in described
    rows = {line.split("|")[0].strip(): line for line in described.splitlines() if "|" in line}
    assert {"order_id", "customer_id", "country", "amount", "order_date"} <= set(rows)
    assert "not null" in rows["order_id"] and "date" in rows["order_date"]
    hidden = subprocess.run(
        ["psql", "-X", "-h", "127.0.0.1", "-p", str(sql.port), "-U", "ann", "-d", "quanta", "-c", "\\d sales.orders"],
        env={**os.environ, "PGPASSWORD": PASSWORD}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert 'Did not find any relation named "sales.orders"' in hidden.stderr  # ann reads over REST only


@pytest.mark.parametrize(
    ("command", "title"),
    [
        ("\\dx", "List of installed extensions"),
        ("\\dL", "List of languages"),
        ("\\dC", "List of casts"),
        ("\\dconfig", "List of non-default configuration parameters"),
        ("\\df+", "List of functions"),
        ("\\do+", "List of operators"),
    ],
)
def test_psql_lists_no_extension_language_cast_or_function_of_the_port(
    sql: SqlServed, command: str, title: str
) -> None:
    output = _psql(sql.port, "nora", command)
    assert output.splitlines()[0].strip() == title and output.rstrip().endswith("(0 rows)"), output


def test_psql_lists_databases_and_tablespaces_in_full(sql: SqlServed) -> None:
    databases = _psql(sql.port, "nora", "\\l+").splitlines()
    assert [c.strip() for c in databases[1].split("|")][-3:] == ["Size", "Tablespace", "Description"]
    assert [c.strip() for c in databases[3].split("|")][:3] == ["quanta", "nora", "UTF8"]
    assert "pg_default" in databases[3] and databases[4] == "(1 row)"
    assert "pg_global" in _psql(sql.port, "nora", "\\db+")
    assert _psql(sql.port, "nora", "\\drds") == ""  # psql's "Did not find any settings." (on stderr)


def test_psql_lists_the_database_and_the_role(sql: SqlServed) -> None:
    assert "quanta" in _psql(sql.port, "nora", "\\l") and "UTF8" in _psql(sql.port, "nora", "\\l")
    assert "nora" in _psql(sql.port, "nora", "\\du")


def test_sqlalchemy_connects_lists_schemas_and_tables_and_pandas_reads(sql: SqlServed) -> None:
    import pandas as pd
    import sqlalchemy

    engine = sqlalchemy.create_engine(
        f"postgresql+psycopg://nora:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{sql.port}/quanta"
    )
    try:
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("select count(*) from sales.orders")).scalar() == ROWS
        frame = pd.read_sql("select country, count(*) as n from sales.orders group by 1 order by 1", engine)
        assert frame.to_dict("records") == [{"country": c, "n": ROWS // 4} for c in sorted(COUNTRIES)]
        inspector = sqlalchemy.inspect(engine)
        assert inspector.get_schema_names() == ["information_schema", "public", "sales"]  # as on PostgreSQL
        assert inspector.get_table_names(schema="sales") == ["daily_revenue", "daily_revenue_v1", "orders", "orders_v1"]
        assert inspector.has_table("orders", schema="sales") and not inspector.has_table("nope", schema="sales")
    finally:
        engine.dispose()
