"""CQL2 filters (OGC API – Features Part 3) as SQL over the JSONB properties.

``filter`` text is parsed by the ``cql2`` library (CQL2 text and CQL2 JSON) into its
canonical CQL2 JSON form; :func:`filter_clause` walks that tree and builds a SQLAlchemy
expression. Property names are checked against the layer's queryables (the kind's fields
and the layer's kept extra fields) and every value is a bound parameter: no text of the
filter ever becomes SQL. What is not supported (functions, arithmetic, array and most
temporal operators, other spatial relations) is refused with a 400 that names it.

Supported: ``= <> < <= > >=``, ``LIKE`` (``%`` any text, ``_`` one character, ``\\`` escape),
``IN``, ``BETWEEN``, ``IS NULL``, ``AND``/``OR``/``NOT``, ``CASEI`` on both sides of a
comparison or ``LIKE``, ``S_INTERSECTS`` with a WKT/GeoJSON geometry or ``BBOX`` (in the
filter CRS, CRS84 by default), and on date properties ``T_INTERSECTS``, ``T_BEFORE``,
``T_AFTER``, ``T_EQUALS`` and ``T_DURING`` with a ``DATE``/``TIMESTAMP`` or an ``INTERVAL``.
A date property compared with a plain string takes it as a date: ``geldig_van >=
'2030-01-01'`` and GDAL's ``'2030-01-01T'`` both work.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import cql2
from sqlalchemy import (
    Boolean,
    Date,
    Float,
    String,
    and_,
    bindparam,
    cast,
    false,
    func,
    not_,
    or_,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from layers.errors import LayerError
from layers.kinds import Kind
from layers.models import STORAGE_SRID, Feature

#: Filter languages accepted (``filter-lang``); ``cql-text`` is the name GDAL 3.6 sends for
#: CQL text (the draft before CQL2), taken as CQL2 text.
TEXT_LANGS = ("cql2-text", "cql-text")
JSON_LANGS = ("cql2-json",)
FILTER_LANGS = (*TEXT_LANGS, *JSON_LANGS)
#: Deepest nesting of a filter (parentheses, or JSON arrays/objects). The parser is native
#: code that recurses: thousands of parentheses would crash the process, so they never
#: reach it.
MAX_DEPTH = 40
#: Longest filter in characters.
MAX_LENGTH = 8_000
#: The names a filter may use for the geometry.
GEOMETRY_NAMES = ("geometry", "geom", "the_geom", "shape")

QUERYABLE_TYPES = {
    "text": "string",
    "statcode": "string",
    "enum": "string",
    "milieucategorie": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "date": "string",
}


class FilterError(LayerError):
    """A filter that cannot be parsed or uses something this service does not support."""

    status = 400
    title = "Bad request"


def queryable_types(kind: Kind, extra_fields: Mapping[str, str]) -> dict[str, str]:
    """Property name → field type, for every property a filter may name."""
    out = {name: spec.type for name, spec in kind.fields.items()}
    for name, ftype in extra_fields.items():
        out.setdefault(name, ftype)
    return out


def _depth_of_text(text: str) -> int:
    depth = deepest = 0
    quoted = False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif not quoted and ch == ")":
            depth -= 1
    return deepest


def _too_deep(value: Any, limit: int) -> bool:
    """Whether JSON ``value`` nests arrays and objects more than ``limit`` levels deep."""
    if limit < 0:
        return True
    if isinstance(value, dict):
        return any(_too_deep(v, limit - 1) for v in value.values())
    if isinstance(value, list):
        return any(_too_deep(v, limit - 1) for v in value)
    return False


def parse_filter(text: str, lang: str | None) -> dict[str, Any]:
    """``filter`` text in ``lang`` (default: CQL2 text) as canonical CQL2 JSON; 400 if invalid."""
    lang = (lang or "cql2-text").strip().lower()
    if lang not in FILTER_LANGS:
        raise FilterError(f"filter-lang {lang!r} is not supported; use cql2-text or cql2-json")
    if len(text) > MAX_LENGTH:
        raise FilterError(f"filter is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise FilterError("filter is empty")
    try:
        if lang in TEXT_LANGS:
            if _depth_of_text(text) > MAX_DEPTH:
                raise FilterError(f"filter is nested more than {MAX_DEPTH} levels deep")
            expr = cql2.parse_text(text)
        else:
            try:
                doc = json.loads(text)
            except (ValueError, RecursionError) as exc:
                raise FilterError("filter is not valid JSON (filter-lang cql2-json)") from exc
            if _too_deep(doc, 2 * MAX_DEPTH):
                raise FilterError(f"filter is nested more than {MAX_DEPTH} levels deep")
            expr = cql2.parse_json(text)
        tree = expr.to_json()
    except FilterError:
        raise
    except (cql2.ParseError, cql2.ValidationError, ValueError, RecursionError) as exc:
        first = str(exc).strip().splitlines()
        where = " ".join(line.strip() for line in first if line.strip())[:300]
        raise FilterError(f"filter is not valid {lang}: {where}") from exc
    if _too_deep(tree, 2 * MAX_DEPTH):
        raise FilterError(f"filter is nested more than {MAX_DEPTH} levels deep")
    return tree


# -- translation --------------------------------------------------------------------------

_COMPARISONS = {"=", "<>", "<", "<=", ">", ">="}
_TEMPORAL = {"t_intersects", "t_before", "t_after", "t_equals", "t_during"}


class _Translator:
    """One filter's translation: the layer's queryables and the filter CRS."""

    def __init__(self, kind: Kind, extra_fields: Mapping[str, str], filter_srid: int):
        self.types = queryable_types(kind, extra_fields)
        self.filter_srid = filter_srid
        self.n = 0

    # values ------------------------------------------------------------------------------

    def bind(self, value: Any, type_: Any = None) -> ColumnElement:
        self.n += 1
        return bindparam(f"cql_{self.n}", value, type_=type_)

    def property_name(self, node: Any) -> str | None:
        if isinstance(node, dict) and set(node) == {"property"}:
            name = node["property"]
            if not isinstance(name, str):
                raise FilterError("a property name must be text")
            return name
        return None

    def field_type(self, name: str) -> str:
        if name in self.types:
            return self.types[name]
        if name.lower() in GEOMETRY_NAMES:
            raise FilterError(
                f"property {name!r} is the geometry: compare it with S_INTERSECTS only"
            )
        raise FilterError(
            f"unknown property {name!r} in filter; queryables: {', '.join(sorted(self.types))}"
        )

    def literal(self, node: Any) -> Any:
        """A plain literal: text, number, boolean, date or timestamp (as date)."""
        if isinstance(node, dict) and "op" in node:
            raise FilterError(
                f"filter operator {node['op']!r} is not supported as a value "
                "(no functions or arithmetic; compare a property with a literal or a property)"
            )
        if isinstance(node, bool | int | float | str) or node is None:
            return node
        if isinstance(node, dict) and set(node) == {"date"}:
            return _as_date(node["date"])
        if isinstance(node, dict) and set(node) == {"timestamp"}:
            return _as_date(node["timestamp"])
        raise FilterError(f"unsupported value in filter: {_describe(node)}")

    def operand(self, node: Any, other: Any) -> tuple[ColumnElement, ColumnElement]:
        """A property and a literal (either order) as typed SQL expressions, side by side."""
        left, right = self.property_name(node), self.property_name(other)
        for side in (node, other):
            if isinstance(side, dict) and "op" in side:
                self.literal(side)
        if left is not None and right is not None:
            lt, rt = self.field_type(left), self.field_type(right)
            return self.column(left, lt, None), self.column(right, rt, None)
        if left is None and right is None:
            raise FilterError(
                "a comparison in the filter needs a property on one side: "
                f"{_describe(node)}, {_describe(other)}"
            )
        name, value = (left, other) if left is not None else (right, node)
        ftype = self.field_type(name)
        lit = self.literal(value)
        col = self.column(name, ftype, lit)
        typed = self.typed_value(name, ftype, lit)
        return (col, typed) if left is not None else (typed, col)

    def column(self, name: str, ftype: str, sample: Any) -> ColumnElement:
        raw = Feature.properties[name].astext
        if ftype in ("integer", "number"):
            return cast(raw, Float)
        if ftype == "date":
            return cast(raw, Date)
        if ftype == "boolean":
            return cast(raw, Boolean)
        if ftype == "milieucategorie" and isinstance(sample, int | float):
            return cast(raw, Float)
        return raw

    def typed_value(self, name: str, ftype: str, value: Any) -> ColumnElement:
        if value is None:
            raise FilterError(f"compare {name} with NULL using IS NULL")
        if ftype in ("integer", "number") or (
            ftype == "milieucategorie" and isinstance(value, int | float)
        ):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FilterError(f"{name} is a number; {value!r} is not")
            return self.bind(float(value), Float)
        if ftype == "date":
            if isinstance(value, str):
                value = _as_date(value, name)
            if not isinstance(value, date):
                raise FilterError(f"{name} is a date; {value!r} is not")
            return self.bind(value, Date)
        if ftype == "boolean":
            if not isinstance(value, bool):
                raise FilterError(f"{name} is true or false; {value!r} is not")
            return self.bind(value, Boolean)
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, date):
            value = value.isoformat()
        if isinstance(value, float) and value.is_integer():
            value = str(int(value))
        return self.bind(str(value), String)

    # nodes -------------------------------------------------------------------------------

    def clause(self, node: Any, depth: int = 0) -> ColumnElement:
        if depth > 2 * MAX_DEPTH:
            raise FilterError(f"filter is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, bool):
            return true() if node else false()
        if not isinstance(node, dict) or "op" not in node:
            raise FilterError(f"not a condition: {_describe(node)}")
        op = str(node["op"]).lower()
        args = node.get("args") or []
        if not isinstance(args, list):
            raise FilterError(f"the arguments of {op} must be a list")
        if op in ("and", "or"):
            if len(args) < 2:
                raise FilterError(f"{op.upper()} needs two or more conditions")
            parts = [self.clause(a, depth + 1) for a in args]
            return and_(*parts) if op == "and" else or_(*parts)
        if op == "not":
            if len(args) != 1:
                raise FilterError("NOT takes one condition")
            return not_(self.clause(args[0], depth + 1))
        if op in _COMPARISONS:
            return self.comparison(op, args)
        if op == "like":
            return self.like(args)
        if op == "in":
            return self.in_(args)
        if op == "between":
            return self.between(args)
        if op == "isnull":
            return self.is_null(args)
        if op == "s_intersects":
            return self.intersects(args)
        if op in _TEMPORAL:
            return self.temporal(op, args)
        raise FilterError(
            f"filter operator {node['op']!r} is not supported; supported: comparisons "
            "(= <> < <= > >=), LIKE, IN, BETWEEN, IS NULL, AND, OR, NOT, CASEI, S_INTERSECTS, "
            "T_INTERSECTS, T_BEFORE, T_AFTER, T_EQUALS, T_DURING"
        )

    def _casei(self, node: Any) -> tuple[Any, bool]:
        if isinstance(node, dict) and str(node.get("op", "")).lower() == "casei":
            args = node.get("args") or []
            if not isinstance(args, list) or len(args) != 1:
                raise FilterError("CASEI takes one argument")
            return args[0], True
        return node, False

    def comparison(self, op: str, args: list) -> ColumnElement:
        if len(args) != 2:
            raise FilterError(f"{op} compares two values")
        a, ci_a = self._casei(args[0])
        b, ci_b = self._casei(args[1])
        left, right = self.operand(a, b)
        if ci_a or ci_b:
            left, right = func.lower(cast(left, String)), func.lower(cast(right, String))
        return {
            "=": left == right,
            "<>": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[op]

    def like(self, args: list) -> ColumnElement:
        if len(args) != 2:
            raise FilterError("LIKE takes a property and a pattern")
        a, ci_a = self._casei(args[0])
        b, ci_b = self._casei(args[1])
        name = self.property_name(a)
        if name is None or not isinstance(b, str):
            raise FilterError("LIKE needs a property on the left and a text pattern on the right")
        self.field_type(name)
        col = Feature.properties[name].astext
        pattern = self.bind(b, String)
        if ci_a or ci_b:
            return func.lower(col).like(func.lower(pattern), escape="\\")
        return col.like(pattern, escape="\\")

    def in_(self, args: list) -> ColumnElement:
        if len(args) != 2 or not isinstance(args[1], list):
            raise FilterError("IN takes a property and a list of values")
        name = self.property_name(args[0])
        if name is None:
            raise FilterError("IN needs a property on the left")
        if not args[1]:
            return false()
        ftype = self.field_type(name)
        values = [self.literal(v) for v in args[1]]
        col = self.column(name, ftype, values[0])
        return col.in_([self.typed_value(name, ftype, v) for v in values])

    def between(self, args: list) -> ColumnElement:
        if len(args) != 3:
            raise FilterError("BETWEEN takes a property, a low and a high value")
        name = self.property_name(args[0])
        if name is None:
            raise FilterError("BETWEEN needs a property on the left")
        ftype = self.field_type(name)
        low, high = self.literal(args[1]), self.literal(args[2])
        col = self.column(name, ftype, low)
        return col.between(self.typed_value(name, ftype, low), self.typed_value(name, ftype, high))

    def is_null(self, args: list) -> ColumnElement:
        if len(args) != 1:
            raise FilterError("IS NULL takes one property")
        name = self.property_name(args[0])
        if name is None:
            raise FilterError("IS NULL needs a property")
        self.field_type(name)
        return Feature.properties[name].astext.is_(None)

    def geometry(self, node: Any) -> ColumnElement:
        if isinstance(node, dict) and set(node) == {"bbox"}:
            box = node["bbox"]
            if not isinstance(box, list) or len(box) not in (4, 6):
                raise FilterError("BBOX takes 4 numbers: minx, miny, maxx, maxy")
            if len(box) == 6:
                box = [box[0], box[1], box[3], box[4]]
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box):
                raise FilterError("BBOX takes numbers")
            if self.filter_srid in (4326, 4258) and not (
                -180 <= box[0] <= box[2] <= 180 and -90 <= box[1] <= box[3] <= 90
            ):
                raise FilterError("BBOX in the filter is not in degrees (filter-crs) or min > max")
            if not (box[0] <= box[2] and box[1] <= box[3]):
                raise FilterError("BBOX in the filter has a minimum larger than its maximum")
            env = func.ST_MakeEnvelope(*(self.bind(float(v), Float) for v in box), self.filter_srid)
        elif (
            isinstance(node, dict)
            and "type" in node
            and ("coordinates" in node or "geometries" in node)
        ):
            text = json.dumps(node)
            env = func.ST_SetSRID(
                func.ST_GeomFromGeoJSON(self.bind(text, String)), self.filter_srid
            )
            self.check_geometry(text)
        else:
            raise FilterError(f"S_INTERSECTS needs a geometry (WKT or BBOX): {_describe(node)}")
        if self.filter_srid != STORAGE_SRID:
            env = to_storage(env, self.filter_srid)
        return env

    def check_geometry(self, geojson: str) -> None:
        """The geometry must be valid GeoJSON that shapely reads (else PostGIS would fail)."""
        import shapely

        try:
            geom = shapely.from_geojson(geojson)
        except Exception as exc:  # noqa: BLE001 - GEOS reports bad input in many ways
            raise FilterError(f"the geometry in the filter is not valid: {exc}") from exc
        if geom.is_empty:
            raise FilterError("the geometry in the filter is empty")
        if not geom.is_valid:
            raise FilterError(
                f"the geometry in the filter is not valid: {shapely.is_valid_reason(geom)}"
            )
        if self.filter_srid in (4326, 4258):
            minx, miny, maxx, maxy = geom.bounds
            if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
                raise FilterError("the geometry in the filter is not in degrees (filter-crs)")

    def intersects(self, args: list) -> ColumnElement:
        if len(args) != 2:
            raise FilterError("S_INTERSECTS takes the geometry and a geometry")
        a, b = args
        if self.property_name(b) is not None:
            a, b = b, a
        name = self.property_name(a)
        if name is None or name.lower() not in GEOMETRY_NAMES:
            raise FilterError(
                "S_INTERSECTS compares the geometry property (geometry) with a geometry"
            )
        other = self.geometry(b)
        return and_(Feature.geom.op("&&")(other), func.ST_Intersects(Feature.geom, other))

    def temporal(self, op: str, args: list) -> ColumnElement:
        if len(args) != 2:
            raise FilterError(f"{op.upper()} takes a date property and a date or interval")
        name = self.property_name(args[0])
        if name is None or self.field_type(name) != "date":
            raise FilterError(f"{op.upper()} needs a date property on the left")
        col = cast(Feature.properties[name].astext, Date)
        lo, hi = _interval(args[1])
        lo_b = self.bind(lo, Date) if lo else None
        hi_b = self.bind(hi, Date) if hi else None
        if op == "t_before":
            return col < lo_b if lo_b is not None else false()
        if op == "t_after":
            return col > hi_b if hi_b is not None else false()
        if op == "t_equals":
            if lo != hi or lo is None:
                raise FilterError("T_EQUALS of a date compares it with one date")
            return col == lo_b
        parts = [col.is_not(None)]
        if op == "t_during":
            parts += [col > lo_b] if lo_b is not None else []
            parts += [col < hi_b] if hi_b is not None else []
        else:
            parts += [col >= lo_b] if lo_b is not None else []
            parts += [col <= hi_b] if hi_b is not None else []
        return and_(*parts)


#: Where RD New coordinates mean something (lon/lat, around EPSG:28992's area of use): a
#: filter geometry in degrees is cut to it before it is transformed, so that a box around
#: the world does not turn into nonsense (or an error) in RD.
RD_AREA_DEGREES = (2.0, 49.5, 8.5, 55.0)


def to_storage(geom: ColumnElement, srid: int) -> ColumnElement:
    """A filter geometry in ``srid`` (CRS84/EPSG:4258 axis order x/y) in RD New: cut to
    where RD is defined, densified so that its edges follow their curve, transformed."""
    if srid in (4326, 4258):
        area = func.ST_MakeEnvelope(*RD_AREA_DEGREES, srid)
        geom = func.ST_Segmentize(func.ST_Intersection(geom, area), 0.01)
    return func.ST_Transform(geom, STORAGE_SRID)


def _interval(node: Any) -> tuple[date | None, date | None]:
    if isinstance(node, dict) and set(node) == {"interval"}:
        ends = node["interval"]
        if not isinstance(ends, list) or len(ends) != 2:
            raise FilterError("INTERVAL takes a start and an end")
        lo, hi = (_interval_end(e) for e in ends)
        if lo and hi and lo > hi:
            raise FilterError("INTERVAL ends before it starts")
        return lo, hi
    if isinstance(node, dict) and set(node) & {"date", "timestamp"}:
        d = _as_date(next(iter(node.values())))
        return d, d
    if isinstance(node, str):
        d = _as_date(node)
        return d, d
    raise FilterError(f"a temporal operator needs a DATE, TIMESTAMP or INTERVAL: {_describe(node)}")


def _interval_end(node: Any) -> date | None:
    if node == "..":
        return None
    if isinstance(node, dict) and set(node) & {"date", "timestamp"}:
        node = next(iter(node.values()))
    if isinstance(node, str):
        return _as_date(node)
    raise FilterError(f"an INTERVAL end must be a date, a timestamp or '..': {_describe(node)}")


def _as_date(text: Any, name: str | None = None) -> date:
    """An RFC 3339 date or date-time (also ``2030-01-01T``, as GDAL writes it) as a UTC date."""
    if isinstance(text, date):
        return text
    if not isinstance(text, str):
        raise FilterError(f"not a date: {text!r}")
    value = text.strip()
    try:
        return parse_instant(value)
    except ValueError as exc:
        what = f"{name} is a date; " if name else ""
        raise FilterError(f"{what}{text!r} is not an RFC 3339 date or date-time") from exc


def parse_instant(value: str) -> date:
    """``YYYY-MM-DD``, ``YYYY-MM-DDT`` or an RFC 3339 date-time (UTC date); ValueError if not."""
    value = value.strip()
    if value.endswith(("T", "t")) and len(value) == 11:
        value = value[:-1]
    if len(value) == 10:
        return date.fromisoformat(value)
    if len(value) < 10 or value[10] not in "Tt ":
        raise ValueError(value)
    moment = datetime.fromisoformat(value[:10] + "T" + value[11:].replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def _describe(node: Any) -> str:
    text = json.dumps(node, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def filter_clause(
    tree: Mapping[str, Any] | bool,
    kind: Kind,
    extra_fields: Mapping[str, str],
    filter_srid: int = 4326,
) -> ColumnElement:
    """SQL condition on ``features`` for a parsed filter (:func:`parse_filter`); 400 if it
    names an unknown property or uses what is not supported."""
    try:
        return _Translator(kind, extra_fields, filter_srid).clause(tree)
    except RecursionError as exc:
        raise FilterError(f"filter is nested more than {MAX_DEPTH} levels deep") from exc
