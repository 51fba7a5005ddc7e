"""Settings, one small class per concern, read from the environment.

Nothing is read at import time: call the ``get_*`` functions (cached) or build the
classes yourself (tests pass ``_env_file=None``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from layers.boundaries import WorkArea as BoundaryArea
    from layers.importer import ImportPolicy
    from scenarios.current import FigureDefaults


def _default_data_root() -> Path:
    """Where the project keeps its local PostGIS cluster and generated files.

    ``initdb`` and ``pg_ctl`` run as the ``postgres`` user when we are root, so the
    directory must be reachable by that user: /root is not, hence /var/lib for root.
    """
    if os.geteuid() == 0:
        return Path("/var/lib/ruimte-circulair")
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "ruimte-circulair"


#: The longest URL the server's HTTP parser (httptools, :mod:`app.http_protocol`) takes: its
#: URL parser keeps 16-bit offsets.
MAX_PARSED_URL_BYTES = 65_535


class DatabaseSettings(BaseSettings):
    """Which PostGIS database to use.

    ``DATABASE_URL`` is any SQLAlchemy URL; ``postgres://`` and ``postgresql://`` are
    normalised to the psycopg 3 driver. Without it the local cluster managed by
    ``ruimte db up`` is used.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    statement_timeout_ms: int = Field(
        default=30_000, validation_alias="RUIMTE_DB_STATEMENT_TIMEOUT_MS"
    )
    """Longest a single SQL statement of the service may run (0: no limit); a request that
    needs longer gets 503 instead of holding a connection."""

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value


