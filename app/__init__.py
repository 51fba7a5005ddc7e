"""Ruimte Circulair service: the FastAPI application, its pages and the ``ruimte`` CLI."""
