"""What a feature service says about a layer beyond the catalogue: extents in CRS84 and time,
and a cached catalogue lookup for the hot paths (items, tiles).

The spatial extent comes from the catalogue (RD New bbox of the version), transformed
along its densified edges; the temporal extent from the validity dates of the features
the reader may see (through :mod:`layers.query`, so the visibility rule applies).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pyproj import Transformer
from sqlalchemy import Connection, Date, cast, func, select

from layers.access import Viewer, layer_visibility
from layers.errors import LayerNotFound
from layers.kinds import Kind, load_kinds
from layers.models import Feature, Layer
from layers.query import FAMILY_DIMENSIONS, FeatureQuery, _where
from layers.store import LayerInfo, get_layer

_CACHE_SIZE = 256
_cache: OrderedDict[tuple, LayerInfo] = OrderedDict()
_latest: dict[tuple[str, Viewer | None], LayerInfo] = {}
_cache_lock = threading.Lock()


def known_layer(name: str, viewer: Viewer | None) -> LayerInfo | None:
    """The layer as :func:`current_layer` last found it for ``viewer``, without asking the
    database (None: not seen yet). Callers must check it is still current, e.g. with the
    state that :func:`layers.tiles.layer_tile_checked` returns."""
    with _cache_lock:
        return _latest.get((name, viewer))


def current_layer(conn: Connection, name: str, viewer: Viewer | None) -> LayerInfo:
    """:func:`layers.store.get_layer` (current version, no version list), cached.

    One light query checks that ``viewer`` may see the layer and reads its id, current
    version and ``updated_at``; every change to a layer (a new version, metadata,
    publishing) moves one of them, so the cached :class:`LayerInfo` for that key is
    current. Saves the two ORM queries of ``get_layer`` per request.
    """
    row = conn.execute(
        select(Layer.id, Layer.current_version, Layer.updated_at).where(
            Layer.name == name, layer_visibility(viewer)
        )
    ).first()
    if row is None:
        raise LayerNotFound(f"no layer named {name!r}", layer_name=name)
    # The viewer is part of the key: counts and extent are those of what they may see.
    key = (name, row.id, row.current_version, row.updated_at, viewer)
    with _cache_lock:
        info = _cache.get(key)
        if info is not None:
            _cache.move_to_end(key)
            _latest[(name, viewer)] = info
            return info
    info = get_layer(conn, name, viewer=viewer, with_versions=False)
    with _cache_lock:
        _cache[key] = info
        _latest[(name, viewer)] = info
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        if len(_latest) > 4 * _CACHE_SIZE:
            _latest.clear()
    return info


def forget_layer(name: str, viewer: Viewer | None) -> None:
    """Drop what :func:`known_layer` remembers (it turned out to be stale)."""
    with _cache_lock:
        _latest.pop((name, viewer), None)


@lru_cache(maxsize=1)
def _rd_to_crs84() -> Transformer:
    return Transformer.from_crs(28992, "OGC:CRS84", always_xy=True)


@lru_cache(maxsize=512)
def lonlat_bbox(rd_bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """An RD New bbox as a CRS84 bbox that holds it (edges densified, 6 decimals out)."""
    minx, miny, maxx, maxy = rd_bbox
    t = np.linspace(0.0, 1.0, 21)
    xs = np.concatenate(
        [minx + (maxx - minx) * t, np.full(21, maxx), maxx - (maxx - minx) * t, np.full(21, minx)]
    )
    ys = np.concatenate(
        [np.full(21, miny), miny + (maxy - miny) * t, np.full(21, maxy), maxy - (maxy - miny) * t]
    )
    lon, lat = _rd_to_crs84().transform(xs, ys)
    return (
        float(np.floor(lon.min() * 1e6) / 1e6),
        float(np.floor(lat.min() * 1e6) / 1e6),
        float(np.ceil(lon.max() * 1e6) / 1e6),
        float(np.ceil(lat.max() * 1e6) / 1e6),
    )


def temporal_extent(
    conn: Connection, info: LayerInfo, kind: Kind, q: FeatureQuery | None = None
) -> tuple[str | None, str | None] | None:
    """Earliest start and latest end of the features' validity (None: the kind has no time).

    An open start or end of any feature makes that end of the extent open (None).
    """
    if kind.temporal is None:
        return None
    start_field, end_field = kind.temporal
    start, end = Feature.properties[start_field].astext, Feature.properties[end_field].astext
    row = conn.execute(
        select(
            func.min(cast(start, Date)),
            func.max(cast(end, Date)),
            func.count().filter(start.is_(None)),
            func.count().filter(end.is_(None)),
        ).where(*_where(info, kind, q or FeatureQuery()))
    ).one()
    lo = None if row[2] or row[0] is None else row[0].isoformat()
    hi = None if row[3] or row[1] is None else row[1].isoformat()
    return (lo, hi)


# -- collections of one geometry type -------------------------------------------------------

#: Kinds whose layers may mix geometry families.
MIXED_KINDS = ("any", "point_or_polygon")
_families: dict[tuple, tuple[str, ...]] = {}


@dataclass(frozen=True)
class CollectionRef:
    """A feature collection: a whole layer, or the part of a mixed layer of one geometry family
    (``hoofdstructuur-knooppunten``), for clients that need one geometry type per collection."""

    id: str
    info: LayerInfo
    kind: Kind
    family: str | None = None

    @property
    def title(self) -> str:
        """The layer's title, with the part's name for a part."""
        if self.family is None:
            return self.info.title
        return f"{self.info.title} – {self.kind.part_name(self.family)}"


def geometry_families(
    conn: Connection, info: LayerInfo, kind: Kind, viewer: Viewer | None
) -> tuple[str, ...]:
    """The geometry families in the layer as ``viewer`` sees it (polygon, line, point order).

    Kinds of one family answer without a query; others are asked once per layer version."""
    if kind.geometry not in MIXED_KINDS:
        return (kind.geometry,)
    key = (info.id, info.version, viewer)
    with _cache_lock:
        if key in _families:
            return _families[key]
    dims = set(
        conn.execute(
            select(func.ST_Dimension(Feature.geom))
            .where(*_where(info, kind, FeatureQuery(viewer=viewer)))
            .distinct()
        ).scalars()
    )
    found = tuple(f for f in ("polygon", "line", "point") if FAMILY_DIMENSIONS[f] in dims)
    with _cache_lock:
        if len(_families) > 4 * _CACHE_SIZE:
            _families.clear()
        _families[key] = found
    return found


def collections_of(conn: Connection, info: LayerInfo, viewer: Viewer | None) -> list[CollectionRef]:
    """The collections a layer is offered as: itself, or one per geometry family it mixes."""
    kind = load_kinds()[info.kind]
    families = geometry_families(conn, info, kind, viewer)
    if len(families) < 2:
        return [CollectionRef(info.name, info, kind)]
    return [CollectionRef(f"{info.name}-{kind.part_name(f)}", info, kind, f) for f in families]


def resolve_collection(
    conn: Connection, collection_id: str, viewer: Viewer | None
) -> CollectionRef:
    """The collection named ``collection_id``: a layer (also a mixed one, whole), or a part of
    a mixed layer (``layer-part``); :class:`LayerNotFound` otherwise."""
    try:
        info = current_layer(conn, collection_id, viewer)
        return CollectionRef(collection_id, info, load_kinds()[info.kind])
    except LayerNotFound as missing:
        base, _, part = collection_id.rpartition("-")
        if not base:
            raise
        try:
            info = current_layer(conn, base, viewer)
        except LayerNotFound:
            raise missing from None
        for ref in collections_of(conn, info, viewer):
            if ref.id == collection_id:
                return ref
        raise missing from None
