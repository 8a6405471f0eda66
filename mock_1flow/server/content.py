"""Each project's surveys and announcements (issue 17): what ``/v3/survey``,
``/v3/announcements`` and ``/v3/announcements/inbox`` serve for that project.

A project's content comes from the projects file (inline or a JSON file per project) or
from ``PUT /__admin/projects/{key}/surveys|announcements``; a project without its own
serves the mock's fixtures (``fixtures/surveys.json``, ``fixtures/announcements.json``).
Content is checked twice before it is kept: against ``openapi.yaml`` (``ProjectSurveys``,
``ProjectAnnouncements``) and against every real client's response models
(``fixtures/clients/models``, the schemas ``tests/clients/test_decode.py`` decodes with),
fed the responses the SDK API would build from it, so content an SDK could not decode is
refused naming the client, the model and the field.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import jsonschema_rs

from ..contracts.corpus import MODELS_DIR, all_corpora
from .errors import envelope
from .spec import component_schema

KINDS = ("surveys", "announcements")
SPEC_SCHEMAS = {"surveys": "ProjectSurveys", "announcements": "ProjectAnnouncements"}
MESSAGE_MAX = 300  # characters of a schema message kept (jsonschema repeats the whole value)

Doc = dict[str, Any]
PathMap = Callable[[list[Any]], list[Any]]


class ContentError(ValueError):
    """Content refused: ``pointer`` is the field in the content document; ``client`` and
    ``model`` are set when a client's model (not the spec) refuses it."""

    def __init__(self, pointer: str, message: str, client: str | None = None, model: str | None = None) -> None:
        who = f"the {client} SDK cannot decode it (model {model}): " if client else ""
        super().__init__(f"{pointer or '(root)'}: {who}{message}")
        self.pointer, self.reason, self.client, self.model = pointer, message, client, model


