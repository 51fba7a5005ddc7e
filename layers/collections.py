"""What a feature service says about a layer beyond the catalogue: extents in CRS84 and time,
and a cached catalogue lookup for the hot paths (items, tiles).

The spatial extent comes from the catalogue (RD New bbox of the version), transformed
along its densified edges; the temporal extent from the validity dates of the features
the reader may see (through :mod:`layers.query`, so the visibility rule applies).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np
from pyproj import Transformer
from sqlalchemy import Connection, Date, cast, func, select

from layers.access import Viewer, layer_visibility
from layers.errors import LayerNotFound
from layers.kinds import Kind
from layers.models import Feature, Layer
from layers.query import FeatureQuery, _where
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
