"""Request bodies as pydantic models: what a client may send, and nothing else.

Bodies are first decoded by :func:`app.request_json.parse_json` (UTF-8, depth, NUL, numbers),
then validated here; a :class:`pydantic.ValidationError` becomes 422 with one entry per
problem (``loc`` from ``body``). GeoJSON geometries are validated with ``geojson-pydantic``
(types, positions, closed rings); the attributes inside ``properties`` are checked by the
layer's kind, exactly as in a file import.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from app.errors import ApiError

M = TypeVar("M", bound=BaseModel)
MAX_TITLE = 200
MAX_DESCRIPTION = 10_000


class FeatureBody(BaseModel):
    """A GeoJSON Feature to create or replace a feature with (RFC 7946 §3.2).

    ``draft`` (a foreign member) makes it a concept; ``id`` may be sent back as read, but on
    a replace it must be the id in the path, and a new feature gets its id from the server.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"]
    geometry: Geometry | None = Field(
        description="A GeoJSON geometry in the request CRS (default CRS84, lon/lat)."
    )
    properties: dict[str, Any] | None = Field(
        default=None, description="Attributes, checked against the layer's kind."
    )
    id: int | str | None = None
    bbox: list[float] | None = None
    draft: StrictBool | None = Field(
        default=None,
        description="A concept: seen only by its gemeente and the province. A gemeente-editor's "
        "writes are always concepts (only the province adopts); for the province it defaults "
        "to false (adopted).",
    )


class WorkflowBody(BaseModel):
    """A workflow action on a feature (``layers/data/workflow.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    action: Annotated[str, Field(min_length=1, max_length=40)] = Field(
        description="indienen (submit), vaststellen (adopt) or terugsturen (return)."
    )
    reason: Annotated[str, Field(max_length=MAX_DESCRIPTION)] | None = Field(
        default=None, description="Why the feature is returned (required for terugsturen)."
    )


class LayerPatch(BaseModel):
    """The changes ``PATCH /api/layers/{name}`` may make (the province only)."""

    model_config = ConfigDict(extra="forbid")

    published: StrictBool | None = Field(default=None, description="Show the layer to everyone.")
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE)] | None = None
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] | None = None

    @field_validator("published", "title", "description", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null; leave the member out to keep it as it is")
        return value

    def changes(self) -> dict[str, Any]:
        """Only what the client sent."""
        return self.model_dump(exclude_unset=True)


def validation_problems(exc: ValidationError, limit: int = 20) -> list[dict[str, Any]]:
    """A pydantic error as problem entries (``loc`` from ``body``), at most ``limit``."""
    return [
        {"loc": ["body", *e["loc"]], "message": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False)[:limit]
    ]


def parse_body(model: type[M], doc: Any, what: str) -> M:
    """``doc`` as ``model``, or 422 naming every field that is wrong."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        problems = validation_problems(exc)
        where = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "body" for e in problems)
        raise ApiError(
            422, f"{what}: {exc.error_count()} problem(s) at {where}", errors=problems
        ) from exc


def count_positions(geometry: Any, stop: int) -> int:
    """Positions in a GeoJSON geometry (a dict), counted without building it; stops counting
    once past ``stop``. Malformed parts are skipped (validation reports them)."""
    count = 0
    stack: list[Any] = [geometry]
    while stack and count <= stop:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("geometries"), list):
                stack.extend(item["geometries"])
            if isinstance(item.get("coordinates"), list):
                stack.append(item["coordinates"])
        elif isinstance(item, list) and item:
            if isinstance(item[0], int | float):
                count += 1
            else:
                stack.extend(item)
    return count