class LocalDatabaseSettings(BaseSettings):
    """The project's own local PostGIS cluster (``ruimte db up``)."""

    model_config = SettingsConfigDict(env_prefix="RUIMTE_LOCALDB_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: _default_data_root() / "pgdata")
    port: int = 54329
    host: str = "127.0.0.1"
    database: str = "ruimte"
    user: str = "ruimte"
    bin_dir: Path | None = None
    """Directory holding initdb/pg_ctl; found automatically when empty."""


#: The settings of the fixed Utrecht box that ``RUIMTE_WORK_AREA`` replaced.
LEGACY_PROVINCE_PREFIX = "RUIMTE_PROVINCE_"


class _LegacyProvinceSettings(BaseSettings):
    """The ``RUIMTE_PROVINCE_*`` settings of before ``RUIMTE_WORK_AREA``: read only to refuse them."""

    model_config = SettingsConfigDict(
        env_prefix=LEGACY_PROVINCE_PREFIX, env_file=".env", extra="ignore"
    )

    name: str | None = None
    statcode: str | None = None
    bbox: str | None = None
    margin_m: str | None = None


class WorkAreaSettings(BaseSettings):
    """The work area: a province by CBS code or name, or ``NL`` for the whole country.

    Name, code, outline, bounding box and gemeenten follow from the CBS 2025 boundaries shipped
    with the package (:func:`layers.boundaries.work_area`); imports must fall inside the bounding
    box of its gemeenten grown by ``margin_m``. The old ``RUIMTE_PROVINCE_*`` settings (a fixed
    name and box) are refused with a message naming their replacement.
    """

    model_config = SettingsConfigDict(
        env_prefix="RUIMTE_WORK_AREA_", env_file=".env", extra="ignore"
    )

    area: str = Field(default="PV26", validation_alias="RUIMTE_WORK_AREA")
    """``PV20``…``PV31`` (or ``20``…``31``), a province name (``Gelderland``), or ``NL``."""
    margin_m: float = Field(default=10_000.0, ge=0)
    """Features must intersect the work area's bbox grown by this margin (context layers reach
    5 km out)."""

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        env_file = values.get("_env_file", self.model_config.get("env_file"))
        old = _LegacyProvinceSettings(_env_file=env_file).model_dump(exclude_none=True)
        if old:
            names = ", ".join(LEGACY_PROVINCE_PREFIX + k.upper() for k in old)
            raise ValueError(
                f"{names} is no longer read: set RUIMTE_WORK_AREA to a CBS province code "
                "(PV20…PV31), a province name or NL; its name, outline and bbox follow from the "
                "CBS boundaries, and RUIMTE_WORK_AREA_MARGIN_M sets the margin"
            )

    def resolve(self) -> WorkArea:
        """The work area these settings name (an unknown one raises, with "did you mean")."""
        from layers import boundaries

        area = boundaries.work_area(self.area)
        return WorkArea(area=area, margin_m=self.margin_m)


class WorkArea:
    """A resolved work area with its import margin; what the app, CLI and runs are given."""

    def __init__(self, area: BoundaryArea, margin_m: float = 10_000.0):
        self.area = area
        self.margin_m = margin_m

    @property
    def statcode(self) -> str:
        """``PV25`` or ``NL``."""
        return self.area.statcode

    @property
    def name(self) -> str:
        """``Gelderland`` or ``Nederland``."""
        return self.area.naam

    @property
    def title(self) -> str:
        """``Provincie Gelderland`` or ``Nederland``."""
        return self.area.title

    @property
    def in_text(self) -> str:
        """``de provincie Gelderland`` or ``Nederland``."""
        return self.area.in_text

    @property
    def province(self) -> tuple[str, str]:
        """(code, display name) for a scenario run's totals: ``("PV25", "Provincie Gelderland")``."""
        return self.statcode, self.title

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Bounding box of its gemeenten in EPSG:28992."""
        return self.area.bbox

    @property
    def work_area(self) -> tuple[float, float, float, float]:
        """The bbox grown by the margin."""
        minx, miny, maxx, maxy = self.bbox
        m = self.margin_m
        return (minx - m, miny - m, maxx + m, maxy + m)

    @property
    def work_area_name(self) -> str:
        """How import errors name it: ``the work area Provincie Gelderland (+10 km)``."""
        return f"the work area {self.title} (+{self.margin_m / 1000:g} km)"


class ImportSettings(BaseSettings):
    """Limits and tolerances for file imports."""

    model_config = SettingsConfigDict(env_prefix="RUIMTE_IMPORT_", env_file=".env", extra="ignore")

    max_file_mb: float = 512.0
    """Largest file (or unzipped archive) accepted, in MB."""
    max_features: int = 2_000_000
    progress_threshold: int = 5_000
    """Show a progress bar from this many features on."""
    max_vertices: int = Field(default=100_000, ge=4)
    """Most vertices in one feature's geometry (file imports and API writes alike)."""
    max_text_length: int = Field(default=10_000, ge=1)
    """Most characters in one text value (a kind's ``max_length`` may set a smaller one)."""


def import_policy(area: WorkArea | None = None) -> ImportPolicy:
    """The limits every import (file, API, demo) is held to, from the settings.

    ``area``: the work area imports must fall in (default: ``RUIMTE_WORK_AREA``). Milieucategorieën
    are checked against the table runs use (``RUIMTE_PLANNING_MILIEUCATEGORIE_TABLE``, else the
    shipped VNG table), so a layer imported is one a run can read.
    """
    from layers.importer import ImportPolicy
    from layers.kinds import AttributeLimits
    from layers.milieucategorie import load_table

    area = area or get_work_area()
    limits = get_import_settings()
    planning = get_planning_settings()
    return ImportPolicy(
        work_area=area.work_area,
        work_area_name=area.work_area_name,
        max_bytes=int(limits.max_file_mb * 1_000_000),
        max_features=limits.max_features,
        bruto_tolerance_pct=planning.bruto_tolerance_pct,
        categories=load_table(planning.milieucategorie_table),
        max_vertices=limits.max_vertices,
        attribute_limits=AttributeLimits(max_text_length=limits.max_text_length),
    )


@lru_cache
def get_database_settings() -> DatabaseSettings:
    """Database settings from the environment (cached)."""
    return DatabaseSettings()


@lru_cache
def get_local_database_settings() -> LocalDatabaseSettings:
    """Local cluster settings from the environment (cached)."""
    return LocalDatabaseSettings()


@lru_cache
def get_work_area() -> WorkArea:
    """The work area from the environment (``RUIMTE_WORK_AREA``), resolved (cached).

    Raises
    ------
    layers.boundaries.BoundaryError
        For an unknown work area or an old ``RUIMTE_PROVINCE_*`` setting, naming it.
    """
    from pydantic import ValidationError

    from layers.boundaries import BoundaryError

    try:
        settings = WorkAreaSettings()
    except ValidationError as exc:
        messages = [e["msg"] for e in exc.errors()]
        raise BoundaryError("; ".join(messages)) from None
    except ValueError as exc:
        raise BoundaryError(str(exc)) from None
    return settings.resolve()


def work_area_named(code_or_name: str | None) -> WorkArea:
    """The work area ``code_or_name`` (``None``: the setting), with the setting's margin."""
    if code_or_name is None:
        return get_work_area()
    from layers import boundaries

    return WorkArea(boundaries.work_area(code_or_name), get_work_area().margin_m)


def get_province_settings() -> WorkArea:
    """The work area (old name, kept for callers): ``statcode``, ``name``, ``work_area``."""
    return get_work_area()


@lru_cache
def get_import_settings() -> ImportSettings:
    """Import settings from the environment (cached)."""
    return ImportSettings()


class PlanningSettings(BaseSettings):
    """Planning defaults shared by maps, indicators and scenarios (a spec may override them)."""

    model_config = SettingsConfigDict(
        env_prefix="RUIMTE_PLANNING_", env_file=".env", extra="ignore"
    )

    hmc_threshold: str = "4"
    """Lowest milieucategorie counted as hoge milieucategorie (HMC); any VNG category."""
    milieucategorie_table: Path | None = None
    """CSV replacing the shipped VNG 2009 table (same columns): imports of scenario specs and
    every run (richtafstanden, HMC) use it; a run records its file name."""
    bruto_source: Literal["attribute", "geometry"] = "attribute"
    """Bruto ha of a terrein in runs whose spec does not say: its ``bruto_ha`` attribute (IBIS,
    the official figure) or its polygon area."""
    attribution: Literal["area_share", "attribute"] = "area_share"
    """How runs whose spec does not say give a terrein's ha to gemeenten: split by the area in
    each, or wholly to the gemeente in its ``gemeente`` field (as IBIS counts)."""
    bruto_tolerance_pct: float = Field(default=5.0, ge=0)
    """Data-quality report: terreinen whose bruto_ha differs more than this from their polygon
    area (% of the area) are listed, per import and per run."""

    @field_validator("milieucategorie_table")
    @classmethod
    def _table_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"milieucategorie table {value} is not a file")
        return value

    def figure_defaults(self) -> FigureDefaults:
        """What a run uses where its spec names no bruto source or attribution."""
        from scenarios.current import FigureDefaults

        return FigureDefaults(
            bruto_source=self.bruto_source,
            attribution=self.attribution,
            bruto_tolerance_pct=self.bruto_tolerance_pct,
        )


