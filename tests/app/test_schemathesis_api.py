"""Schemathesis against the REST API with a provincie-editor's token: whatever it generates
(odd paths, bodies, query strings, writes), the service never answers with a 5xx.

Bounded: ``MAX_EXAMPLES`` generated requests per operation, in-process (ASGI). Scenario runs
are left out (each takes seconds and the preset paths are tested elsewhere).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import load_all_checks, not_a_server_error

from tests.app.conftest import make_app
from tests.app.test_access import headers

MAX_EXAMPLES = 15
load_all_checks()


@pytest.fixture(scope="module")
def api_operations(demo_engine):
    app = make_app(demo_engine)
    schema = (
        schemathesis.openapi.from_asgi("/openapi.json", app)
        .include(path_regex=r"^/(api|healthz|readyz)")
        .exclude(path_regex=r"/runs$")  # scenario runs take seconds each
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
        "POST /api/scenarios",
        "GET /api/runs/{run_id}",
    } <= set(ops)


@pytest.mark.slow
@pytest.mark.parametrize("role", ["provincie", "anoniem"])
def test_no_server_errors(api_operations, role):
    from fastapi.testclient import TestClient

    app, ops = api_operations
    failures = []
    with TestClient(app):  # runs the lifespan (engine, basemap) once
        for name, operation in sorted(ops.items()):

            @given(case=operation.as_strategy())
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case, name=name):
                case.headers = {**(case.headers or {}), **headers(role)}
                try:
                    case.call_and_validate(checks=[not_a_server_error])
                except Exception as exc:  # noqa: BLE001 - collect every failing operation
                    failures.append(f"{name}: {str(exc)[:300]}")
                    raise

            try:
                check()
            except Exception:  # noqa: BLE001,S112 - reported below
                continue
    assert failures == []
