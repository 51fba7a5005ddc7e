"""Request guards in front of every route (pure ASGI, so they cost no thread and see every byte).

- **URL length**: a request whose path and query are longer than ``max_url_bytes`` gets 414
  (uvicorn is started with a larger bound on the request head, :func:`server_options`, so such
  a request line reaches the app instead of the connection being reset; beyond that bound the
  server itself answers 414 or 431, :mod:`app.http_protocol`).
- **Host**: links the service writes (``next``/``prev``, ``Location``, OGC ``links``) are built
  from the request's URL. With ``public_url`` set, that URL's scheme and host replace what the
  client sent; without it, the ``Host`` header must be one of ``allowed_hosts`` (400 otherwise),
  so a forged ``Host`` never ends up in a link. ``/healthz`` and ``/readyz`` write no links and
  are not checked (probes often use an address).
- **Downloads**: at most ``downloads_per_client`` downloads (layer files, QGIS zips, rasters)
  of one client run at once (429) and at most ``downloads_total`` in one worker process (503),
  both with ``Retry-After``, so a few large downloads cannot starve the other requests. A client
  is its bearer token or session cookie, else its address.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import problem
from app.settings import WebSettings

#: Seconds a client is asked to wait when the download limits are reached.
DOWNLOAD_RETRY_AFTER_S = 5
DOWNLOAD_PATHS = re.compile(
    r"^/api/(layers/[^/]+/download|qgis/project\.zip|runs/[^/]+/(qgis\.zip|rasters/[^/]+|table\.csv))$"
)
UNCHECKED_HOST_PATHS = frozenset({"/healthz", "/readyz"})
#: Bytes of request head (request line and headers) uvicorn's h11 parser accepts at least: the
#: longest URL the service answers with 414 instead of a reset connection.
MIN_REQUEST_HEAD_BYTES = 1 << 20
#: uvicorn's HTTP protocol: httptools bounded as h11 is (imported by uvicorn, in each worker).
HTTP_PROTOCOL = "app.http_protocol:BoundedHttpTools"


def server_options(web: WebSettings) -> dict[str, int | str]:
    """uvicorn options that go with these guards (``ruimte serve``, the benchmarks' and the
    tests' servers): httptools with the same bound on the request head as h11's
    (:mod:`app.http_protocol`)."""
    return {
        "http": HTTP_PROTOCOL,
        "h11_max_incomplete_event_size": max(MIN_REQUEST_HEAD_BYTES, 8 * web.max_url_bytes),
    }


def host_name(host: str) -> str:
    """The name part of a ``Host`` header value (no port; IPv6 without brackets), lower-case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class RequestGuards:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp, web: WebSettings):
        self.app = app
        self.max_url_bytes = web.max_url_bytes
        self.allowed = {host_name(h) for h in web.allowed_hosts}
        self.any_host = "*" in web.allowed_hosts
        self.public = urlsplit(web.public_url) if web.public_url else None
        self.per_client = web.downloads_per_client
        self.total = web.downloads_total
        self.running: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then hand it on (or answer it with a problem)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("raw_path") or scope["path"].encode()
        length = len(path) + (len(scope["query_string"]) + 1 if scope["query_string"] else 0)
        if length > self.max_url_bytes:
            await problem(
                414,
                f"the URL is {length} bytes long, over the limit of {self.max_url_bytes}; "
                "send fewer or shorter parameters",
            )(scope, receive, send)
            return
        refused = self._host(scope)
        if refused:
            await problem(400, refused, title="Bad request")(scope, receive, send)
            return
        if DOWNLOAD_PATHS.match(scope["path"]) and scope["method"] in ("GET", "HEAD"):
            await self._download(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _host(self, scope: Scope) -> str | None:
        """Apply the public URL, or check the Host header; the reason when refused."""
        if self.public is not None:
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            headers.append((b"host", self.public.netloc.encode()))
            scope["headers"] = headers
            scope["scheme"] = self.public.scheme
            prefix = self.public.path.rstrip("/")
            if prefix:
                # ASGI paths include the root path; a proxy that strips the prefix gets it back.
                scope["root_path"] = prefix
                if not scope["path"].startswith(prefix + "/") and scope["path"] != prefix:
                    scope["path"] = prefix + scope["path"]
                    if scope.get("raw_path") is not None:
                        scope["raw_path"] = prefix.encode() + scope["raw_path"]
            return None
        if self.any_host or scope["path"] in UNCHECKED_HOST_PATHS:
            return None
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        if host_name(host) in self.allowed:
            return None
        return (
            f"the Host header {host[:100]!r} is not one this service answers to; "
            "allowed: " + ", ".join(sorted(self.allowed))
        )

    async def _download(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = _client_key(scope)
        retry = {"Retry-After": str(DOWNLOAD_RETRY_AFTER_S)}
        if self.running[client] >= self.per_client:
            await problem(
                429,
                f"at most {self.per_client} downloads at a time per client; wait for one to finish "
                f"or try again in {DOWNLOAD_RETRY_AFTER_S} s",
                headers=retry,
            )(scope, receive, send)
            return
        if sum(self.running.values()) >= self.total:
            await problem(
                503,
                f"the service is busy with {self.total} downloads; "
                f"try again in {DOWNLOAD_RETRY_AFTER_S} s",
                headers=retry,
            )(scope, receive, send)
            return
        self.running[client] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.running[client] -= 1
            if self.running[client] <= 0:
                del self.running[client]


def _client_key(scope: Scope) -> str:
    """Who asks: a hash of the bearer token or session cookie, else the client's address."""
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"cookie" and b"rc_sessie=" in value):
            return "cred:" + hashlib.sha256(value).hexdigest()[:16]
    client = scope.get("client")
    return f"addr:{client[0] if client else 'unknown'}"


#: Headers on every HTML page: no sniffing, no framing, no foreign scripts or connections.
#: Scripts: files of this app and the one inline script carrying the request's nonce (Folium's
#: map set-up); never ``'unsafe-inline'``. Styles stay inline-capable: Leaflet positions its
#: panes and markers with style attributes, and styles cannot run code.
HTML_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; object-src 'none'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https://service.pdok.nl; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def csp_nonce(request: Request) -> str:
    """This request's script nonce (the one the Content-Security-Policy header names)."""
    return request.state.csp_nonce


class SecurityHeaders:
    """A fresh script nonce per request; security headers on HTML responses, nosniff on all.

    Pure ASGI (not ``@app.middleware("http")``): Starlette's ``BaseHTTPMiddleware`` runs every
    request through a task group and a streamed copy of its response, which was a good part of
    what a cached tile cost (issue 14).
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Give the request its nonce; add the headers to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_security_headers(message.get("headers") or [], nonce)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_security_headers(raw: list, nonce: str) -> list:
    """Response headers (ASGI pairs) with nosniff, and on HTML the page headers and the CSP;
    a header the route set already is kept (as ``setdefault``)."""
    headers = list(raw)
    have = {bytes(k).lower() for k, _ in headers}
    extra = {"X-Content-Type-Options": "nosniff"}
    content_type = next((bytes(v) for k, v in headers if bytes(k).lower() == b"content-type"), b"")
    if content_type.startswith(b"text/html"):
        extra.update(HTML_SECURITY_HEADERS)
        extra["Content-Security-Policy"] = CSP.format(nonce=nonce)
    for key, value in extra.items():
        name = key.lower().encode("latin-1")
        if name not in have:
            headers.append((name, value.encode("latin-1")))
    return headers
