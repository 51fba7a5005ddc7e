"""Errors of the scenario package, each with the HTTP status it stands for.

Hierarchy::

    ScenarioError                 base; ``status`` 400
    ├── SpecError                 422: a spec that fails validation; ``problems`` lists
    │                                  every problem as {loc, msg}; nothing was stored
    ├── SpecNotFound              404: no saved spec or preset of that name (version)
    ├── RunNotFound               404: no run with that id
    └── RasterNotFound            404: the run has no raster of that name

The message is safe to show to users (no SQL, no stack traces).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ScenarioError(Exception):
    """Base class: a scenario request that cannot be carried out as asked."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SpecError(ScenarioError):
    """An invalid scenario spec; ``problems`` holds every problem found, not just the first."""

    status = 422
    title = "Invalid scenario spec"

    def __init__(self, problems: Sequence[dict[str, Any]], message: str | None = None):
        self.problems = [{"loc": list(p["loc"]), "msg": str(p["msg"])} for p in problems]
        head = (
            message or f"invalid scenario spec: {len(self.problems)} problem(s); nothing was stored"
        )
        super().__init__(head)

    @property
    def lines(self) -> list[str]:
        """Each problem as ``dotted.location: message``."""
        return [f"{format_loc(p['loc'])}: {p['msg']}" for p in self.problems]

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  - {line}" for line in self.lines)])


class SpecNotFound(ScenarioError):
    """No saved spec or preset of that name (or version)."""

    status = 404
    title = "Not found"


class RunNotFound(ScenarioError):
    """No run with that id."""

    status = 404
    title = "Not found"


class RasterNotFound(ScenarioError):
    """The run has no raster of that name."""

    status = 404
    title = "Not found"


def format_loc(loc: Sequence[Any]) -> str:
    """``['demand', 'categories', 0, 'growth_pct']`` → ``demand.categories[0].growth_pct``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(spec)"
