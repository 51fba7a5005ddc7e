"""Which background map the web maps use: PDOK BRT-Achtergrondkaart, a custom one, or none.

``auto`` (the default) checks once at start-up whether PDOK answers; on an intranet without
internet access the maps then simply have no background map instead of broken tiles.
"""

from __future__ import annotations

import logging
import urllib.request
from dataclasses import dataclass

from app.settings import WebSettings

log = logging.getLogger("ruimte")
PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Basemap:
    """A tile layer: name, URL template and attribution."""

    name: str
    url: str
    attribution: str


def _reachable(url_template: str) -> bool:
    probe = url_template.replace("{z}", "7").replace("{x}", "66").replace("{y}", "42")
    try:
        with urllib.request.urlopen(
            urllib.request.Request(probe, method="HEAD"), timeout=PROBE_TIMEOUT_S
        ) as resp:
            return 200 <= resp.status < 400
    except (OSError, ValueError) as exc:
        log.info("basemap %s not reachable (%s): maps without background", probe, exc)
        return False


def resolve_basemap(settings: WebSettings) -> Basemap | None:
    """The basemap to use according to ``RUIMTE_WEB_BASEMAP``."""
    choice = settings.basemap.strip()
    if choice == "none":
        return None
    pdok = Basemap("BRT-Achtergrondkaart", settings.basemap_url, settings.basemap_attribution)
    if choice == "pdok":
        return pdok
    if choice == "auto":
        return pdok if _reachable(settings.basemap_url) else None
    return Basemap("Achtergrondkaart", choice, settings.basemap_attribution)
