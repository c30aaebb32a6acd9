"""``type: api``: an HTTP JSON API, paged and retried, landed as a raw NDJSON snapshot and
fingerprinted by content. Secrets come from environment variables named in the spec."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from quanta.build.errors import InputUnavailable
from quanta.build.inputs.base import InputContext, ResolvedInput, relation_name
from quanta.catalog import LineageRecord
from quanta.engines.base import Relation
from quanta.spec.base import parse_duration
from quanta.spec.ports import ApiInputOptions, InputSpec

if TYPE_CHECKING:
    import httpx

_PLACEHOLDER = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
_RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_PAGES = 100_000


class ApiConnector:
    """Fetches every page; retries 429, 5xx, timeouts and refused connections with backoff."""

    def __init__(self, backoff_seconds: float = 0.5, max_sleep_seconds: float = 30.0) -> None:
        self.backoff_seconds = backoff_seconds
        self.max_sleep_seconds = max_sleep_seconds

    def peek(self, spec: InputSpec, context: InputContext) -> str | None:
        return None  # only a fetch can tell whether the source changed

    def resolve(self, spec: InputSpec, context: InputContext) -> ResolvedInput:
        options: ApiInputOptions = spec.options
        url = _fill(options.url, spec.id)
        headers = {name: _env(variable, spec.id) for name, variable in options.headers_from_env.items()}
        timeout = parse_duration(options.timeout).total_seconds()
        import httpx  # imported when an API is actually read

        with httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client:
            records = list(self._records(client, url, options, spec.id))
        payload = "".join(json.dumps(r, sort_keys=True, default=str) + "\n" for r in records).encode()
        path, sha = context.store.land_raw(context.location, spec.id, payload)
        relation = Relation(relation_name(spec.id), "ndjson", (str(path),))
        lineage = LineageRecord(spec.id, "api", sha, system=options.system, source=_redact(options.url))
        return ResolvedInput(relation, lineage)

    def _records(self, client: httpx.Client, url: str, options: ApiInputOptions, input_id: str) -> Iterator[Any]:
        paging = options.pagination
        params: dict[str, Any] = {}
        if paging.type == "offset":
            params = {paging.limit_param: paging.page_size, paging.offset_param: 0}
        elif paging.type == "cursor":
            params = {}
        next_url: str | None = url
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            if next_url is None:
                return
            request = str(client.build_request("GET", next_url, params=params or None).url)
            if request in seen:
                raise InputUnavailable(
                    f"input '{input_id}': pagination does not advance ({_redact(request)} "
                    "was requested twice); check `pagination:`"
                )
            seen.add(request)
            response = self._get(client, request, options.retries, input_id)
            body = response.json()
            page = _at(body, options.records_path)
            if not isinstance(page, list):
                raise InputUnavailable(
                    f"input '{input_id}': expected a list of records at "
                    f"'{options.records_path or '(body)'}', got {type(page).__name__}"
                )
            yield from page
            next_url, params = _next(paging, response, body, url, params, len(page))
        raise InputUnavailable(f"input '{input_id}': more than {MAX_PAGES} pages; is the pagination configured?")

    def _get(self, client: httpx.Client, url: str, retries: int, input_id: str) -> httpx.Response:
        problem = ""
        for attempt in range(retries + 1):
            import httpx

            try:
                response = client.get(url)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                delay = None
            else:
                if response.status_code not in _RETRY_STATUS:
                    if response.is_error:
                        raise InputUnavailable(
                            f"input '{input_id}': {_redact(url)} answered "
                            f"{response.status_code} {response.reason_phrase}"
                        )
                    return response
                problem = f"HTTP {response.status_code}"
                delay = _retry_after(response)
            if attempt < retries:
                time.sleep(
                    min(self.max_sleep_seconds, delay if delay is not None else self.backoff_seconds * 2**attempt)
                )
        raise InputUnavailable(
            f"input '{input_id}': {_redact(url)} still failing after {retries + 1} attempts "
            f"({problem}); the last good snapshot stays current"
        )


def _next(
    paging: Any, response: httpx.Response, body: Any, url: str, params: dict[str, Any], count: int
) -> tuple[str | None, dict[str, Any]]:
    if paging.type == "cursor":
        cursor = _at(body, paging.cursor_path) if paging.cursor_path else None
        return (url, {paging.cursor_param: cursor}) if cursor else (None, params)
    if paging.type == "link-header":
        link = response.links.get("next", {}).get("url")
        return (str(response.url.join(link)), {}) if link else (None, params)
    if paging.type == "offset":
        if count < paging.page_size or count == 0:
            return None, params
        return url, {**params, paging.offset_param: params[paging.offset_param] + count}
    return None, params


def _at(body: Any, path: str | None) -> Any:
    for part in path.split(".") if path else []:
        body = body.get(part) if isinstance(body, dict) else None
    return body


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _env(variable: str, input_id: str) -> str:
    value = os.environ.get(variable)
    if value is None:
        raise InputUnavailable(f"input '{input_id}': environment variable {variable} is not set")
    return value


def _fill(url: str, input_id: str) -> str:
    return _PLACEHOLDER.sub(lambda m: _env(m.group(1), input_id), url)


def _redact(url: str) -> str:
    """A URL safe to log: placeholders stay unfilled, query strings are dropped."""
    return url.split("?", 1)[0]
