"""HTTP routes, one module per resource, included by ``app.main``."""
