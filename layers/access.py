"""Who sees what in the layer store: one rule for every read surface.

The public (and the ``viewer`` role) sees published layers and features that are not
drafts. A gemeente-editor sees those plus the drafts of their own gemeente. The province
(provincie-editor) and admins see everything. API, OGC endpoints, tiles, exports and maps
all read through :mod:`layers.query` and :mod:`layers.store` with a :class:`Viewer`, so
the rule is applied in one place; ``app/`` never queries the ``features`` table itself (a test
checks). Layer metadata follows the same rule: feature counts, extents, the versions list and
version notes are those of what the reader may see (:func:`layers.store.get_layer`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, true
from sqlalchemy.sql.elements import ColumnElement

from layers.models import Feature, Layer


@dataclass(frozen=True)
class Viewer:
    """What a reader may see."""

    see_all: bool = False
    """Drafts and unpublished layers too (the province, admins, internal use)."""
    gemeente: str | None = None
    """Drafts of this gemeente too (a gemeente-editor)."""
    drafts: bool = True
    """With ``see_all``: False leaves every draft out (scenario inputs: adopted policy only)."""


PUBLIC = Viewer()
EVERYTHING = Viewer(see_all=True)
#: What a scenario run reads: every layer, but no draft features, so that results hold only
#: adopted (published) plans and can be shown to anyone.
NO_DRAFTS = Viewer(see_all=True, drafts=False)


def sees_every_feature(viewer: Viewer | None) -> bool:
    """Whether ``viewer`` sees every feature, drafts of every gemeente included (None: yes)."""
    return viewer is None or (viewer.see_all and viewer.drafts)


def feature_visibility(viewer: Viewer | None) -> ColumnElement:
    """SQL condition on ``features`` for what ``viewer`` may see (None: everything)."""
    if sees_every_feature(viewer):
        return true()
    if viewer.see_all:
        return Feature.draft.is_(False)
    if viewer.gemeente:
        return or_(Feature.draft.is_(False), Feature.gemeente == viewer.gemeente)
    return Feature.draft.is_(False)


def layer_visibility(viewer: Viewer | None) -> ColumnElement:
    """SQL condition on ``layers`` for what ``viewer`` may see (None: everything)."""
    if viewer is None or viewer.see_all:
        return true()
    return Layer.published.is_(True)
