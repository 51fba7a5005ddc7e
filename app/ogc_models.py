"""Response models of the OGC API – Features documents, for the OpenAPI description.

The routes build their JSON themselves (feature arrays come from PostGIS as text); these
models describe it, so that clients and schemathesis can check responses against the
OpenAPI document. Field names follow the standard (camelCase).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Link(BaseModel):
    """A web link (RFC 8288) as OGC APIs write it."""

    model_config = ConfigDict(extra="allow")

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    """``/ogc``: what the service is and where its parts are."""

    model_config = ConfigDict(extra="allow")

    title: str
    description: str | None = None
    links: list[Link]


class ConformanceDeclaration(BaseModel):
    """``/ogc/conformance``: the conformance classes the service implements."""

    conformsTo: list[str]  # noqa: N815 - name from the standard


class SpatialExtent(BaseModel):
    """Bounding box(es) in CRS84 (lon/lat)."""

    model_config = ConfigDict(extra="allow")

    bbox: list[list[float]]
    crs: str | None = None


class TemporalExtent(BaseModel):
    """Validity period of the features: [[start, end]] (null: open)."""

    model_config = ConfigDict(extra="allow")

    interval: list[list[str | None]]
    trs: str | None = None


class Extent(BaseModel):
    """Spatial and, where a layer has time, temporal extent."""

    model_config = ConfigDict(extra="allow")

    spatial: SpatialExtent | None = None
    temporal: TemporalExtent | None = None


class Collection(BaseModel):
    """One layer as a feature collection."""

    model_config = ConfigDict(extra="allow")

    id: str
    title: str | None = None
    description: str | None = None
    links: list[Link]
    extent: Extent | None = None
    itemType: str = "feature"  # noqa: N815
    crs: list[str] = Field(default_factory=list)
    storageCrs: str | None = None  # noqa: N815


class Collections(BaseModel):
    """``/ogc/collections``: every layer the caller may see."""

    model_config = ConfigDict(extra="allow")

    links: list[Link]
    collections: list[Collection]
    crs: list[str] = Field(default_factory=list)


class Geometry(BaseModel):
    """A GeoJSON geometry (coordinates in the response CRS)."""

    model_config = ConfigDict(extra="allow")

    type: Literal[
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    ]


class Feature(BaseModel):
    """A GeoJSON feature; ``id`` is the stable feature id."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Feature"]
    id: int | str
    geometry: Geometry | None
    properties: dict[str, Any] | None
    links: list[Link] | None = None


class FeatureCollection(BaseModel):
    """A page of features with paging links."""

    model_config = ConfigDict(extra="allow")

    type: Literal["FeatureCollection"]
    features: list[Feature]
    links: list[Link] | None = None
    numberMatched: int | None = Field(default=None, ge=0)  # noqa: N815
    numberReturned: int | None = Field(default=None, ge=0)  # noqa: N815
    timeStamp: str | None = None  # noqa: N815


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
