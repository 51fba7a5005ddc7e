"""Users, hashed API tokens, roles and what each role may do.

Roles:

``viewer``
    reads published layers and features that are not drafts (the same as the public);
``gemeente-editor``
    additionally sees the drafts of their own gemeente, and creates, edits and deletes
    features of the kinds in ``AuthSettings.gemeente_kinds`` (reserveringen, strategische
    locaties) that belong to their own gemeente;
``provincie-editor``
    sees and edits everything, saves and runs scenarios;
``admin``
    all of that, and manages users and tokens.

Tokens are random strings shown once; only their SHA-256 is stored. A token has an expiry
and can be revoked; a disabled user's tokens stop working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select, update

from app.models import ApiToken, User
from app.roles import ROLES
from layers.access import EVERYTHING, PUBLIC, Viewer

TOKEN_PREFIX = "rc_"
LAST_USED_RESOLUTION = timedelta(minutes=5)


class AuthError(Exception):
    """A request that lacks (401) or exceeds (403) the rights it needs; also bad admin input (422)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Principal:
    """Who makes a request."""

    name: str
    role: str
    gemeente: str | None = None
    user_id: int | None = None
    token_id: int | None = None
    via_session: bool = False
    """Identified by a browser session cookie (reading only), not a bearer token."""

    @property
    def anonymous(self) -> bool:
        """No token given."""
        return self.user_id is None

    @property
    def viewer(self) -> Viewer:
        """What this principal may read."""
        if self.role in ("provincie-editor", "admin"):
            return EVERYTHING
        if self.role == "gemeente-editor":
            return Viewer(gemeente=self.gemeente)
        return PUBLIC

    @property
    def label(self) -> str:
        """Recorded as ``created_by`` on changes."""
        return self.name if self.gemeente is None else f"{self.name} ({self.gemeente})"


