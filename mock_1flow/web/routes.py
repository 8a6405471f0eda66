"""The web SDK double's routes: the script, and the record of each ``_1flow`` call.

- ``GET /js/1flow.js``: the URL Segment's 1Flow Web (Actions) loads since 2023-12-11 (on
  ``1flow.app``), and ``GET /js-sdk/1flow.js``, its URL before (on
  ``cdn-development.1flow.ai``). Any host answers; ``1flow.app`` and
  ``cdn-development.1flow.ai`` are mapped to a region like the SDK hosts, so a hosts file
  or proxy pointing them here (with ``--tls``) works too. The script sends everything to
  the origin it was loaded from (its tag's ``src``).
- ``POST /js/1flow/calls``: the script reports each call as the page made it; the answer
  says whether the double sends it on (:func:`.calls.check_call`) and where the project's
  SDK API is. Journaled like every request (``project``, ``region``; a refused call with its
  ``error`` code), so a test can assert on the calls themselves.

All three answer CORS as the SDK API does (``server/cors.py``): the page is on another origin.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from flask import Blueprint, Flask, Response, g, request

from ..server import cors
from ..server.errors import envelope
from ..server.hotpath import MAX_REQUEST_BYTES
from ..server.runtime import current_runtime
from ..server.routes.common import json_response, preflight_response, validated
from ..server.spec import API_VERSION_PATH
from .calls import check_call

bp = Blueprint("web_sdk", __name__)

SCRIPT_PATHS = ("/js/1flow.js", "/js-sdk/1flow.js")
CALLS_PATH = "/js/1flow/calls"


@lru_cache(maxsize=1)
def _script() -> str:
    return resources.files(__package__).joinpath("static/1flow.js").read_text(encoding="utf-8")


def _options(methods: tuple[str, ...]) -> Response:
    if cors.is_preflight(request.method, request.headers.items()):
        return preflight_response(methods)
    return Response(status=200, headers={"Allow": ", ".join(methods)})


def serve_script() -> Response:
    if request.method == "OPTIONS":
        return _options(("GET", "HEAD", "OPTIONS"))
    return Response(_script(), mimetype="application/javascript", headers={"Cache-Control": "no-store"})


for _endpoint, _path in zip(("webSdkScript", "webSdkScriptLegacy"), SCRIPT_PATHS):  # the spec's operation ids
    bp.add_url_rule(_path, _endpoint, serve_script, methods=["GET", "OPTIONS"], provide_automatic_options=False)


@bp.route(CALLS_PATH, methods=["POST", "OPTIONS"], provide_automatic_options=False)
def record_call() -> Response:
    """One ``_1flow`` call as the page made it: recorded, checked, answered with the verdict
    and the project's SDK API (the path form of its home region; the first region for a key
    no project has, so the SDK API answers that key as it answers any)."""
    if request.method == "OPTIONS":
        return _options(("POST", "OPTIONS"))
    body = validated("webSdkCall", {}, MAX_REQUEST_BYTES)
    runtime = current_runtime()
    key = body.get("key") or None
    project = runtime.store.projects.get(key) if key else None
    region = project.region if project is not None else runtime.regions[0]
    ctx = g._get_current_object()
    ctx.project, ctx.region = key, region
    verdict = check_call(body["method"], body["args"]) if body.get("encoding_error") is None else None
    error = verdict.error if verdict else "unserializable_arguments"
    message = verdict.message if verdict else (
        f"_1flow({body['method']!r}, ...): the arguments could not be sent as JSON ({body['encoding_error']}); "
        "pass plain objects, strings and numbers.")
    result = {"web_sdk_call": {"method": body["method"], "args": body["args"]},
              "api": f"/{region}{API_VERSION_PATH}", "sent": error is None}
    extra = {"error": error} if error else {}
    return json_response(envelope(200, message, result, **extra))


def allow_origin(response: Response) -> Response:
    """``after_request``: the double's answers (errors too) may be read by any origin."""
    path = request.path
    if (path in SCRIPT_PATHS or path == CALLS_PATH) and not cors.has_allow_origin(response.headers.items()):
        response.headers[cors.ALLOW_ORIGIN[0]] = cors.ALLOW_ORIGIN[1]
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(allow_origin)
