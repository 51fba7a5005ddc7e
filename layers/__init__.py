"""Kaartlagen: the catalogue, storage in PostGIS, import and export."""
