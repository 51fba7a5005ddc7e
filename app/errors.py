"""Errors as ``application/problem+json`` (RFC 9457), registered once on the app.

Hierarchy of what reaches a client:

- :class:`ApiError` (this module) and :class:`layers.errors.LayerError` carry their own
  status (400, 401, 404, 409, 413, 415, 422, 503) and a message safe to show;
- ``scenarios`` errors (spec problems) map to 422 with every problem listed;
- FastAPI's request validation becomes 422 with one entry per field, except a path
  parameter that is out of range or of the wrong type: that URL names nothing (404);
- a database that cannot be reached becomes 503 (the service recovers when it returns);
- anything else is a 500 whose details go to the log, never to the client.

Field-level detail is in ``errors``: a list of ``{"feature": i, "field": f, "message": m}``
(features) or ``{"loc": [...], "message": m}`` (request parameters).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.errors import DataException, QueryCanceled
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.auth import AuthError
from layers.errors import InvalidFeatures, LayerError
from layers.kinds import UnknownKind
from scenarios.errors import ScenarioError, SpecError

log = logging.getLogger("ruimte.api")

PROBLEM_JSON = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    414: "URI too long",
    412: "Precondition failed",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiError(Exception):
    """An error with an HTTP status and a message safe to show to the client."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers


def problem(
    status: int,
    detail: str,
    request: Request | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    title: str | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = str(request.url.path)
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def feature_errors(exc: InvalidFeatures) -> list[dict[str, Any]]:
    """Each problem of an :class:`InvalidFeatures` as a JSON object."""
    return [
        {"feature": p.index, "field": p.field, "message": line}
        for p, line in zip(exc.problems, exc.lines, strict=False)
    ]


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers on ``app``."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.detail, request, exc.errors, exc.headers)

    @app.exception_handler(LayerError)
    async def _layer_error(request: Request, exc: LayerError) -> JSONResponse:
        errors = feature_errors(exc) if isinstance(exc, InvalidFeatures) else None
        return problem(exc.status, exc.message, request, errors)

    @app.exception_handler(AuthError)
    async def _auth_error(request: Request, exc: AuthError) -> JSONResponse:
        headers = (
            {"WWW-Authenticate": 'Bearer realm="ruimte-circulair"'} if exc.status == 401 else None
        )
        return problem(exc.status, exc.message, request, headers=headers)

    @app.exception_handler(ScenarioError)
    async def _scenario_error(request: Request, exc: ScenarioError) -> JSONResponse:
        errors = (
            [{"loc": p["loc"], "message": p["msg"]} for p in exc.problems]
            if isinstance(exc, SpecError)
            else None
        )
        return problem(exc.status, exc.message, request, errors)

    @app.exception_handler(UnknownKind)
    async def _unknown_kind(request: Request, exc: UnknownKind) -> JSONResponse:
        return problem(422, str(exc), request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        where = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
        if errors and all(e["loc"][:1] == ["path"] for e in errors):
            first = errors[0]
            return problem(
                404,
                f"not found: path parameter {first['loc'][-1]}: {first['message']}",
                request,
                errors,
            )
        return problem(422, f"invalid request: {where}", request, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = (
            exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        )
        return problem(exc.status_code, detail, request, headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        if isinstance(exc.orig, QueryCanceled):
            log.warning("statement timeout on %s", request.url.path)
            return problem(
                503,
                "the request took too long and was stopped; narrow it (bbox, limit) or try again",
                request,
                headers={"Retry-After": "5"},
            )
        log.warning("database unavailable: %s", str(exc).splitlines()[0])
        return problem(
            503,
            "the database is not reachable right now; try again shortly",
            request,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return problem(
                503,
                "the database connection was lost; try again shortly",
                request,
                headers={"Retry-After": "5"},
            )
        if isinstance(exc.orig, DataException):
            # Input should be range-checked before SQL; this is the net under that rule.
            log.error("unchecked input reached the database on %s: %s", request.url.path, exc.orig)
            return problem(
                422, "a value in the request is out of range or cannot be stored", request
            )
        log.exception("database error on %s", request.url.path)
        return problem(500, "internal error; it has been logged", request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem(500, "internal error; it has been logged", request)
