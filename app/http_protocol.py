"""uvicorn's httptools protocol with a bound on the request head, as h11 has.

uvicorn parses HTTP with h11 (pure Python) or httptools (llhttp, in C). httptools makes a
cached tile about a quarter cheaper (issue 14, BENCHMARKS.md), but with it uvicorn sets no limit
on the size of a request head: a client could send headers without end, and the server would
keep them in memory. h11 refuses a head over ``h11_max_incomplete_event_size``.
:class:`BoundedHttpTools` applies the same setting to httptools:

- the bytes received from the start of a request's head until its headers are complete are
  counted, and once they pass the bound the request is refused with 414 (the request line alone
  is that long) or 431 (headers), and the connection is closed;
- a URL longer than httptools can parse (:data:`MAX_PARSED_URL_BYTES`: its URL parser keeps
  16-bit offsets, and uvicorn would answer such a URL with a bare 400) is refused with 414.

A refusal is a problem+json answer, as the app's own, sent before the app sees the request.
Shorter over-long URLs reach the app, whose guard answers 414 with its own limit
(``RUIMTE_WEB_MAX_URL_BYTES``, at most :data:`MAX_PARSED_URL_BYTES`).
:func:`app.guards.server_options` selects this protocol.

The count is per chunk the socket hands over, so a head may pass the bound by one chunk
before it is refused; a request body is never counted.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.errors import problem
from app.settings import MAX_PARSED_URL_BYTES


class BoundedHttpTools(HttpToolsProtocol):
    """The protocol described in the module docstring."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - uvicorn's
        super().__init__(config, *args, **kwargs)
        limit = config.h11_max_incomplete_event_size
        if not limit:
            raise ValueError("BoundedHttpTools needs h11_max_incomplete_event_size (the bound)")
        self.max_head_bytes: int = limit
        self._refused = False
        self._next_head()

    def _next_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._line_end: int | None = None  # where the request line ends in the head

    def data_received(self, data: bytes) -> None:
        """Count the bytes of a head; refuse the request once they pass the bound."""
        if self._refused:
            return
        if self._in_head:
            if self._line_end is None and (at := data.find(b"\n")) >= 0:
                self._line_end = self._head_bytes + at
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                if self._line_end is None or self._line_end > self.max_head_bytes:
                    self._refuse(414, f"the URL is over the limit of {self.max_head_bytes} bytes")
                else:
                    self._refuse(
                        431, f"the request head is over the limit of {self.max_head_bytes} bytes"
                    )
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        """The head is complete: what follows until the message ends is its body."""
        if self._refused:
            return
        self._in_head = False
        if len(self.url) > MAX_PARSED_URL_BYTES:
            self._refuse(
                414,
                f"the URL is {len(self.url)} bytes long, over the limit of {MAX_PARSED_URL_BYTES}",
            )
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        """A part of the body (none of a refused request)."""
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        """The request is complete: what follows is the next request's head."""
        if self._refused:
            return
        self._next_head()
        super().on_message_complete()

    def _refuse(self, status: int, detail: str) -> None:
        """Answer ``status`` with the app's problem+json body and close the connection."""
        self._refused = True
        self.logger.warning("Refused a request: %s.", detail)
        answer = problem(status, detail)
        body = bytes(answer.body)
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: " + answer.media_type.encode("ascii") + b"\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
