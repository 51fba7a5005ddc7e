"""The export formats, their media types and file suffixes (light: the CLI's help lists them)."""

from __future__ import annotations

EXPORT_FORMATS = ("gpkg", "geojson", "shp", "fgb", "csv")
MEDIA_TYPES = {
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "shp": "application/zip",
    "fgb": "application/flatgeobuf",
    "csv": "text/csv",
}
SUFFIXES = {"gpkg": ".gpkg", "geojson": ".geojson", "shp": ".zip", "fgb": ".fgb", "csv": ".csv"}
