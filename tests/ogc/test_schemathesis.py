"""Schemathesis against the OpenAPI document: generated requests to the OGC API, the tiles and
the styles get no 5xx, and every response matches its documented status, type and schema.

Bounded: ``MAX_EXAMPLES`` generated requests per operation, in-process (ASGI), so it takes
well under a minute. (Hypothesis drives each operation directly: schemathesis's pytest
fixture integration does not work with pytest 9.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import load_all_checks, negative_data_rejection, positive_data_acceptance

MAX_EXAMPLES = 100
load_all_checks()
PATHS = r"^/(ogc|tiles|api/styles)"


@pytest.fixture(scope="session")
def operations(ogc_app, ogc_client):
    """The GET operations of /ogc, /tiles and /api/styles in the app's OpenAPI document."""
    schema = (
        schemathesis.openapi.from_asgi("/openapi.json", ogc_app)
        .include(path_regex=PATHS)
        .include(method="GET")
    )
    return {
        f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in schema.get_all_operations())
    }


def test_the_operations_are_covered(operations):
    assert {
        "GET /ogc",
        "GET /ogc/collections/{collectionId}/items",
        "GET /ogc/collections/{collectionId}/items/{featureId}",
        "GET /tiles/{collection}/{z}/{x}/{y}.mvt",
    } <= set(operations)


@pytest.mark.parametrize(
    "name",
    [
        "GET /ogc",
        "GET /ogc/conformance",
        "GET /ogc/collections",
        "GET /ogc/collections/{collectionId}",
        "GET /ogc/collections/{collectionId}/items",
        "GET /ogc/collections/{collectionId}/items/{featureId}",
        "GET /ogc/collections/{collectionId}/queryables",
        "GET /ogc/api",
        "GET /ogc/tileMatrixSets",
        "GET /ogc/tileMatrixSets/{tileMatrixSetId}",
        "GET /ogc/collections/{collectionId}/tiles",
        "GET /ogc/collections/{collectionId}/tiles/{tileMatrixSetId}",
        "GET /ogc/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson",
        "GET /ogc/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        "GET /ogc/styles",
        "GET /ogc/styles/{styleId}",
        "GET /tiles/{collection}/{z}/{x}/{y}.mvt",
        "GET /tiles/{collection}/{tileMatrixSetId}/{z}/{x}/{y}.mvt",
        "GET /tiles/{collection}.json",
        "GET /api/styles",
        "GET /api/styles/{name}.qml",
        "GET /api/styles/{name}.sld",
    ],
)
def test_responses_match_the_openapi_document(operations, name):
    operation = operations[name]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        # The heuristics about which inputs "should" be accepted are left out: an RFC 3339
        # interval or a bbox cannot be told valid by a JSON Schema pattern alone.
        case.call_and_validate(excluded_checks=[positive_data_acceptance, negative_data_rejection])

    check()


@pytest.fixture(scope="session")
def ogc_operations(ogc_app, ogc_client):
    """The operations of the OGC API's own OpenAPI 3.0 document (/ogc/api), one items path
    per collection with its queryable properties as parameters."""
    schema = schemathesis.openapi.from_asgi("/ogc/api", ogc_app)
    return {
        f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in schema.get_all_operations())
    }


@pytest.mark.parametrize(
    "name",
    [
        "GET /collections/{collectionId}/items",
        "GET /collections/reserveringen/items",
        "GET /collections/bedrijventerreinen/items",
        "GET /collections/{collectionId}/queryables",
        "GET /",
    ],
)
def test_the_ogc_openapi_30_document_matches_the_responses(ogc_operations, name):
    operation = ogc_operations[name]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES // 2,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate(excluded_checks=[positive_data_acceptance, negative_data_rejection])

    check()
