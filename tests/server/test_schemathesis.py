"""schemathesis against each product's OpenAPI, as served to a caller, over a real server: every
generated request is answered with no 5xx, with a status the document declares, a content type it
declares and a body matching its schema; requests that do *not* fit the document (negative mode)
are refused with a 4xx. Bounded (30 examples per operation and mode).

Not checked: that every schema-valid request is accepted. Filters, ``fields`` and ``sort`` are
strings with a grammar of their own (``ge:10``, ``-amount,order_id``) that the document describes
in words, so most generated values are rightly refused with a 400 naming the parameter."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from serving_mesh import Served

ORDERS = "/api/v1/products/sales/orders/v1"
REVENUE = "/api/v1/products/sales/daily-revenue/v1"
CALLERS = {"ann-orders": ("ann", ORDERS), "carl-orders": ("carl", ORDERS), "ann-revenue": ("ann", REVENUE)}


@pytest.mark.parametrize("who", sorted(CALLERS))
def test_no_request_is_answered_with_a_server_error(served: Served, who: str) -> None:
    principal, base = CALLERS[who]
    headers = {"Authorization": f"Bearer {served.tokens[principal]}"}
    document = httpx.get(served.url + base + "/openapi.json", headers=headers).json()
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=served.url)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path.rsplit("/", 1)[-1] for op in operations} >= {"rows", "{key}"}
    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.path, case.query, response.text)
            case.validate_response(response, headers=headers, excluded_checks=[positive_data_acceptance])
            served.platform.limiter.succeeded("127.0.0.1")  # the auth checks send bad tokens on purpose

        check()
