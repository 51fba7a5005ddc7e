"""Schemathesis against the REST API, anonymous and with a provincie-editor's token: whatever
it generates (odd paths, bodies, query strings, writes), the service never answers with a 5xx,
and every status and content type it answers is one the OpenAPI document declares.

Bounded: ``MAX_EXAMPLES`` generated requests per operation and role, in-process (ASGI).
Scenario runs are left out (each takes seconds and the preset paths are tested elsewhere).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import load_all_checks, not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from tests.app.conftest import make_app
from tests.app.test_access import headers

MAX_EXAMPLES = int(os.environ.get("RUIMTE_SCHEMATHESIS_EXAMPLES", "100"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
load_all_checks()


@pytest.fixture(scope="module")
def api_operations(demo_engine):
    app = make_app(demo_engine)
    schema = (
        schemathesis.openapi.from_asgi("/openapi.json", app)
        .include(path_regex=r"^/(api|healthz|readyz|ogc/collections/\{collectionId\}/items)")
        .exclude(path_regex=r"/runs$")  # scenario runs take seconds each
        .exclude(path_regex=r"^/ogc", method="GET")  # the OGC reads: tests/ogc/test_schemathesis
    )
    ops = {
        f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in schema.get_all_operations())
    }
    return app, ops


def test_every_api_operation_is_fuzzed(api_operations):
    _, ops = api_operations
    assert {
        "GET /api/layers/{name}/features",
        "POST /api/layers/{name}/features",
        "PUT /api/layers/{name}/features/{fid}",
        "POST /ogc/collections/{collectionId}/items",
        "PUT /ogc/collections/{collectionId}/items/{featureId}",
        "DELETE /ogc/collections/{collectionId}/items/{featureId}",
        "POST /api/scenarios",
        "GET /api/runs/{run_id}",
    } <= set(ops)


@pytest.mark.slow
@pytest.mark.parametrize("role", ["provincie", "anoniem"])
def test_no_server_errors(api_operations, role):
    from fastapi.testclient import TestClient

    app, ops = api_operations
    failures: list[str] = []
    calls = [0]

    def fuzz(name, operation):
        # (hypothesis refuses a test with extra parameters, e.g. name=name: bind by closure)
        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.headers = {**(case.headers or {}), **headers(role)}
            calls[0] += 1
            case.call_and_validate(checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect them all
            failures.append(f"{name}: {str(exc)[:600]}")

    with TestClient(app):  # runs the lifespan (engine, basemap) once
        for name, operation in sorted(ops.items()):
            fuzz(name, operation)
    assert failures == []
    assert calls[0] >= 20 * len(ops), calls  # hypothesis really generated cases
