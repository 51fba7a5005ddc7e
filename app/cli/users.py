"""``ruimte users`` and ``ruimte tokens``: access control."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from app.cli.common import CliError, engine, out
from app.roles import ROLES
from app.settings import get_auth_settings

if TYPE_CHECKING:
    from app.auth import AuthError

users = typer.Typer(
    help="Add and list users (roles: " + ", ".join(ROLES) + ").", no_args_is_help=True
)
tokens = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)


def _fail(exc: AuthError) -> CliError:
    return CliError(exc.message)


@users.command("add")
def users_add(
    name: Annotated[
        str, typer.Argument(help="User name, e.g. 'utrecht-ruimte' or an e-mail address.")
    ],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    gemeente: Annotated[
        str | None,
        typer.Option(help="For a gemeente-editor: the CBS code, e.g. GM0344 (default: none)."),
    ] = None,
) -> None:
    """Add a user with a role (a gemeente-editor also with a gemeente)."""
    from app.auth import AuthError, add_user

    try:
        with engine().begin() as conn:
            user = add_user(conn, name, role, gemeente.upper() if gemeente else None)
    except AuthError as exc:
        raise _fail(exc) from exc
    out.print(
        f"added user {user.name} ({user.role}{', ' + user.gemeente if user.gemeente else ''})",
        highlight=False,
    )


@users.command("list")
def users_list() -> None:
    """List the users and their roles."""
    from app.auth import list_users

    with engine().connect() as conn:
        rows = list_users(conn)
    table = Table("name", "role", "gemeente", "disabled", "created")
    for u in rows:
        table.add_row(
            u.name,
            u.role,
            u.gemeente or "",
            "yes" if u.disabled else "no",
            u.created_at.strftime("%Y-%m-%d"),
        )
    out.print(table)


@tokens.command("create")
def tokens_create(
    user: Annotated[str, typer.Argument(help="The user the token is for.")],
    days: Annotated[
        float | None,
        typer.Option(help="Lifetime in days (default: RUIMTE_AUTH_TOKEN_DAYS, else 90)."),
    ] = None,
    description: Annotated[str, typer.Option(help="What the token is for.")] = "",
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from app.auth import AuthError, create_token

    lifetime = days if days is not None else get_auth_settings().token_days
    try:
        with engine().begin() as conn:
            token, record = create_token(conn, user, expires_days=lifetime, description=description)
    except AuthError as exc:
        raise _fail(exc) from exc
    out.print(
        f"token {record.id} for {user}, valid until {record.expires_at:%Y-%m-%d %H:%M} UTC (shown only now):",
        highlight=False,
    )
    print(token)


@tokens.command("list")
def tokens_list(
    user: Annotated[
        str | None, typer.Option(help="Only this user's tokens (default: every user's).")
    ] = None,
) -> None:
    """List tokens (never their values): id, user, role, expiry, revoked, last used."""
    from app.auth import list_tokens

    with engine().connect() as conn:
        rows = list_tokens(conn, user)
    table = Table(
        "id", "prefix", "user", "role", "gemeente", "expires", "revoked", "last used", "description"
    )
    for t, u in rows:
        table.add_row(
            str(t.id),
            t.prefix + "…",
            u.name,
            u.role,
            u.gemeente or "",
            f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never",
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "",
            t.description,
        )
    out.print(table)


@tokens.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `ruimte tokens list`).")],
) -> None:
    """Revoke a token now."""
    from app.auth import AuthError, revoke_token

    try:
        with engine().begin() as conn:
            record = revoke_token(conn, token_id)
    except AuthError as exc:
        raise _fail(exc) from exc
    out.print(
        f"token {record.id} revoked at {record.revoked_at:%Y-%m-%d %H:%M} UTC", highlight=False
    )
