"""Errors of the layer store, each with the HTTP status it stands for.

Hierarchy::

    LayerError                    base; ``status`` 400
    ├── LayerNotFound             404: no layer (or feature) of that name / id
    ├── LayerExists               409: the name is taken and no new version was asked for
    ├── UnsupportedFormat         415: a file type we do not read or write
    ├── FileTooLarge              413: over the configured size (or a zip bomb)
    ├── UnreadableFile            422: the file cannot be opened or parsed
    └── InvalidFeatures           422: features or attributes that fail the checks;
                                       ``problems`` lists every one of them

``app/errors.py`` turns these into problem+json responses; the CLI prints them.
The message is safe to show to users; it never contains SQL or stack traces.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from layers.kinds import Problem


class LayerError(Exception):
    """Base class: a request about layers that cannot be carried out as asked."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class LayerNotFound(LayerError):
    """No such layer, version or feature; ``layer_name`` is the unknown layer's name (None for a
    missing version or feature), so that a caller who may list the layers can suggest one."""

    status = 404
    title = "Not found"

    def __init__(self, message: str, layer_name: str | None = None):
        super().__init__(message)
        self.layer_name = layer_name


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` to ``name``, else ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


class LayerExists(LayerError):
    """The layer name is taken."""

    status = 409
    title = "Conflict"


class UnsupportedFormat(LayerError):
    """A file format we do not handle."""

    status = 415
    title = "Unsupported media type"


class FileTooLarge(LayerError):
    """A file (or what a zip unpacks to) over the limit."""

    status = 413
    title = "Content too large"


class UnreadableFile(LayerError):
    """The file cannot be opened or parsed."""

    status = 422
    title = "Unreadable file"


class InvalidFeatures(LayerError):
    """Features that fail geometry, CRS or attribute checks; nothing was stored."""

    status = 422
    title = "Invalid features"

    def __init__(self, message: str, problems: Sequence[Problem], lines: Sequence[str]):
        super().__init__(message)
        self.problems = list(problems)
        self.lines = list(lines)
        """Each problem as a readable line naming the feature and field."""
