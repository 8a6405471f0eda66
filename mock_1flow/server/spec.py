"""The loaded ``openapi.yaml``: the one place shapes come from."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..paths import SPEC_PATH

API_VERSION_PATH = "/api/2021-06-15"


# libyaml's parser where PyYAML was built with it (the wheels are): the same documents, five
# times faster on the spec (0.2 s instead of 1 s), which every start and CLI command pays
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=4)
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """Parse the spec once per process; callers must not mutate it."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=SAFE_LOADER)


def spec_text(path: Path = SPEC_PATH) -> str:
    return Path(path).read_text(encoding="utf-8")


def regions(spec: dict[str, Any] | None = None) -> tuple[str, ...]:
    """The regions the mock knows: the enum of the spec's ``Region`` schema."""
    spec = spec or load_spec()
    return tuple(spec["components"]["schemas"]["Region"]["enum"])


def component_schema(name: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """A self-contained JSON Schema for ``#/components/schemas/<name>``.

    The components travel with the ``$ref`` so that references inside resolve
    against the same document, without copying any schema into Python.
    """
    spec = spec or load_spec()
    return {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}


def bundle(schema: dict[str, Any], spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """Wrap an inline schema from the spec so its ``#/components`` refs resolve."""
    spec = spec or load_spec()
    return {"allOf": [schema], "components": spec["components"]}


def resolve_ref(node: dict[str, Any], spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """The object a (chain of) local ``$ref`` points to in the spec, or ``node`` itself."""
    spec = spec or load_spec()
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node
