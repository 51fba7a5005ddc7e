"""Matching a source's columns to a kind's fields."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from layers.kinds.schema import Kind, Problem

#: Names taken by the store and the export formats; a source field with one of them is
#: kept as ``src_<name>``.
RESERVED_NAMES = frozenset(
    {"fid", "id", "geom", "geometry", "wkt", "gpkg_fid", "ogc_fid", "gemeente_owner"}
)


def sanitize_field_name(name: str) -> str:
    """Lower-case snake_case name usable as a JSON key, SQL identifier and GPKG field."""
    clean = re.sub(r"[^a-z0-9_]+", "_", str(name).strip().lower()).strip("_")
    if not clean or not clean[0].isalpha():
        clean = f"f_{clean}" if clean else "field"
    if clean in RESERVED_NAMES:
        clean = f"src_{clean}"
    return clean[:63]


@dataclass(frozen=True)
class ColumnMatch:
    """Kind field → source column, and how each was matched."""

    mapping: dict[str, str]
    how: dict[str, str]
    """Field → ``map`` (an explicit field mapping), ``profile``, ``name`` or ``alias``."""
    extras: list[str]
    problems: list[Problem]


def match_columns(
    columns: Iterable[str],
    kind: Kind,
    field_map: Mapping[str, str] | None = None,
    profile_columns: Mapping[str, Sequence[str]] | None = None,
) -> ColumnMatch:
    """Match source columns to kind fields.

    Order: ``field_map`` (FIELD=SOURCE), the profile's source names for the field (the
    first one present), the exact name, the name in another case, then the kind's aliases
    (and their shapefile-truncated forms). A column serves one field only.
    """
    cols = list(columns)
    lower: dict[str, str] = {}
    for c in cols:
        lower.setdefault(str(c).lower(), c)
    problems: list[Problem] = []
    mapping: dict[str, str] = {}
    how: dict[str, str] = {}
    for target, source in (field_map or {}).items():
        if target not in kind.fields:
            problems.append(
                Problem(
                    None,
                    target,
                    f"the field mapping names field {target!r}, which kind {kind.name!r} does "
                    f"not have; its fields: {', '.join(kind.fields)}",
                    cli_hint=f"check --map {target}={source}",
                )
            )
        elif source not in cols and source.lower() not in lower:
            problems.append(
                Problem(
                    None,
                    target,
                    f"the field mapping {target}={source}: the source has no column "
                    f"{source!r}; its columns: {', '.join(map(str, cols)) or '(none)'}",
                    cli_hint=f"check --map {target}={source}",
                )
            )
        else:
            mapping[target] = source if source in cols else lower[source.lower()]
            how[target] = "map"
    used = set(mapping.values())
    for target, names in (profile_columns or {}).items():
        if target in mapping or target not in kind.fields:
            continue
        for candidate in names:
            src = candidate if candidate in cols else lower.get(str(candidate).lower())
            if src is not None and src not in used:
                mapping[target] = src
                how[target] = "profile"
                used.add(src)
                break
    for fspec in kind.fields.values():
        if fspec.name in mapping:
            continue
        candidates = (fspec.name, *fspec.aliases)
        # Shapefiles cut field names to 10 characters: max_milieucategorie -> max_milieu.
        candidates += tuple(c[:10] for c in candidates if len(c) > 10)
        for candidate in candidates:
            src = candidate if candidate in cols else lower.get(candidate.lower())
            if src is not None and src not in used:
                mapping[fspec.name] = src
                how[fspec.name] = "name" if candidate.lower() == fspec.name else "alias"
                used.add(src)
                break
    extras = [c for c in cols if c not in used]
    return ColumnMatch(mapping, how, extras, problems)


def resolve_columns(
    columns: Iterable[str], kind: Kind, field_map: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str], list[Problem]]:
    """Match source columns to kind fields (see :func:`match_columns`).

    Returns kind field → source column, the source columns left over (extra fields) and
    problems with the mapping itself.
    """
    match = match_columns(columns, kind, field_map)
    return match.mapping, match.extras, match.problems
