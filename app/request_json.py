"""JSON request bodies, parsed strictly and within bounds, before any route looks at them.

What :func:`parse_json` refuses, each with a message naming where in the body:

- bytes that are not UTF-8 (422), and text that is not JSON (400);
- nesting deeper than ``max_depth`` arrays/objects (422; never a RecursionError);
- NUL characters and lone surrogates (``"\\u0000"``, ``"\\ud800"``) in any string or key
  (422): PostgreSQL cannot store them, and no planner means them;
- integers with more than :data:`MAX_INT_DIGITS` digits (a 5,001-digit number), numbers
  that overflow to infinity (``1e400``) and the non-JSON constants ``NaN``/``Infinity``
  (422).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from app.errors import ApiError

MAX_INT_DIGITS = 19
"""Longest integer accepted (64-bit range); longer ones are refused, not converted."""
_SUSPECT_NUMBER = re.compile(rf"\d{{{MAX_INT_DIGITS + 1}}}|[eE][+-]?\d{{3}}")
"""Text that may hold an integer too long or a float beyond the double range."""
MAX_LISTED = 20
"""Problems listed in one response at most (the count says how many there are)."""


class _Refused:
    """A number the decoder refused; the walk reports it with its place in the body."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


def _parse_int(text: str) -> int | _Refused:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        return _Refused(f"an integer of {digits} digits; at most {MAX_INT_DIGITS} are accepted")
    return int(text)


def _parse_float(text: str) -> float | _Refused:
    value = float(text)
    if not math.isfinite(value):
        shown = text if len(text) <= 20 else f"{text[:12]}… ({len(text)} characters)"
        return _Refused(f"the number {shown} is out of range")
    return value


def _parse_constant(name: str) -> _Refused:
    return _Refused(f"{name} is not a JSON number")


def _bad_text(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character (\\u0000)"
    for ch in value:
        if "\ud800" <= ch <= "\udfff":
            return f"contains a lone surrogate (\\u{ord(ch):04x}), which is not a character"
    return None


def _loc(path: list[str | int]) -> str:
    return ".".join(str(p) for p in path) or "(the body)"


_Node = tuple[Any, str | int] | None
"""A place in the document as (parent node, key), materialised only for a problem."""


def _path(node: _Node) -> list[str | int]:
    out: list[str | int] = []
    while node is not None:
        node, key = node
        out.append(key)
    return out[::-1]


_SCALARS = (int, float, bool, type(None))


def check_value(doc: Any, max_depth: int) -> list[dict[str, Any]]:
    """Every problem of a decoded JSON value (depth, text, numbers), as ``{loc, message}``.

    Iterative, so a deep document cannot exhaust the stack while it is checked.
    """
    problems: list[dict[str, Any]] = []
    stack: list[tuple[Any, _Node, int]] = [(doc, (None, "body"), 0)]
    while stack:
        value, node, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth + 1 > max_depth:
                problems.append(
                    {
                        "loc": _path(node),
                        "message": f"nested deeper than {max_depth} levels of arrays and objects",
                    }
                )
                continue
            if isinstance(value, dict):
                for key, item in value.items():
                    bad = _bad_text(key)
                    if bad:
                        problems.append({"loc": _path((node, key)), "message": f"the key {bad}"})
                    if not isinstance(item, _SCALARS):
                        stack.append((item, (node, key), depth + 1))
            else:
                stack.extend(
                    (item, (node, i), depth + 1)
                    for i, item in enumerate(value)
                    if not isinstance(item, _SCALARS)
                )
        elif isinstance(value, str):
            bad = _bad_text(value)
            if bad:
                problems.append({"loc": _path(node), "message": f"the text {bad}"})
        elif isinstance(value, _Refused):
            problems.append({"loc": _path(node), "message": value.message})
    return sorted(problems, key=lambda p: [str(x) for x in p["loc"]])


def parse_json(body: bytes, max_depth: int) -> Any:
    """The decoded JSON value of a request body, or an :class:`ApiError` (400/422)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(
            422,
            f"the body is not valid UTF-8 (byte {exc.start}): send JSON as UTF-8 text; "
            "lone surrogates and other invalid byte sequences are refused",
            errors=[{"loc": ["body"], "message": f"invalid UTF-8 at byte {exc.start}"}],
        ) from exc
    # The number hooks cost a Python call per number: only used when a number could need them.
    suspect = _SUSPECT_NUMBER.search(text) is not None
    try:
        doc = json.loads(
            text,
            parse_int=_parse_int if suspect else None,
            parse_float=_parse_float if suspect else None,
            parse_constant=_parse_constant,
        )
    except RecursionError as exc:
        raise ApiError(
            422,
            f"the body is nested deeper than {max_depth} levels of arrays and objects",
            errors=[{"loc": ["body"], "message": f"nested deeper than {max_depth} levels"}],
        ) from exc
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from exc
    problems = check_value(doc, max_depth)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ApiError(
            422,
            f"the body is refused: {_loc(first['loc'])}: {first['message']}{more}",
            errors=problems[:MAX_LISTED],
        )
    return doc
