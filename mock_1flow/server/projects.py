"""Projects, plans and Segment sources: loaded from a YAML file, checked against the spec.

The file's shape is ``#/components/schemas/ProjectsFile`` in ``openapi.yaml``; a
malformed file is refused with the line and the field that is wrong.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import jsonschema_rs
import yaml

from ..paths import DEFAULT_PROJECTS_FILE
from .spec import component_schema


class ProjectsFileError(ValueError):
    """The projects file cannot be used; the message names the line and field."""


@dataclass(frozen=True)
class Plan:
    name: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class Project:
    key: str
    name: str
    region: str
    plan: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Source:
    """A Segment source: events sent with ``write_key`` go to ``project``."""

    write_key: str
    project: str
    region: str | None = None
    mappings: str | None = None
    profile: str = "web"  # the destination's runtime profile, as ``send``'s default
    delivery: str | None = None  # "sync" | "async"; None: the server's (serve --ingest-delivery)


@dataclass
class ProjectsConfig:
    plans: dict[str, Plan]
    projects: dict[str, Project]
    sources: dict[str, Source] = field(default_factory=dict)
    path: Path | None = None
    content: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {surveys, announcements}


_FILE_VALIDATOR = None


def _file_validator() -> Any:
    global _FILE_VALIDATOR
    if _FILE_VALIDATOR is None:
        _FILE_VALIDATOR = jsonschema_rs.Draft202012Validator(component_schema("ProjectsFile"))
    return _FILE_VALIDATOR


def _line_of(node: yaml.Node | None, path: list[Any]) -> int | None:
    """Follow a JSON path through the composed YAML tree to the node's line (1-based)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = [value for key, value in node.value if key.value == part]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _field(path: list[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


SourceCheck = Callable[[Source, Path], None]
"""Checks one Segment source at load time (the ingest checks its mappings); raises ValueError."""


def parse_projects(
    text: str, origin: str = "<projects>", base_dir: Path | None = None, check_source: SourceCheck | None = None
) -> ProjectsConfig:
    """Parse and check a projects document; raises :class:`ProjectsFileError`.

    ``check_source`` is the ingest's check of a source (its mappings), wired in by the app.
    """
    try:
        tree = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "unknown line"
        raise ProjectsFileError(f"{origin}: {where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        raise ProjectsFileError(f"{origin}: the file is empty; it needs 'plans' and 'projects'.")

    # inline content is checked below, where the message can name the field inside it
    errors = [e for e in _file_validator().iter_errors(data) if not _inline_content(data, list(e.instance_path))]
    if errors:
        error = errors[0]
        path = list(error.instance_path)
        if type(error.kind).__name__ == "Required":
            field_path = path + [error.kind.property]
        else:
            field_path = path
        raise ProjectsFileError(
            f"{origin}: line {_line_of(tree, path)}: {_field(field_path)}: {error.message}"
        )

    plans = {name: Plan(name, tuple(body["regions"])) for name, body in data["plans"].items()}
    projects: dict[str, Project] = {}
    for index, item in enumerate(data["projects"]):
        where = f"{origin}: line {_line_of(tree, ['projects', index])}: projects[{index}]"
        if item["plan"] not in plans:
            raise ProjectsFileError(
                f"{where}.plan: unknown plan '{item['plan']}'; define it under 'plans' (known: {', '.join(plans)})."
            )
        if item["key"] in projects:
            raise ProjectsFileError(f"{where}.key: duplicate project key '{item['key']}'.")
        projects[item["key"]] = Project(key=item["key"], name=item["name"], region=item["region"], plan=item["plan"])

    base_dir = base_dir or Path.cwd()
    content = _project_content(data["projects"], tree, origin, base_dir)
    sources: dict[str, Source] = {}
    for index, item in enumerate(data.get("sources") or []):
        where = f"{origin}: line {_line_of(tree, ['sources', index])}: sources[{index}]"
        if item["project"] not in projects:
            raise ProjectsFileError(f"{where}.project: unknown project key '{item['project']}'.")
        if item["write_key"] in sources:
            raise ProjectsFileError(f"{where}.write_key: duplicate write key '{item['write_key']}'.")
        source = Source(**item)
        if check_source is not None:
            try:
                check_source(source, base_dir)
            except ValueError as exc:
                raise ProjectsFileError(f"{where}.mappings: {exc}") from None
        sources[item["write_key"]] = source
    return ProjectsConfig(plans=plans, projects=projects, sources=sources, content=content)


def _inline_content(data: Any, path: list[Any]) -> bool:
    if len(path) < 3 or path[0] != "projects" or path[2] not in ("surveys", "announcements"):
        return False
    projects = data.get("projects") if isinstance(data, dict) else None
    item = projects[path[1]] if isinstance(projects, list) and isinstance(path[1], int) and path[1] < len(projects) else None
    return isinstance(item, dict) and isinstance(item.get(path[2]), dict)


def _project_content(items: list[dict[str, Any]], tree: yaml.Node | None, origin: str, base_dir: Path) -> dict[str, dict[str, Any]]:
    """Each project's own ``surveys`` / ``announcements`` (inline or a JSON file relative to
    the projects file), checked as a PUT of them is (:mod:`.content`)."""
    from .content import KINDS, ContentError, check, load_file

    content: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(items):
        for kind in KINDS:
            value = item.get(kind)
            if value is None:
                continue
            where = f"{origin}: line {_line_of(tree, ['projects', index, kind])}: projects[{index}].{kind}"
            try:
                doc = load_file(kind, base_dir / value) if isinstance(value, str) else check(kind, value)
            except ContentError as exc:
                raise ProjectsFileError(f"{where}: {exc}") from None
            content.setdefault(item["key"], {})[kind] = doc
    return content


def load_projects(path: str | os.PathLike[str] | None = None, check_source: SourceCheck | None = None) -> ProjectsConfig:
    """Load a projects file (the embedded ``fixtures/projects.yaml`` by default)."""
    file_path = Path(path) if path is not None else DEFAULT_PROJECTS_FILE
    try:
        text = file_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProjectsFileError(f"{file_path}: cannot read the projects file ({exc.strerror}).") from None
    config = parse_projects(text, str(file_path), file_path.resolve().parent, check_source)
    config.path = file_path
    return config
