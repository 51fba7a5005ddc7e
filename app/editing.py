"""Editing reserveringen and strategische locaties in the browser (the gemeente map).

:class:`Editor` adds Leaflet-Geoman (vendored) and ``static/ruimte-edit.js`` to a map, with a
data block describing what the signed-in user may edit: the editable kaartlagen on the map,
their fields from ``layers/data/kinds.yaml`` (Dutch labels, enums, dates, help texts), the
gemeente and the workflow's labels. Every write goes through the features API with a write
token of the browser session, so it is checked exactly as an API write.
"""

from __future__ import annotations

from typing import Any

from folium.elements import JSCSSMixin

from app.auth import Principal
from app.maps import DataMixin, _data_script
from app.static_files import asset_url
from layers.kinds import Kind
from layers.store import LayerInfo
from layers.workflow import load_workflow

GEOMAN_JS = [("leaflet_geoman", asset_url("/static/vendor/leaflet-geoman/leaflet-geoman.min.js"))]
GEOMAN_CSS = [("leaflet_geoman_css", asset_url("/static/vendor/leaflet-geoman/leaflet-geoman.css"))]
EDIT_JS = [("ruimte_edit", asset_url("/static/ruimte-edit.js"))]
EDIT_CSS = [("ruimte_edit_css", asset_url("/static/ruimte-edit.css"))]


def may_edit(who: Principal, statcode: str) -> bool:
    """Whether ``who`` edits on the map of gemeente ``statcode``."""
    if who.anonymous or not who.via_session:
        return False
    if who.role in ("provincie-editor", "admin"):
        return True
    return who.role == "gemeente-editor" and who.gemeente == statcode


def field_form(kind: Kind) -> list[dict[str, Any]]:
    """The attribute form of ``kind``: one entry per field, in the kind's order."""
    return [
        {
            "name": f.name,
            "label": f.label,
            "type": f.type,
            "required": f.required,
            "values": f.values,
            "help": f.help,
            "maxLength": f.max_length,
            "min": f.min,
            "max": f.max,
        }
        for f in kind.fields.values()
    ]


class Editor(DataMixin, JSCSSMixin):
    """The editing tools of a gemeente map."""

    default_js = GEOMAN_JS + EDIT_JS
    default_css = GEOMAN_CSS + EDIT_CSS
    _template = _data_script("RuimteEdit.attach({{ this._parent.get_name() }}, ")

    def __init__(
        self, who: Principal, statcode: str, naam: str, layers: list[tuple[LayerInfo, Kind]]
    ):
        super().__init__()
        self._name = "Editor"
        wf = load_workflow()
        self.set_payload(
            {
                "user": who.label,
                "role": who.role,
                "gemeente": statcode,
                "gemeenteNaam": naam,
                "layers": [
                    {
                        "name": info.name,
                        "title": info.title,
                        "kind": kind.name,
                        "geometry": kind.geometry,
                        "gemeenteField": kind.gemeente_field,
                        "fields": field_form(kind),
                    }
                    for info, kind in layers
                ],
                "states": {k: s.label for k, s in wf.states.items()},
                "actions": {
                    k: {"label": a.label, "from": a.from_, "roles": a.roles}
                    for k, a in wf.actions.items()
                },
            }
        )
