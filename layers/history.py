"""Layers as they were on a date: which version of each layer was valid then.

Every import and edit makes a layer version with its ``created_at`` time, and the feature
rows of every version stay in the store (:mod:`layers.store`). The state of a layer *as of*
an instant is therefore its newest version made before that instant; reading that version
(:func:`layers.store.read_features` with ``version``) gives the features exactly as they
were. A layer made after the instant did not exist yet (None).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from layers.access import Viewer, feature_visibility, layer_visibility
from layers.models import Feature, Layer, LayerVersion

#: Peildata are calendar dates in the Netherlands: a peildatum means the start of that day there.
PEIL_ZONE = ZoneInfo("Europe/Amsterdam")


def peil_instant(peildatum: date) -> datetime:
    """The instant a peildatum stands for: 00:00 of that day, Dutch time (the state *on*
    1 January is the state at the end of 31 December).

    >>> peil_instant(date(2026, 1, 1)).isoformat()
    '2026-01-01T00:00:00+01:00'
    """
    return datetime.combine(peildatum, time(0, 0), tzinfo=PEIL_ZONE)


def versions_as_of(
    conn: Connection, names: Iterable[str], peildatum: date, viewer: Viewer | None = None
) -> dict[str, int]:
    """{layer name: the version valid on ``peildatum``} for the layers of ``names`` that
    existed then and that ``viewer`` may see (None: every layer); sorted by name."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = conn.execute(
        select(Layer.name, func.max(LayerVersion.version))
        .join(LayerVersion, LayerVersion.layer_id == Layer.id)
        .where(
            Layer.name.in_(wanted),
            LayerVersion.created_at < peil_instant(peildatum),
            layer_visibility(viewer),
        )
        .group_by(Layer.name)
    ).all()
    return {name: int(v) for name, v in sorted(rows)}


def workflow_counts(
    conn: Connection, name: str, gemeente: str, viewer: Viewer
) -> dict[str, dict[str, float]]:
    """{workflow state: {"n", "ha"}} of the current features of layer ``name`` owned by
    ``gemeente``, counting only what ``viewer`` may see (the public: vastgesteld only).

    An unknown or hidden layer gives {}.
    """
    layer_id = conn.execute(
        select(Layer.id).where(Layer.name == name, layer_visibility(viewer))
    ).scalar_one_or_none()
    if layer_id is None:
        return {}
    rows = conn.execute(
        select(Feature.workflow, func.count(), func.sum(func.ST_Area(Feature.geom)))
        .where(
            Feature.layer_id == layer_id,
            Feature.version_to.is_(None),
            Feature.gemeente == gemeente,
            feature_visibility(viewer),
        )
        .group_by(Feature.workflow)
    ).all()
    return {state: {"n": int(n), "ha": float(area or 0.0) / 10_000.0} for state, n, area in rows}
