"""HTTP the standards ask for beyond the routes: ``HEAD`` on every ``GET`` and CORS.

- ``HEAD``: FastAPI routes answer ``GET`` only; :class:`HeadAsGet` runs a ``HEAD`` request
  as ``GET`` and sends the status and headers without the body (RFC 9110 §9.3.2; OGC API –
  Features asks for HEAD wherever GET is).
- CORS (``RUIMTE_WEB_CORS_ORIGINS``, off by default): Starlette's ``CORSMiddleware`` for the
  configured origins answers preflight requests and adds the headers a page on another
  origin needs to read the API, the OGC API, tiles and styles (e.g. MapLibre).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from layers.tiles import TILE_COUNT_HEADERS

#: Request headers a cross-origin page may send, and response headers it may read.
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "If-Match", "Accept", "Accept-Crs"]
CORS_EXPOSED_HEADERS = [
    *TILE_COUNT_HEADERS,
    "Ruimte-Tile-Cache",
    "ETag",
    "Location",
    "Link",
    "Content-Crs",
    "Retry-After",
    "OGC-NumberMatched",
    "OGC-NumberReturned",
]


class HeadAsGet:
    """Run ``HEAD`` as ``GET`` and drop the body (headers, Content-Length included, stay)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


def install_http_extras(app: FastAPI) -> None:
    """Add CORS (when origins are configured) and HEAD support, outermost."""
    origins = list(app.state.web.cors_origins)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(HeadAsGet)
