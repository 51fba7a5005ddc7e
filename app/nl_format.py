"""Numbers and dates the Dutch way, from one place: pages, charts, OGC HTML and map popups.

Thousands are grouped with ``.``, decimals follow ``,`` (``1.760,5``). Years and codes are
not quantities, so they are never grouped: a year prints ``2025`` (not ``2.025``), a CBS
code ``GM0344``, a milieucategorie ``3.1``, an id ``12345``. Which attributes of a layer are
years or codes is decided here too (:func:`plain_fields`), and the map popups get that list,
so ``ruimte-map.js`` only has to format the quantities (its ``formatNumber`` mirrors
:func:`getal`).

Jinja pages use the filters from :func:`install` (``{{ v | getal(1) }}``, ``{{ d | datum }}``,
``{{ v | waarde(field) }}``); :func:`page_templates` makes a template set with them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import Environment

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
EMPTY = "–"
MONTHS = (
    "januari februari maart april mei juni juli augustus september oktober november december"
).split()

#: Field types whose values are codes, shown exactly as stored.
CODE_TYPES = {"statcode", "milieucategorie", "enum", "text", "date"}
#: Integer attributes that count as codes or years by their name (ids, fids, years).
_PLAIN_NAME_RE = re.compile(r"(^|_)(id|fid|jaar|year|code|versie|version)$|jaar|^fid$")


def getal(value: Any, decimals: int | None = None) -> str:
    """``value`` as a Dutch number: ``1.760``, ``1.760,0`` (``decimals`` 1), ``24,8``.

    ``decimals`` None: integers without decimals, other numbers with up to two (trailing
    zeros dropped). Empty values are ``–``; text that is not a number is returned as is.
    """
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            return value
    if isinstance(value, float) and not math.isfinite(value):
        return EMPTY
    if decimals is None:
        if isinstance(value, int) or float(value).is_integer():
            text = f"{round(value):,d}"
        else:
            text = f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0,.") == "":
        text = text.lstrip("-")  # no "-0,0"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def getal_teken(value: Any, decimals: int = 1) -> str:
    """A Dutch number with its sign always shown (``+4,2``, ``−3,0``): differences."""
    if value is None or value == "":
        return EMPTY
    text = getal(value, decimals)
    if text.startswith("-"):
        return "−" + text[1:]
    return text if text.strip("0,") == "" else "+" + text


def procent(value: Any, decimals: int = 1) -> str:
    """A share (0–1) as a Dutch percentage: ``0.254`` → ``25,4%``."""
    if value is None or value == "":
        return EMPTY
    return getal(100 * float(value), decimals) + "%"


def jaar(value: Any) -> str:
    """A year, never grouped: ``2025``."""
    if value is None or value == "":
        return EMPTY
    try:
        return str(int(float(value)))
    except (TypeError, ValueError):
        return str(value)


def _as_date(value: Any) -> dt.date | dt.datetime | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def datum(value: Any, lang: bool = False) -> str:
    """A date as ``02-12-2026`` (``lang``: ``2 december 2026``); ISO text is read too."""
    if value is None or value == "":
        return EMPTY
    d = _as_date(value)
    if d is None:
        return str(value)
    if lang:
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    return f"{d.day:02d}-{d.month:02d}-{d.year}"


def datum_tijd(value: Any) -> str:
    """A moment as ``02-12-2026 16:52``."""
    d = _as_date(value)
    if d is None:
        return EMPTY if value in (None, "") else str(value)
    if not isinstance(d, dt.datetime):
        return datum(d)
    return f"{datum(d)} {d.hour:02d}:{d.minute:02d}"


def is_plain(name: str, field_type: str | None = None, label: str | None = None) -> bool:
    """Whether an attribute holds a code or a year (shown as stored, never as a number)."""
    if field_type in CODE_TYPES:
        return True
    if field_type in (None, "integer") and _PLAIN_NAME_RE.search(name):
        return True
    return bool(label and "jaar" in label.lower())


def plain_fields(kind: Any, extra: Iterable[str] = ()) -> list[str]:
    """The attributes of ``kind`` (a layer kind) and ``extra`` ones that are codes or years."""
    out = [
        name
        for name, f in getattr(kind, "fields", {}).items()
        if f.type in ("statcode", "milieucategorie", "integer") and is_plain(name, f.type, f.label)
    ]
    out += [n for n in extra if is_plain(n) and n not in out]
    return out


def waarde(
    value: Any,
    field: str | None = None,
    kind: Any = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """An attribute value for a page: numbers Dutch, codes/years as stored, dates Dutch.

    ``kind`` tells the field's type; ``names`` (statcode → naam) puts a gemeente's name
    beside its code: ``Utrecht (GM0344)``.
    """
    if value is None or value == "":
        return EMPTY
    spec = getattr(kind, "fields", {}).get(field) if kind is not None and field else None
    ftype = getattr(spec, "type", None)
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if ftype == "statcode" or (names and isinstance(value, str) and value in names):
        return gemeente(value, names)
    if ftype == "date":
        return datum(value)
    if ftype == "enum" and spec is not None and spec.values and str(value) in spec.values:
        return spec.values[str(value)]
    if isinstance(value, int | float) and not is_plain(
        field or "", ftype, getattr(spec, "label", None)
    ):
        return getal(value)
    return str(value)


def gemeente(code: Any, names: Mapping[str, str] | None) -> str:
    """A gemeente code with its name beside it: ``Utrecht (GM0344)`` (the code alone if unknown)."""
    if code is None or code == "":
        return EMPTY
    naam = (names or {}).get(str(code))
    return f"{naam} ({code})" if naam else str(code)


FILTERS = {
    "getal": getal,
    "getal_teken": getal_teken,
    "procent": procent,
    "jaar": jaar,
    "datum": datum,
    "datum_tijd": datum_tijd,
    "waarde": waarde,
    "gemeente": gemeente,
}


def install(env: Environment) -> Environment:
    """Add the Dutch formatting filters to a Jinja environment."""
    env.filters.update(FILTERS)
    return env


def page_templates() -> Jinja2Templates:
    """The app's page templates with the Dutch formatting filters."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    install(templates.env)
    return templates
