"""Bounded HTTP GETs for the API input: redirects followed by hand (credentials only ever sent to
the configured origin), a size limit and a total deadline per request, strict JSON; and the
secrets an input uses, kept out of every message and log line."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from quanta.build.errors import InputUnavailable

if TYPE_CHECKING:
    import httpx

PLACEHOLDER = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 10
MAX_DEPTH = 100
MAX_RESPONSE_BYTES = 64 * 2**20
HTTP_LOGGERS = ("httpx", *(f"httpcore.{n}" for n in ("connection", "http11", "http2", "proxy", "socks")))


class TooSlow(Exception):
    """A request ran past its total deadline (retried like a timeout)."""


# ---------------------------------------------------------------- secrets


@dataclass
class Secrets:
    """The environment values an input uses, and the placeholder each stands for in any text."""

    input_id: str
    placeholders: dict[str, str] = field(default_factory=dict)

    def env(self, variable: str) -> str:
        value = os.environ.get(variable)
        if value is None:
            raise InputUnavailable(f"input '{self.input_id}': environment variable {variable} is not set")
        if value:
            self.placeholders[value] = f"${{{variable}}}"
        return value

    def fill(self, template: str) -> str:
        """``template`` with its ``${VAR}`` placeholders filled (for a request, never for a record)."""
        return PLACEHOLDER.sub(lambda m: self.env(m.group(1)), template)

    def redact(self, text: str) -> str:
        """``text`` with every secret value, plain or percent-encoded, back as its placeholder."""
        for value in sorted(self.placeholders, key=len, reverse=True):
            for form in {value, quote(value, safe=""), quote(value)}:
                text = text.replace(form, self.placeholders[value])
        return text

    def url(self, url: str) -> str:
        """A URL safe to show: secrets as placeholders, the query string dropped."""
        return self.redact(url.split("?", 1)[0])


class _LogRedactor(logging.Filter):
    """Takes the secrets of running fetches out of httpx's and httpcore's log lines (they log every
    request URL and, at debug level, every response header)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._active: list[Secrets] = []

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            active = list(self._active)
        if active:
            message = record.getMessage()
            for secrets in active:
                message = secrets.redact(message)
            record.msg, record.args = message, ()
        return True

    @contextmanager
    def watching(self, secrets: Secrets) -> Iterator[None]:
        for name in HTTP_LOGGERS:
            logger = logging.getLogger(name)
            if self not in logger.filters:
                logger.addFilter(self)
        with self._lock:
            self._active.append(secrets)
        try:
            yield
        finally:
            with self._lock:
                self._active.remove(secrets)


LOG_REDACTOR = _LogRedactor()


# ---------------------------------------------------------------- one bounded request


class Deadline:
    """A request's total time. Checked between body chunks; a timer also shuts the client's sockets
    at the end, so a server dripping its headers cannot hold the build either."""

    def __init__(self, seconds: float, sockets: list[socket.socket]) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sockets = sockets
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's ``trace`` extension: remember the socket of each new connection."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self._sockets.append(info["return_value"].get_extra_info("socket"))
            if self.expired:
                self._expire()

    def check(self) -> None:
        if time.monotonic() >= self.at:
            self.expired = True
            raise TooSlow

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        self.expired = True
        for sock in list(self._sockets):
            with suppress(OSError):  # closed meanwhile, or detached by TLS
                sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Fetcher:
    """GETs for one input: ``credentials`` go only to ``origin``; each request, its redirects
    included, is done within ``timeout`` seconds and ``max_bytes`` of body."""

    client: httpx.Client
    input_id: str
    origin: tuple[str, str, int | None]
    credentials: dict[str, str]
    timeout: float
    secrets: Secrets
    max_bytes: int = MAX_RESPONSE_BYTES
    sockets: list[socket.socket] = field(default_factory=list)
    """Every socket the client opened (it is used by one request at a time)."""

    def get(self, url: str) -> tuple[httpx.Response, bytes]:
        """The final response and (for a success) its body; TooSlow past the deadline."""
        self.sockets[:] = [s for s in self.sockets if s.fileno() != -1]
        deadline = Deadline(self.timeout, self.sockets)
        try:
            return self._follow(url, deadline)
        except TooSlow:
            raise
        except Exception:
            if deadline.expired:  # the timer shut the socket: whatever httpx made of it
                raise TooSlow from None
            raise
        finally:
            deadline.cancel()

    def _follow(self, url: str, deadline: Deadline) -> tuple[httpx.Response, bytes]:
        for _ in range(MAX_REDIRECTS + 1):
            self.client.cookies.clear()  # a jar is scoped by host, not port: no cookie crosses origins
            headers, trace = self._headers_for(url), {"trace": deadline.trace}
            with self.client.stream("GET", url, headers=headers, extensions=trace) as response:
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    url = self._redirect(response, location)
                    continue
                body = self._read(response, deadline) if response.is_success else b""
                return response, body
        raise InputUnavailable(
            f"input '{self.input_id}': {self.secrets.url(url)} redirected more than {MAX_REDIRECTS} times "
            "(a redirect loop?)"
        )

    def _headers_for(self, url: str) -> dict[str, str]:
        """The credentials, to the configured origin only (never after a redirect or link elsewhere)."""
        return dict(self.credentials) if origin_of(url) == self.origin else {}

    def _redirect(self, response: httpx.Response, location: str) -> str:
        target = response.url.join(location)
        if target.scheme not in ("http", "https"):
            raise InputUnavailable(
                f"input '{self.input_id}': {self.secrets.url(str(response.url))} redirected to a "
                f"{target.scheme}: URL; only http and https are followed"
            )
        return str(target)

    def _read(self, response: httpx.Response, deadline: Deadline) -> bytes:
        announced = response.headers.get("content-length", "")
        if announced.isdigit() and int(announced) > self.max_bytes:
            raise self._too_large(response)
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            deadline.check()
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large(response)
            chunks.append(chunk)
        deadline.check()
        return b"".join(chunks)

    def _too_large(self, response: httpx.Response) -> InputUnavailable:
        return InputUnavailable(
            f"input '{self.input_id}': {self.secrets.url(str(response.url))} answered a body larger than "
            f"{self.max_bytes} bytes"
        )


def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port filled in for http and https."""
    import httpx

    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)


# ---------------------------------------------------------------- strict JSON


def parse_json(body: bytes, where: str) -> Any:
    """A body as JSON: UTF-8 only, valid, at most MAX_DEPTH levels deep; else InputUnavailable."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputUnavailable(
            f"{where} answered a body that is not UTF-8 (byte 0x{body[exc.start]:02x} at position {exc.start})"
        ) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputUnavailable(
            f"{where} answered a body that is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        value = _TOO_DEEP
    if value is _TOO_DEEP or depth_exceeds(value, MAX_DEPTH):
        raise InputUnavailable(f"{where} answered a body nested more than {MAX_DEPTH} levels deep")
    return value


_TOO_DEEP = object()


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether lists and objects in ``value`` nest deeper than ``limit`` (without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in item)
    return False
