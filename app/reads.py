"""Connections for read-only request paths (OGC API items, tiles): autocommit.

Each statement runs on its own, without ``BEGIN`` and the ``ROLLBACK`` when the connection
goes back to the pool: two round trips fewer per request, which is much of the cost of a
small tile. Nothing is written on these paths; a page and its ``numberMatched`` may then
see two moments, as two requests would.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine


def read_connection(engine: Engine) -> Connection:
    """A pooled connection in autocommit mode (use it as a context manager)."""
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")
