"""Pure geometry and raster functions (no database, no web): CRS, overlay, grids, rasters."""
