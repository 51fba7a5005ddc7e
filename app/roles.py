"""The roles a user may have (a module of its own so that the CLI's help needs no models)."""

from __future__ import annotations

ROLES = ("viewer", "gemeente-editor", "provincie-editor", "admin")
