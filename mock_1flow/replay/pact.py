"""``mock-1flow contracts from-recording``: a recording as a Pact file shaped like the client
contracts (``contracts/1flow-*-1flow-api.json``, tests/contract/test_client_contracts.py):
Pact V4, provider ``1flow-api``, the provider state ``a project`` (key, region, plan), the
request literal (what the client sent) in the mock's path form (a verifier sends to one base
URL), the response with matchers wherever the value is the provider's: ``success`` literal,
24-hex ids by regex, other values by type, arrays ``each_like`` their first element.

A request the real 1Flow refused for its key (``unknown_key``, ``invalid_key``) is given
``no project`` instead, so the verifier sees the refusal again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ..proxy.forward import HOP_BY_HOP, is_http_api
from ..server.projects import load_projects
from ..server.spec import API_VERSION_PATH
from .drift import operation_name, shape
from .matching import PLACEHOLDER
from .recording import KEY_HEADERS, Recorded, header

PROVIDER = "1flow-api"
OBJECT_ID = r"^[0-9a-f]{24}$"
KEY_REFUSALS = ("unknown_key", "invalid_key")
HOST_FORM_REGION = "us"  # api-sdk.1flow.app and api.1flow.app (fixtures: DEFAULT_HOST_REGIONS, DEFAULT_HTTP_API_HOSTS)


def path_form(path: str) -> tuple[str, str]:
    """``/api/2021-06-15/v3/user`` -> (``us``, ``/us/api/2021-06-15/v3/user``); ``/v1/x`` ->
    (``us``, ``/us/v1/x``); a path form keeps its region."""
    if path.startswith(API_VERSION_PATH + "/") or (is_http_api(path) and path.startswith("/v1/")):
        return HOST_FORM_REGION, f"/{HOST_FORM_REGION}{path}"
    return path.split("/")[1], path


_DROP = object()


def _common(values: list[Any]) -> Any:
    """What every one of ``values`` has, as one value: the fields all objects have (with what
    all their values have in common), all arrays' elements merged, a scalar when all share its
    JSON type. Nothing (``_DROP``) when they disagree or are null: a type matcher on a null
    would demand null, and no matcher says "this field, if present"."""
    first = values[0]
    if first is None or any(type(value) is not type(first) for value in values):
        return _DROP
    if isinstance(first, dict):
        merged = {}
        for name in first:
            if all(name in value for value in values):
                child = _common([value[name] for value in values])
                if child is not _DROP:
                    merged[name] = child
        return merged
    if isinstance(first, list):
        elements = [element for value in values for element in value]
        if not elements:
            return []
        common = _common(elements)
        return _DROP if common is _DROP else [common]
    return first


def matchers(value: Any, top: bool = True) -> Any:
    """The recorded answer with Pact matchers, as the client contracts write them; an array
    is ``each_like`` what all its elements have in common (:func:`_common`)."""
    from pact import match

    if isinstance(value, dict):
        shown = {}
        for name, child in value.items():
            if top and name == "success":
                shown[name] = child
            elif child is not None or top:  # a null field inside says nothing a type matcher can keep
                shown[name] = matchers(child, False) if child is not None else None
        return shown
    if isinstance(value, list):
        common = _common(value) if value else _DROP
        return match.like([]) if common is _DROP else match.each_like(matchers(common, False))
    if isinstance(value, bool):
        return match.bool(value)
    if isinstance(value, int):
        return match.int(value)
    if isinstance(value, float):
        return match.number(value)
    if isinstance(value, str):
        return match.regex(value, regex=OBJECT_ID) if len(value) == 24 and _hex(value) else match.str(value)
    return value


def _hex(text: str) -> bool:
    return all(char in "0123456789abcdef" for char in text)


def _distinct(recordings: list[Recorded]) -> list[Recorded]:
    """One interaction per distinct request and answer (status and shape: an app repeats itself,
    the ids in the answers differ)."""
    seen, kept = set(), []
    for recorded in recordings:
        answer = sorted((pointer, tuple(sorted(types))) for pointer, types in shape(recorded.response_body).items())
        key = (recorded.method, recorded.path, recorded.query, json.dumps(recorded.body, sort_keys=True), recorded.status,
               json.dumps(answer))
        if key not in seen:
            seen.add(key)
            kept.append(recorded)
    return kept


def write_pact(recordings: list[Recorded], consumer: str, out: Path, provider: str = PROVIDER,
               key_map: dict[str, str] | None = None) -> int:
    """Write the Pact file ``out``; returns how many interactions it has. ``<key-N>``
    placeholders become their ``key_map`` key, else the first project of the mock's
    embedded projects (``oneflow_prod_acme``), as ``mock-1flow drift`` sends them."""
    from pact import Pact

    default_key = next(iter(load_projects().projects))
    pact = Pact(consumer, provider).with_specification("V4")
    kept = _distinct(recordings)
    for recorded in kept:
        region, path = path_form(recorded.path)
        key = header(recorded.headers, *KEY_HEADERS)
        if key is not None and PLACEHOLDER.match(key):
            key = (key_map or {}).get(key, default_key)
        interaction = pact.upon_receiving(f"{recorded.id}: {operation_name(recorded)}")
        refused = isinstance(recorded.response_body, dict) and recorded.response_body.get("error") in KEY_REFUSALS
        if key is not None and refused:
            interaction.given("no project", key=key)
        elif key is not None:
            interaction.given("a project", key=key, region=region, plan="free" if region == "us" else "enterprise")
        interaction.with_request(recorded.method, path)
        content_type = "application/json"
        for name, value in recorded.headers.items():
            lower = name.lower()
            if lower == "content-type":
                content_type = value
            elif lower not in HOP_BY_HOP:
                interaction.with_header(name, key if lower in KEY_HEADERS and key is not None else value)
        if recorded.body is not None:
            text = recorded.body if isinstance(recorded.body, str) else json.dumps(recorded.body, ensure_ascii=False, separators=(",", ":"))
            interaction.with_body(text, content_type=content_type)
        for name, value in parse_qsl(recorded.query, keep_blank_values=True):
            interaction.with_query_parameter(name, value)
        response = interaction.will_respond_with(recorded.status)
        if isinstance(recorded.response_body, (dict, list)):
            response.with_body(matchers(recorded.response_body), content_type="application/json")
        elif recorded.response_body is not None:
            response.with_body(str(recorded.response_body),
                               content_type=header(recorded.response_headers, "content-type") or "text/plain")
    with tempfile.TemporaryDirectory() as folder:
        pact.write_file(folder, overwrite=True)
        shutil.move(str(next(Path(folder).glob("*.json"))), out)
    return len(kept)