ANONYMOUS = Principal(name="anoniem", role="viewer")


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def add_user(conn: Connection, name: str, role: str, gemeente: str | None = None) -> User:
    """Create a user; a gemeente-editor needs a gemeente (statcode), other roles none."""
    if role not in ROLES:
        raise AuthError(422, f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if role == "gemeente-editor":
        if not gemeente or not (
            gemeente.startswith("GM") and len(gemeente) == 6 and gemeente[2:].isdigit()
        ):
            raise AuthError(
                422, "a gemeente-editor needs --gemeente with a CBS code such as GM0344"
            )
    elif gemeente:
        raise AuthError(422, f"only a gemeente-editor has a gemeente, not a {role}")
    if conn.execute(select(User.id).where(User.name == name)).first():
        raise AuthError(409, f"a user named {name!r} exists already")
    user_id = conn.execute(
        User.__table__.insert().values(name=name, role=role, gemeente=gemeente).returning(User.id)
    ).scalar_one()
    return _user(conn, user_id)


def _user(conn: Connection, user_id: int) -> User:
    row = conn.execute(select(User.__table__).where(User.id == user_id)).one()
    return User(**row._mapping)


def get_user(conn: Connection, name: str) -> User:
    """A user by name (404-style :class:`AuthError` when unknown)."""
    row = conn.execute(select(User.__table__).where(User.name == name)).first()
    if row is None:
        raise AuthError(404, f"no user named {name!r}")
    return User(**row._mapping)


def list_users(conn: Connection) -> list[User]:
    """All users by name."""
    return [User(**r._mapping) for r in conn.execute(select(User.__table__).order_by(User.name))]


def create_token(
    conn: Connection, user_name: str, *, expires_days: float | None = 90, description: str = ""
) -> tuple[str, ApiToken]:
    """A new token for a user: the token (show it once) and its stored record."""
    user = get_user(conn, user_name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = _now() + timedelta(days=expires_days) if expires_days else None
    token_id = conn.execute(
        ApiToken.__table__.insert()
        .values(
            user_id=user.id,
            token_hash=hash_token(token),
            prefix=token[:10],
            description=description,
            expires_at=expires,
        )
        .returning(ApiToken.id)
    ).scalar_one()
    return token, _token(conn, token_id)


def _token(conn: Connection, token_id: int) -> ApiToken:
    row = conn.execute(select(ApiToken.__table__).where(ApiToken.id == token_id)).one()
    return ApiToken(**row._mapping)


def list_tokens(conn: Connection, user_name: str | None = None) -> list[tuple[ApiToken, User]]:
    """Tokens (never their values) with their users."""
    stmt = select(ApiToken.__table__, User.name.label("user_name"), User.role, User.gemeente).join(
        User, User.id == ApiToken.user_id
    )
    if user_name:
        stmt = stmt.where(User.name == user_name)
    out = []
    for r in conn.execute(stmt.order_by(ApiToken.id)):
        m = dict(r._mapping)
        user = User(
            id=m["user_id"], name=m.pop("user_name"), role=m.pop("role"), gemeente=m.pop("gemeente")
        )
        out.append((ApiToken(**m), user))
    return out


def revoke_token(conn: Connection, token_id: int) -> ApiToken:
    """Revoke a token now (idempotent)."""
    token = conn.execute(select(ApiToken.__table__).where(ApiToken.id == token_id)).first()
    if token is None:
        raise AuthError(404, f"no token with id {token_id}")
    conn.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    return _token(conn, token_id)


def principal_for_token(conn: Connection, token: str) -> Principal | None:
    """The principal of a valid token; None for unknown, expired, revoked or disabled."""
    return _principal(conn, ApiToken.token_hash == hash_token(token))


def principal_for_token_id(conn: Connection, token_id: int) -> Principal | None:
    """The principal of a valid token by id (browser sessions); None when no longer valid."""
    return _principal(conn, ApiToken.id == token_id)


def _principal(conn: Connection, which) -> Principal | None:  # noqa: ANN001 - an SQL condition
    row = conn.execute(
        select(
            ApiToken.id,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
            User.id.label("uid"),
            User.name,
            User.role,
            User.gemeente,
            User.disabled,
        )
        .join(User, User.id == ApiToken.user_id)
        .where(which)
    ).first()
    if row is None or row.revoked_at is not None or row.disabled:
        return None
    now = _now()
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        conn.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return Principal(
        name=row.name, role=row.role, gemeente=row.gemeente, user_id=row.uid, token_id=row.id
    )


# -- permissions ---------------------------------------------------------------------------


def require_editor(principal: Principal) -> None:
    """401 for the anonymous, 403 for viewers."""
    if principal.anonymous:
        raise AuthError(401, "this request needs a bearer token (Authorization: Bearer …)")
    if principal.role == "viewer":
        raise AuthError(403, f"{principal.name} is a viewer and may not change anything")


def require_province(principal: Principal, what: str) -> None:
    """Only the province (provincie-editor) and admins."""
    require_editor(principal)
    if principal.role not in ("provincie-editor", "admin"):
        raise AuthError(
            403, f"only the province may {what}; {principal.name} is a {principal.role}"
        )


def require_admin(principal: Principal) -> None:
    """Only admins."""
    require_editor(principal)
    if principal.role != "admin":
        raise AuthError(
            403,
            f"only an admin may manage users and tokens; {principal.name} is a {principal.role}",
        )


def check_feature_edit(
    principal: Principal, kind: str, gemeenten: set[str | None], gemeente_kinds: tuple[str, ...]
) -> None:
    """May ``principal`` change a feature of ``kind`` that belongs to ``gemeenten`` (before and after)?"""
    require_editor(principal)
    if principal.role in ("provincie-editor", "admin"):
        return
    if kind not in gemeente_kinds:
        raise AuthError(
            403, f"a gemeente-editor may not change {kind}; only {', '.join(gemeente_kinds)}"
        )
    others = sorted(g or "(geen gemeente)" for g in gemeenten if g != principal.gemeente)
    if others:
        raise AuthError(
            403,
            f"{principal.name} edits for {principal.gemeente} only, not for {', '.join(others)}",
        )
