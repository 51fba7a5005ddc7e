"""Made tiles kept in memory, bounded by their bytes (issue 14).

A tile is keyed by what makes it: the layer, its version and ``updated_at`` (every edit of a
layer changes them, so an edit makes the old tiles unreachable), the viewer (what they may see),
the tile matrix set, the tile, its filters and its part of a mixed layer. Before a cached tile
is served, the request checks the layer's state in the database (one small query), so an edit
made by another worker process is never hidden by this one's cache (a public cached tile is
answered before routing, with that same check: :mod:`app.warm_tiles`). When a newer state of
a layer is stored, the older tiles of that layer are dropped at once.

A plain ``OrderedDict`` LRU: the well-kept caching libraries (cachetools) are not a dependency
here, and the size bound and the per-layer purge are a few lines.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from layers.tiles import Tile

#: Bytes an entry costs besides its tile data (key, counts, dictionary slot), for the bound.
ENTRY_OVERHEAD = 400


@dataclass
class CacheStats:
    """Hits, misses and the bytes the cache holds."""

    hits: int = 0
    misses: int = 0
    bytes: int = 0


class TileCache:
    """Tiles by key, least recently used first out when the bytes exceed ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(int(max_bytes), 0)
        self._tiles: OrderedDict[tuple, Tile] = OrderedDict()
        self._states: dict[int, Any] = {}
        """Per layer id: the state (version, updated_at) its cached tiles were made at."""
        self._lock = threading.Lock()
        self.stats = CacheStats()

    @property
    def enabled(self) -> bool:
        """Whether tiles are kept at all (``RUIMTE_WEB_TILE_CACHE_MB=0``: no)."""
        return self.max_bytes > 0

    @property
    def entries(self) -> int:
        """How many tiles are kept."""
        return len(self._tiles)

    def get(self, key: tuple, *, count_miss: bool = True) -> Tile | None:
        """The tile stored under ``key`` (None: not there). ``count_miss=False``: a look that
        the route repeats when it finds nothing (:mod:`app.warm_tiles`), so one miss counts once."""
        with self._lock:
            tile = self._tiles.get(key)
            if tile is None:
                if count_miss:
                    self.stats.misses += 1
                return None
            self._tiles.move_to_end(key)
            self.stats.hits += 1
            return tile

    def put(self, layer_id: int, state: Any, key: tuple, tile: Tile) -> None:
        """Keep ``tile`` of layer ``layer_id`` made at ``state``; tiles of the layer made at an
        older state are dropped. A tile larger than the whole bound is not kept."""
        cost = len(tile.data) + ENTRY_OVERHEAD
        if not self.enabled or cost > self.max_bytes:
            return
        with self._lock:
            if self._states.get(layer_id) != state:
                self._drop_layer(layer_id)
                self._states[layer_id] = state
            old = self._tiles.pop(key, None)
            if old is not None:
                self.stats.bytes -= len(old.data) + ENTRY_OVERHEAD
            self._tiles[key] = tile
            self.stats.bytes += cost
            while self.stats.bytes > self.max_bytes:
                _, out = self._tiles.popitem(last=False)
                self.stats.bytes -= len(out.data) + ENTRY_OVERHEAD

    def forget_layer(self, layer_id: int) -> None:
        """Drop every tile of a layer (its edit was seen)."""
        with self._lock:
            self._drop_layer(layer_id)
            self._states.pop(layer_id, None)

    def _drop_layer(self, layer_id: int) -> None:
        for key in [k for k in self._tiles if k[0] == layer_id]:
            self.stats.bytes -= len(self._tiles.pop(key).data) + ENTRY_OVERHEAD
