"""schemathesis over every operation of openapi.yaml, in-process against the Flask mock.

Positive and negative data; the checks that apply to a mock that must be faithful to
its own spec. Valid keys are supplied per region so generated requests reach the
handlers instead of stopping at the key check (key errors have their own tests).
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from mock_1flow.app import create_app
from mock_1flow.paths import SPEC_PATH

KEYS = {"us": "oneflow_sandbox_initech", "eu": "oneflow_prod_globex"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    negative_data_rejection,
]

schema = schemathesis.openapi.from_path(str(SPEC_PATH))
schema.app = create_app()
admin = schema.app.test_client()
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=40,
)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    admin.post("/__admin/reset", headers={"X-Mock-1flow-Admin": "1"})  # each case starts from the loaded projects, whatever the last one deleted
    region = (case.path_parameters or {}).get("region")
    for header in ("one_flow_key", "api_key"):  # the SDK API's key header, and 1Flow's HTTP API's
        if region in KEYS and header in (case.headers or {}):
            case.headers[header] = KEYS[region]
    case.call_and_validate(checks=CHECKS)
