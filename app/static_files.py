"""Static files with long-lived caching: asset URLs carry a hash of the file's content.

:func:`asset_url` turns ``/static/ruimte-map.js`` into ``/static/ruimte-map.js?v=<hash>``
(the first 12 hex digits of the file's SHA-256). :class:`VersionedStatic` answers a request
whose ``v`` is the file's current hash with ``Cache-Control: public, max-age=31536000,
immutable``: a browser keeps it for a year without asking again, and a changed file gets
another URL. Any other request (no ``v``, an old one) gets ``no-cache``, so it is revalidated
with the ETag as before. Everything else (404, ranges, HEAD) is Starlette's ``StaticFiles``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import xstatic.pkg.leaflet as xleaflet
from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
#: URL prefix → directory served there (the longest prefix first).
MOUNTS = (("/static/leaflet/", Path(xleaflet.BASE_DIR)), ("/static/", STATIC_DIR))
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_hashes: dict[str, tuple[int, int, str]] = {}
_lock = threading.Lock()


def content_hash(path: Path, st: os.stat_result | None = None) -> str:
    """The first 12 hex digits of the SHA-256 of ``path``'s bytes, kept while the file's
    modification time and size (``st``, else from the file) stay the same."""
    st = st or path.stat()
    key = str(path)
    with _lock:
        found = _hashes.get(key)
    if found is not None and found[:2] == (st.st_mtime_ns, st.st_size):
        return found[2]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    with _lock:
        _hashes[key] = (st.st_mtime_ns, st.st_size, digest)
    return digest


def asset_file(url: str) -> Path | None:
    """The file an app static URL (``/static/...``) is served from (None: not one of ours)."""
    for prefix, directory in MOUNTS:
        if url.startswith(prefix):
            path = (directory / url[len(prefix) :]).resolve()
            if path.is_relative_to(directory.resolve()) and path.is_file():
                return path
            return None
    return None


def asset_url(url: str) -> str:
    """``url`` with ``?v=`` the content hash of its file (unchanged when it is not a file)."""
    path = asset_file(url)
    return f"{url}?v={content_hash(path)}" if path is not None else url


class VersionedStatic(StaticFiles):
    """``StaticFiles`` that lets browsers keep a file for a year when asked by its hash."""

    def file_response(
        self,
        full_path: os.PathLike | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """Starlette's response (200 or 304), with ``Cache-Control`` by whether the query's
        ``v`` is the file's hash."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        wanted = QueryParams(scope.get("query_string", b"")).get("v")
        immutable = wanted and content_hash(Path(full_path), stat_result) == wanted
        response.headers["Cache-Control"] = IMMUTABLE if immutable else REVALIDATE
        return response
