"""``type: api``: an HTTP JSON API, paged and retried, landed as a raw NDJSON snapshot and
fingerprinted by content. Secrets come from environment variables named in the spec; they are
filled in only for a request and never reach a record, a message or a log line."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from quanta.build.errors import InputUnavailable
from quanta.build.inputs.base import InputContext, ResolvedInput, relation_name
from quanta.build.inputs.http import LOG_REDACTOR, MAX_RESPONSE_BYTES, Fetcher, Secrets, TooSlow, origin_of, parse_json
from quanta.catalog import LineageRecord
from quanta.engines.base import Relation
from quanta.spec.base import parse_duration
from quanta.spec.ports import ApiInputOptions, InputSpec

if TYPE_CHECKING:
    import httpx

_RETRY_STATUS = {429, 500, 502, 503, 504}
_SECONDS = re.compile(r"^\d+(\.\d+)?$")
MAX_PAGES = 100_000


class ApiConnector:
    """Fetches every page; retries 429, 5xx, timeouts and refused connections with backoff."""

    def __init__(
        self,
        backoff_seconds: float = 0.5,
        max_sleep_seconds: float = 30.0,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.backoff_seconds = backoff_seconds
        self.max_sleep_seconds = max_sleep_seconds
        self.max_response_bytes = max_response_bytes

    def peek(self, spec: InputSpec, context: InputContext) -> str | None:
        return None  # only a fetch can tell whether the source changed

    def resolve(self, spec: InputSpec, context: InputContext) -> ResolvedInput:
        options: ApiInputOptions = spec.options
        secrets = Secrets(spec.id)
        try:
            with LOG_REDACTOR.watching(secrets):
                records = self._fetch(options, secrets)
        except InputUnavailable as exc:
            raise InputUnavailable(secrets.redact(str(exc))) from None
        except Exception as exc:  # whatever else a broken or hostile server provokes
            raise InputUnavailable(secrets.redact(f"input '{spec.id}': {type(exc).__name__}: {exc}")) from None
        payload = "".join(json.dumps(r, sort_keys=True, default=str) + "\n" for r in records).encode()
        path, sha = context.store.land_raw(context.location, spec.id, payload)
        relation = Relation(relation_name(spec.id), "ndjson", (str(path),))
        source = options.url.split("?", 1)[0]  # the spec's text: placeholders stay unfilled
        lineage = LineageRecord(spec.id, "api", sha, system=options.system, source=source)
        return ResolvedInput(relation, lineage)

    def _fetch(self, options: ApiInputOptions, secrets: Secrets) -> list[Any]:
        url = secrets.fill(options.url)
        credentials = {name: secrets.env(variable) for name, variable in options.headers_from_env.items()}
        timeout = parse_duration(options.timeout).total_seconds()
        import httpx  # imported when an API is actually read

        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            fetcher = Fetcher(
                client, secrets.input_id, origin_of(url), credentials, timeout, secrets, self.max_response_bytes
            )
            return list(self._records(fetcher, url, options))

    def _records(self, fetcher: Fetcher, url: str, options: ApiInputOptions) -> Iterator[Any]:
        input_id, paging = fetcher.input_id, options.pagination
        params: dict[str, Any] = {}
        if paging.type == "offset":
            params = {paging.limit_param: paging.page_size, paging.offset_param: 0}
        next_url: str | None = url
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            if next_url is None:
                return
            request = str(fetcher.client.build_request("GET", next_url, params=params or None).url)
            if request in seen:
                raise InputUnavailable(
                    f"input '{input_id}': pagination does not advance ({fetcher.secrets.url(request)} "
                    "was requested twice); check `pagination:`"
                )
            seen.add(request)
            response, content = self._get(fetcher, request, options)
            body = parse_json(content, f"input '{input_id}': {fetcher.secrets.url(str(response.url))}")
            page = _at(body, options.records_path)
            if not isinstance(page, list):
                raise InputUnavailable(
                    f"input '{input_id}': expected a list of records at "
                    f"'{options.records_path or '(body)'}', got {type(page).__name__}"
                )
            yield from page
            next_url, params = _next(paging, response, body, url, params, len(page))
        raise InputUnavailable(f"input '{input_id}': more than {MAX_PAGES} pages; is the pagination configured?")

    def _get(self, fetcher: Fetcher, url: str, options: ApiInputOptions) -> tuple[httpx.Response, bytes]:
        import httpx

        shown, retries, problem = fetcher.secrets.url(url), options.retries, ""
        for attempt in range(retries + 1):
            delay = None
            try:
                response, content = fetcher.get(url)
            except TooSlow:
                problem = f"took longer than {options.timeout}"
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code not in _RETRY_STATUS:
                    if not response.is_success:
                        raise InputUnavailable(
                            f"input '{fetcher.input_id}': {fetcher.secrets.url(str(response.url))} answered "
                            f"{response.status_code} {response.reason_phrase}"
                        )
                    return response, content
                problem = f"HTTP {response.status_code}"
                delay = _retry_after(response, f"input '{fetcher.input_id}': {shown}")
            if attempt < retries:
                time.sleep(
                    min(self.max_sleep_seconds, delay if delay is not None else self.backoff_seconds * 2**attempt)
                )
        raise InputUnavailable(
            f"input '{fetcher.input_id}': {shown} still failing after {retries + 1} attempts "
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


def _retry_after(response: httpx.Response, where: str) -> float | None:
    """Seconds to wait as the server asks (a number or an HTTP date); a value that is neither fails."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if _SECONDS.match(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        when = None
    if when is None or when.tzinfo is None:
        raise InputUnavailable(
            f"{where} answered {response.status_code} with an invalid Retry-After '{value[:40]}' "
            "(expected seconds or an HTTP date)"
        )
    return max(0.0, when.timestamp() - time.time())
