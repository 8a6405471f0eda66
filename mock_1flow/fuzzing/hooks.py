"""schemathesis hooks loaded by ``mock-1flow fuzz`` (through ``SCHEMATHESIS_HOOKS``).

Each region gets a key valid there, so generated requests reach the handlers rather
than stopping at the key check; requests whose key schemathesis removed on purpose
(negative testing) stay without one.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

from .runner import KEYS_ENV
KEY_HEADERS = ("one_flow_key", "api_key")  # the SDK API's, and 1Flow's HTTP API's


def region_keys() -> dict[str, str]:
    return json.loads(os.environ.get(KEYS_ENV, "{}"))


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    keys = region_keys()
    region = (case.path_parameters or {}).get("region")
    if region not in keys:
        return
    # The request may already be built from the case: set the key in both places.
    for headers in (case.headers, kwargs.get("headers")):
        for name in KEY_HEADERS:
            if headers is not None and name in headers:
                headers[name] = keys[region]
