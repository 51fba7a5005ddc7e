"""PDF reports with headless Chromium (Debian ``/usr/bin/chromium``, driven by Playwright).

The map image is a screenshot of the edition's own map page (``/kaart/monitor/{id}``),
taken from this server; the report HTML (the same page as ``…/rapport``, with that image
in it) is then printed by Chromium with its print stylesheet. Chromium may reach only the
server itself: every other request is refused, so nothing leaves the host.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from html import escape
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]
MAP_TIMEOUT_MS = 15_000
FOOTER = (
    '<div style="font-size:7pt;color:#7a5a00;width:100%;margin:0 12mm;'
    'border-top:1px solid #e0c36a;padding-top:1mm;text-align:center">{text} · pagina '
    '<span class="pageNumber"></span> van <span class="totalPages"></span></div>'
)


#: At most this many Chromium processes make reports at once (per worker process); more
#: requests get 503 with Retry-After instead of piling up browsers.
MAX_CONCURRENT = 2
RETRY_AFTER_S = 10
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)


class PdfError(RuntimeError):
    """Chromium could not make the report."""


class PdfBusy(PdfError):
    """Too many reports are being made right now."""


def self_url(scope: dict) -> str:
    """How this server reaches itself: loopback on the port the request came in on (the
    socket's own address when it listens on one specific non-loopback address), never the
    Host a client or proxy sent, so Chromium's requests stay on this machine."""
    host, port = (scope.get("server") or ("127.0.0.1", 80))[:2]
    if host in ("0.0.0.0", "::", "localhost", "::1") or str(host).startswith("127."):
        host = "127.0.0.1"
    elif ":" in str(host):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def render_pdf(
    base_url: str, map_path: str, report_html: Callable[[str | None], str], footer: str
) -> bytes:
    """Screenshot ``map_path`` of the server at ``base_url``, put it into the report HTML
    (``report_html(data_uri)``) and print that as an A4 PDF; ``footer`` (text) is printed in
    the bottom margin of every page, with the page number."""
    if not CHROMIUM.exists():
        raise PdfError(f"Chromium is missing ({CHROMIUM}): install the Debian package chromium")
    if not _slots.acquire(blocking=False):
        raise PdfBusy(
            f"{MAX_CONCURRENT} reports are being made right now; try again in {RETRY_AFTER_S} s"
        )
    try:
        return _render(base_url, map_path, report_html, footer)
    finally:
        _slots.release()


def _render(
    base_url: str, map_path: str, report_html: Callable[[str | None], str], footer: str
) -> bytes:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    base = base_url.rstrip("/")

    def local_only(route) -> None:  # noqa: ANN001 - playwright Route
        url = route.request.url
        if url.startswith(base + "/") or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            route.abort()

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.route("**/*", local_only)
                page.goto(base + map_path, wait_until="networkidle")
                page.wait_for_selector(".leaflet-overlay-pane path", timeout=MAP_TIMEOUT_MS)
                legend = page.locator('button[aria-expanded="false"]:has(.rc-legend-arrow)')
                if legend.count():  # the legend belongs in the picture
                    legend.first.click()
                page.wait_for_timeout(300)
                png = page.locator(".folium-map").first.screenshot()
                uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
                page.goto(base + "/monitor", wait_until="domcontentloaded")
                page.set_content(report_html(uri), wait_until="networkidle")
                page.emulate_media(media="print")
                return page.pdf(
                    format="A4",
                    print_background=True,
                    margin={"top": "14mm", "bottom": "18mm", "left": "12mm", "right": "12mm"},
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER.format(text=escape(footer)),
                )
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise PdfError(f"Chromium could not make the report: {exc.message}") from exc