@lru_cache
def get_planning_settings() -> PlanningSettings:
    """Planning settings from the environment (cached)."""
    return PlanningSettings()


class RasterSettings(BaseSettings):
    """The raster engine of scenario runs (see README: running nationally)."""

    model_config = SettingsConfigDict(env_prefix="RUIMTE_RASTER_", env_file=".env", extra="ignore")

    engine: Literal["chunked", "memory"] = "chunked"
    """``chunked``: ``dask.array`` chunks (memory bounded by ``chunk_cells``); ``memory``: the
    whole grid in numpy arrays (about 48 bytes a cell). Both give the same results."""
    chunk_cells: int = Field(default=4_194_304, ge=65_536)
    """Most cells in one chunk (2048 × 2048): what bounds a worker's memory, whatever the grid."""


class DaskSettings(BaseSettings):
    """Where the chunked engine runs."""

    model_config = SettingsConfigDict(env_prefix="RUIMTE_DASK_", env_file=".env", extra="ignore")

    scheduler: str | None = None
    """Address of a Dask ``distributed`` scheduler (``tcp://host:8786``); unset: Dask's threaded
    scheduler on this machine. ``ruimte dask local --workers N`` starts one."""

    @field_validator("scheduler")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError(f"Dask scheduler {value!r} is not an address like tcp://host:8786")
        return value or None


@lru_cache
def get_raster_settings() -> RasterSettings:
    """Raster engine settings from the environment (cached)."""
    return RasterSettings()


@lru_cache
def get_dask_settings() -> DaskSettings:
    """Dask settings from the environment (cached)."""
    return DaskSettings()


