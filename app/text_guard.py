"""Requests refused before routing: NUL characters and invalid UTF-8 in the path or query.

A NUL (``%00``) cannot be stored or compared by PostgreSQL, and bytes that are not UTF-8
(``%ED%A0%80``, a lone surrogate) are silently replaced when decoded, so a layer name or a
filter value would not be what the client sent. Both are refused with problem+json: 400
for the path, 422 for the query string (400 under ``/ogc``, as OGC API – Features asks for
invalid parameters).
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import PROBLEM_JSON


def _problem_in(raw: bytes) -> str | None:
    data = unquote_to_bytes(raw.replace(b"+", b" "))
    if b"\x00" in data:
        return "contains a NUL character (%00)"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            f"is not valid UTF-8 after percent-decoding (byte {exc.start}); "
            "lone surrogates and other invalid sequences are refused"
        )
    return None


class RequestTextGuard:
    """ASGI middleware: refuses a request whose path or query string is not clean text."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check ``http`` requests; pass everything else through."""
        if scope["type"] == "http":
            raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "replace")
            bad = _problem_in(raw_path)
            status, where = 400, "path"
            if bad is None:
                bad = _problem_in(scope.get("query_string", b""))
                where = "query string"
                status = 400 if scope.get("path", "").startswith("/ogc") else 422
            if bad is not None:
                instance = scope.get("path") if where != "path" else None
                await _send_problem(send, status, f"the {where} {bad}", instance)
                return
        await self.app(scope, receive, send)


async def _send_problem(send: Send, status: int, detail: str, instance: str | None) -> None:
    title = "Bad request" if status == 400 else "Unprocessable content"
    doc = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance:
        doc["instance"] = instance
    body = json.dumps(doc).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