def pointer(parts: list[Any]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


# -- what the SDK API serves from a content document (sdk.py's handlers use these) --------


def surveys_for_platform(doc: Doc, platform: str) -> list[Doc]:
    """``/v3/survey``'s ``result``: the surveys listing ``platform`` (all without one)."""
    surveys: list[Doc] = doc["surveys"]
    wanted = platform.lower()
    if not wanted:
        return surveys
    return [s for s in surveys if wanted in {p.lower() for p in s.get("platforms") or [] if isinstance(p, str)}]


def details_for(doc: Doc, ids: list[str]) -> list[Doc]:
    """``/v3/announcements/inbox?ids=...``: the details of the listed ids (unknown ids left out)."""
    return [detail for detail in doc["details"] if detail["id"] in ids]


def _served(kind: str, doc: Doc) -> list[tuple[str, Any, PathMap]]:
    """The responses the SDK API builds from ``doc``: (operation, body, a map from a path in
    the body back to the path in ``doc``)."""
    if kind == "surveys":
        def listed(path: list[Any]) -> list[Any]:
            return ["surveys", *path[1:]] if path[:1] == ["result"] else path

        def one(index: int) -> PathMap:
            return lambda path: ["surveys", index, *path[1:]] if path[:1] == ["result"] else path

        served: list[tuple[str, Any, PathMap]] = [
            ("listSurveys", envelope(200, "ok", doc["surveys"], throttlingMobileSDKConfig=doc["throttlingMobileSDKConfig"]),
             listed)]
        served += [("getSurvey", envelope(200, "ok", survey), one(index)) for index, survey in enumerate(doc["surveys"])]
        return served
    return [
        ("listAnnouncements", envelope(200, "ok", {"announcements": doc["announcements"], "theme": doc["theme"]}),
         lambda path: path[1:] if path[:1] == ["result"] else path),
        ("getAnnouncementDetails", envelope(200, "ok", doc["details"]),
         lambda path: ["details", *path[1:]] if path[:1] == ["result"] else path),
    ]


# -- the checks -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClientModels:
    client: str  # the SDK, e.g. 1flow-ios-sdk
    operations: dict[str, Any]
    defs: dict[str, Any]


@lru_cache(maxsize=1)
def client_models() -> tuple[ClientModels, ...]:
    """One entry per models file (the Segment plugins decode with their SDK's models)."""
    seen: dict[str, ClientModels] = {}
    for corpus in all_corpora():
        if corpus.models not in seen:
            data = json.loads((MODELS_DIR.parent / corpus.models).read_text(encoding="utf-8"))
            seen[corpus.models] = ClientModels(corpus.sdk, data["operations"], data["$defs"])
    return tuple(seen.values())


@lru_cache(maxsize=64)
def _model_validator(client: str, operation: str) -> Any:
    models = next((m for m in client_models() if m.client == client), None)
    if models is None:
        raise ValueError(f"no models for client {client!r} (known: {', '.join(m.client for m in client_models())})")
    spec = models.operations[operation]
    model = {"$ref": f"#/$defs/{spec['model']}"} if isinstance(spec["model"], str) else spec["model"]
    return jsonschema_rs.Draft202012Validator({"$defs": models.defs, "allOf": [model, spec.get("uses", {})]})


@lru_cache(maxsize=2)
def _spec_validator(kind: str) -> Any:
    return jsonschema_rs.Draft202012Validator(component_schema(SPEC_SCHEMAS[kind]))


def decode_errors(client: str, operation: str, body: Any) -> list[str]:
    """What ``client``'s models (``1flow-ios-sdk``, ``1flow-android-sdk``) refuse in a response
    body of ``operation`` (``listSurveys``, ...): ``pointer: reason`` each; empty when it decodes."""
    errors = []
    for error in _model_validator(client, operation).iter_errors(body):
        deepest = _deepest(error)
        errors.append(f"{pointer(_parts(deepest))}: {_short(deepest.message)}")
    return errors


def _deepest(error: Any) -> Any:
    """An ``anyOf`` (an optional value: null or a model) reports at its own level; the
    branch that went deepest says which field is wrong."""
    best = error
    for branch in getattr(error.kind, "context", None) or []:
        for sub in branch:
            found = _deepest(sub)
            if len(_parts(found)) > len(_parts(best)):
                best = found
    return best


def _parts(error: Any) -> list[Any]:
    parts = list(error.instance_path)
    if type(error.kind).__name__ == "Required":
        parts.append(error.kind.property)
    return parts


def _short(message: str) -> str:
    return message if len(message) <= MESSAGE_MAX else message[:MESSAGE_MAX] + "..."


def _model_of(error: Any, fallback: str) -> str:
    path = list(error.schema_path)
    marks = [i for i, part in enumerate(path) if part == "$defs" and i + 1 < len(path)]
    return str(path[marks[-1] + 1]) if marks else fallback


def spec_errors(kind: str, doc: Any) -> list[ContentError]:
    """Where ``doc`` breaks the spec's ``ProjectSurveys`` / ``ProjectAnnouncements``."""
    return [ContentError(pointer(_parts(e)), _short(e.message)) for e in _spec_validator(kind).iter_errors(doc)]


def client_errors(kind: str, doc: Doc) -> list[ContentError]:
    """For each client whose models refuse what the SDK API would serve from ``doc``, the
    first field refused (one error per client, in the content document's terms)."""
    found = []
    for models in client_models():
        for operation, body, back in _served(kind, doc):
            if operation not in models.operations:
                continue
            error = next(iter(_model_validator(models.client, operation).iter_errors(body)), None)
            if error is not None:
                deepest = _deepest(error)
                spec = models.operations[operation]["model"]
                fallback = spec if isinstance(spec, str) else f"the {operation} response"
                found.append(ContentError(pointer(back(_parts(deepest))), _short(deepest.message), models.client,
                                          _model_of(deepest, fallback)))
                break
    return found


def check(kind: str, doc: Any) -> Doc:
    """``doc`` if both the spec and every client accept it; raises the first :class:`ContentError`."""
    errors = spec_errors(kind, doc) or client_errors(kind, doc)
    if errors:
        raise errors[0]
    return doc


def load_file(kind: str, path: Path) -> Doc:
    """A content JSON file, checked; raises :class:`ContentError` (pointer ``""`` for an unreadable file)."""
    from .validation import MalformedJson, parse_json

    try:
        doc = parse_json(path.read_bytes())
    except OSError as exc:
        raise ContentError("", f"cannot read {path} ({exc.strerror})") from None
    except MalformedJson as exc:
        raise ContentError("", f"{path} is not valid JSON ({exc})") from None
    return check(kind, doc)


# -- the per-project store ------------------------------------------------------------


class ProjectContent:
    """The projects' own content: the projects file's, changed by PUTs until a reset.

    Thread-safe; documents are replaced whole, never changed in place, so a reader holds a
    consistent document without the lock.
    """

    def __init__(self, file_content: dict[str, dict[str, Doc]] | None = None) -> None:
        self._file = file_content or {}
        self._lock = threading.Lock()
        self._own: dict[str, dict[str, Doc]] = {}
        self.reset()

    def get(self, key: str, kind: str) -> Doc | None:
        return self._own.get(key, {}).get(kind)

    def put(self, key: str, kind: str, doc: Doc) -> None:
        with self._lock:
            self._own[key] = {**self._own.get(key, {}), kind: doc}

    def reset(self) -> None:
        """Back to the projects file's content."""
        with self._lock:
            self._own = copy.deepcopy(self._file)

    def reset_project(self, key: str) -> None:
        """One project back to the projects file's content (or the defaults)."""
        with self._lock:
            self._own.pop(key, None)
            if key in self._file:
                self._own[key] = copy.deepcopy(self._file[key])

    def forget(self, key: str) -> None:
        """A deleted project's content: a project created again with that key starts from the defaults."""
        with self._lock:
            self._own.pop(key, None)

    def export(self) -> dict[str, dict[str, Doc]]:
        with self._lock:
            return {key: dict(kinds) for key, kinds in self._own.items() if kinds}

    def replace(self, own: dict[str, dict[str, Doc]]) -> None:
        with self._lock:
            self._own = {key: dict(kinds) for key, kinds in own.items()}


# -- the state document (GET/PUT /__admin/state, serve --state-file) -------------------


class ContentPart:
    """Each project's own content as a state part (``parts.content`` of the state document and
    the state file: ``{key: {"surveys": ..., "announcements": ...}}``); a document without it
    puts back the projects file's content, as a reset does."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def export(self) -> dict[str, dict[str, Doc]]:
        """The content of the projects the mock has, so the document always loads back."""
        with self.runtime.store.lock:
            keys = set(self.runtime.store.projects)
        return {key: kinds for key, kinds in self.runtime.content.export().items() if key in keys}

    def check(self, data: Any, projects: set[str] | None = None) -> None:
        """The spec's shapes and every client's models; with ``projects``, content only for those."""
        if not isinstance(data, dict):
            raise ValueError("the content is an object: project key -> {surveys, announcements}")
        for key, kinds in data.items():
            if projects is not None and key not in projects:
                raise ValueError(f"/{key}: content for a project not in 'projects'")
            if not isinstance(kinds, dict) or set(kinds) - {"surveys", "announcements"}:
                raise ValueError(f"/{key}: a project's content is an object with 'surveys' and/or 'announcements'")
            for kind, doc in kinds.items():
                errors = spec_errors(kind, doc) or client_errors(kind, doc)
                if errors:
                    error = errors[0]
                    if error.client:
                        raise ValueError(f"/{key}/{kind}{error.pointer}: the {error.client} SDK cannot decode it "
                                         f"(model {error.model}): {error.reason}")
                    raise ValueError(f"/{key}/{kind}{error.pointer}: {error.reason}")

    def load(self, data: Any) -> None:
        self.runtime.content.replace(data)

    def reset(self) -> None:
        """The projects file's content, and the default fixtures of projects without their own."""
        self.runtime.content.reset()
        self.runtime.reset_default_content()