class WebSettings(BaseSettings):
    """The web service and its maps."""

    model_config = SettingsConfigDict(env_prefix="RUIMTE_WEB_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    """uvicorn worker processes (each with its own pool and write rate limiter)."""
    basemap: str = "auto"
    """``pdok`` (BRT-Achtergrondkaart), ``none``, ``auto`` (PDOK when it answers at start-up) or
    a tile URL template ``https://…/{z}/{x}/{y}.png``."""
    basemap_url: str = (
        "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png"
    )
    basemap_attribution: str = "Kaartgegevens &copy; Kadaster (BRT-Achtergrondkaart, PDOK)"
    tile_cache_mb: int = Field(default=64, ge=0, le=65_536)
    """Memory for made vector tiles, per worker process (MB; 0: no cache)."""
    embed_max_features: int = 1_000
    """Layers with more features are loaded by bbox from the API, not embedded in the page."""
    embed_max_bytes: int = 450_000
    """GeoJSON a map page may embed in all; further layers load by bbox, so that a page stays
    well under 1 MB of HTML whatever the layer sizes."""
    page_default: int = 100
    page_max: int = 10_000
    """Largest ``limit`` the features endpoint accepts."""
    max_upload_mb: float = 50.0
    """Largest request body (feature writes, spec uploads)."""
    max_json_depth: int = 32
    """Deepest nesting of arrays and objects in a JSON request body (a MultiPolygon Feature
    needs 6); deeper bodies get 422 before anything else looks at them."""
    max_vertices: int = 100_000
    """Most coordinates one geometry written through the API may have."""
    public_url: str | None = None
    """The service's public base URL (``https://host[:port][/prefix]``), e.g. behind a proxy:
    links and ``Location`` headers are built on it whatever ``Host`` a client sends."""
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    """Without ``public_url``: the ``Host`` names requests may carry (400 otherwise), so that
    links built from the request's URL never name a forged host; ``*`` allows any."""
    max_url_bytes: int = 8_192
    """Longest path plus query string; longer URLs get 414."""
    downloads_per_client: int = 2
    """Downloads (layer files, QGIS zips, rasters, tables) one client may run at once (429)."""
    downloads_total: int = 4
    """Downloads one worker process runs at once (503 beyond)."""
    cors_origins: tuple[str, ...] = ()
    """Origins (``https://host[:port]``) whose pages may call the API and load tiles and
    styles from the browser (CORS); ``*`` allows any. Empty (default): no CORS headers, and
    preflight requests get 405."""

    @model_validator(mode="after")
    def _check(self) -> WebSettings:
        if not 1 <= self.page_default <= self.page_max:
            raise ValueError("page_default must be between 1 and page_max")
        if not 8 <= self.max_json_depth <= 500:
            raise ValueError("max_json_depth must be between 8 and 500")
        if self.max_vertices < 4:
            raise ValueError("max_vertices must be at least 4 (the smallest polygon)")
        if self.public_url is not None:
            url = urlsplit(self.public_url)
            if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
                raise ValueError(
                    f"RUIMTE_WEB_PUBLIC_URL {self.public_url!r} must be http(s)://host[:port][/path]"
                )
        if not self.allowed_hosts:
            raise ValueError("RUIMTE_WEB_ALLOWED_HOSTS must name at least one host (or '*')")
        if not 1_024 <= self.max_url_bytes <= MAX_PARSED_URL_BYTES:
            raise ValueError(
                f"RUIMTE_WEB_MAX_URL_BYTES must be from 1024 to {MAX_PARSED_URL_BYTES} (the "
                "longest URL the HTTP parser takes)"
            )
        for origin in self.cors_origins:
            parts = urlsplit(origin)
            if origin != "*" and (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path not in ("",)
                or parts.query
                or parts.fragment
            ):
                raise ValueError(
                    f"RUIMTE_WEB_CORS_ORIGINS: {origin!r} is not an origin "
                    "(scheme://host[:port], no path) or '*'"
                )
        if self.downloads_per_client < 1 or self.downloads_total < self.downloads_per_client:
            raise ValueError(
                "RUIMTE_WEB_DOWNLOADS_PER_CLIENT must be at least 1 and "
                "RUIMTE_WEB_DOWNLOADS_TOTAL at least as large"
            )
        return self


class AuthSettings(BaseSettings):
    """Access control: what gemeente-editors may edit, write rate limits."""

    model_config = SettingsConfigDict(env_prefix="RUIMTE_AUTH_", env_file=".env", extra="ignore")

    gemeente_kinds: tuple[str, ...] = ("reserveringen", "strategische_locaties")
    """Kinds a gemeente-editor may edit (features of their own gemeente only)."""
    write_rate_per_minute: int = 120
    """Writes per token per minute before 429 (a burst of this size is allowed)."""
    token_days: float = 90.0
    """Default lifetime of a new token."""
    session_secret: str | None = None
    """Signs browser session cookies. Unset: a random secret per process (sessions end on a
    restart and do not work across several workers); set it for production."""
    session_hours: float = 8.0
    write_token_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    """How long a write token for the map pages (from a browser session) stays valid."""
    gemeenten_layer: str = "gemeenten"
    """The layer (kind gemeenten) whose statcodes are the gemeenten that exist, and whose
    borders a gemeente-editor's features must lie within."""
    gemeente_tolerance_m: float = 1.0
    """How far (m) a gemeente-editor's feature may reach over its gemeente's border (the
    stored borders are generalised; a reservering drawn on a better map may stick out)."""

    @model_validator(mode="after")
    def _check(self) -> AuthSettings:
        if self.write_rate_per_minute < 1:
            raise ValueError("write_rate_per_minute must be at least 1")
        if not 0 <= self.gemeente_tolerance_m <= 1000:
            raise ValueError("gemeente_tolerance_m must be between 0 and 1000 metres")
        if self.session_secret is not None and (
            len(self.session_secret) < 32
            or self.session_secret.lower() in {"changethis", "changeme", "secret"}
        ):
            raise ValueError(
                "RUIMTE_AUTH_SESSION_SECRET must be at least 32 random characters, not a default"
            )
        return self


@lru_cache
def get_web_settings() -> WebSettings:
    """Web settings from the environment (cached)."""
    return WebSettings()


@lru_cache
def get_auth_settings() -> AuthSettings:
    """Access-control settings from the environment (cached)."""
    return AuthSettings()
