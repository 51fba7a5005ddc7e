"""Log in and out of the maps in a browser (``/inloggen``, ``/uitloggen``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.auth import principal_for_token
from app.dependencies import AuthSettingsDep, EngineDep, PrincipalDep
from app.errors import ApiError
from app.session import COOKIE

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")


def _same_origin(request: Request) -> None:
    """Refuse a form post from another site (the cookie is SameSite=Strict as well)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and urlsplit(origin).netloc != request.url.netloc:
        raise ApiError(403, "log-in forms are accepted from this site only")


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


@router.get("/inloggen", response_class=HTMLResponse)
def login_form(request: Request, principal: PrincipalDep, next: str | None = None) -> HTMLResponse:  # noqa: A002
    """The log-in form: paste an API token to see what your role may see on the maps."""
    return templates.TemplateResponse(
        request, "login.html", {"principal": principal, "next": _safe_next(next), "error": None}
    )


@router.post("/inloggen", response_class=HTMLResponse)
def login(
    request: Request,
    engine: EngineDep,
    token: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:  # noqa: A002
    """Check the token and start a session (a signed, HttpOnly, SameSite=Strict cookie)."""
    _same_origin(request)
    with engine.begin() as conn:
        principal = principal_for_token(conn, token.strip())
    if principal is None:
        ctx = {
            "principal": None,
            "next": _safe_next(next),
            "error": "Dit token is onbekend, verlopen of ingetrokken.",
        }
        return templates.TemplateResponse(request, "login.html", ctx, status_code=401)
    sessions = request.app.state.sessions
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        sessions.sign(principal.token_id),
        max_age=sessions.max_age_s,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/api/session/write-token")
def write_token(request: Request, principal: PrincipalDep, auth: AuthSettingsDep) -> Response:
    """A short-lived write token for the signed-in editor's map page (see app.session)."""
    if not principal.via_session:
        raise ApiError(401, "sign in at /inloggen first: write tokens are for browser sessions")
    if principal.role not in ("gemeente-editor", "provincie-editor", "admin"):
        raise ApiError(403, f"{principal.name} is a {principal.role} and does not edit")
    seconds = int(auth.write_token_minutes * 60)
    token = request.app.state.sessions.sign_write(principal.token_id, seconds)
    body = {
        "token": token,
        "expires_in": seconds,
        "user": principal.name,
        "role": principal.role,
        "gemeente": principal.gemeente,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/uitloggen")
def logout(request: Request) -> Response:
    """End the session."""
    _same_origin(request)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
