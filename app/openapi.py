"""The OpenAPI document says what the routes really answer: problem+json errors, request bodies.

FastAPI documents a 422 with its own ``HTTPValidationError`` body; this service answers every
error as ``application/problem+json`` (:mod:`app.errors`), and a few statuses come from code
that every route shares rather than from the route itself. :func:`install_openapi` rewrites
the generated document once, so that each operation declares:

- ``400`` bad parameter, or a path/query string with NUL or invalid UTF-8
  (:mod:`app.guards`); ``401`` an invalid bearer token (any route that reads who asks);
  ``404`` unknown layer/feature/run, or a path parameter out of range; ``422`` invalid
  query parameters or body (``400`` under ``/ogc``); ``503`` database unreachable;
- for writes also ``403``, ``409``, ``413``, ``415`` and ``429`` (and routes add ``412`` and
  ``428`` where they take ``If-Match``, with :func:`problems`);
- the JSON request body of an operation, from the pydantic model named by its
  ``x-request-model`` (see :data:`REQUEST_MODELS`), for both ``application/json`` and
  ``application/geo+json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.bodies import FeatureBody, LayerPatch, WorkflowBody
from app.errors import _TITLES, PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457 problem details); ``errors`` lists field-level detail.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
SCENARIO_SPEC_SCHEMA: dict[str, Any] = {
    "title": "ScenarioSpec",
    "description": "A scenario spec (see docs/methode-ruimtebeslag.md); 422 lists every problem.",
    "type": "object",
}
#: Models of request bodies by the name routes give in ``openapi_extra["x-request-model"]``.
REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "FeatureBody": FeatureBody,
    "LayerPatch": LayerPatch,
    "WorkflowBody": WorkflowBody,
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
NO_DATABASE = {"/healthz"}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for problem+json answers with these status codes."""
    return {code: _problem_response(code) for code in codes}


def _problem_response(code: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or _TITLES.get(code, "Error"),
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }


def request_body(model: str) -> dict[str, Any]:
    """``openapi_extra`` of a route whose JSON body is ``REQUEST_MODELS[model]`` (or the
    ``ScenarioSpec`` document)."""
    if model not in REQUEST_MODELS and model != "ScenarioSpec":
        raise ValueError(f"no request model {model!r}")
    return {"x-request-model": model}


def _statuses(path: str, method: str) -> set[int]:
    if path in NO_DATABASE:
        return set()
    codes = {400, 401, 503}
    codes.add(400 if path.startswith("/ogc") else 422)
    if "{" in path:
        codes.add(404)
    if method in WRITE_METHODS:
        codes |= {403, 409, 413, 415, 429}
    return codes


def rewrite(doc: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a generated OpenAPI document (see the module docstring)."""
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    components["Problem"] = PROBLEM_SCHEMA
    components["ScenarioSpec"] = SCENARIO_SPEC_SCHEMA
    _, defs = models_json_schema(
        [(m, "validation") for m in REQUEST_MODELS.values()],
        ref_template="#/components/schemas/{model}",
    )
    for name, schema in defs.get("$defs", {}).items():
        if components.setdefault(name, schema) != schema:
            raise RuntimeError(f"two different schemas are named {name!r} in the OpenAPI document")
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = op.setdefault("responses", {})
            for code, resp in list(responses.items()):
                content = resp.get("content", {})
                schema = content.get("application/json", {}).get("schema", {})
                if code == "422" or schema.get("$ref", "").endswith("/HTTPValidationError"):
                    responses[code] = _problem_response(int(code))
                elif code.isdigit() and int(code) >= 400:
                    responses[code] = {
                        "description": resp.get("description") or _TITLES.get(int(code), "Error"),
                        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
                    }
            for code in sorted(_statuses(path, method)):
                responses.setdefault(str(code), _problem_response(code))
            model = op.pop("x-request-model", None)
            if model:
                ref = {"$ref": f"#/components/schemas/{model}"}
                types = ["application/json"]
                if model in REQUEST_MODELS:
                    types.append("application/geo+json")
                op["requestBody"] = {
                    "required": True,
                    "content": {t: {"schema": ref} for t in types},
                }
    return doc


def install_openapi(app: FastAPI) -> None:
    """Serve the rewritten document at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = rewrite(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    description=app.description,
                    routes=app.routes,
                    license_info=app.license_info,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
