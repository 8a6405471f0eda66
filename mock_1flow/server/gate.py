"""Keys, regions and plans: the 404s Segment documents for the 1Flow destination.

Checks run in a fixed order: region known -> key present -> key known -> region in
the project's plan -> region is the project's home region. Each failure has its own
``error`` code; the ``backend`` profile answers key errors with 401 ``invalid_key``.
"""

from __future__ import annotations

from .errors import ApiError
from .projects import Project
from .spec import API_VERSION_PATH
from .store import Store


def _key_error(profile: str, error: str, message: str) -> ApiError:
    if profile == "backend":
        return ApiError(401, "invalid_key", f"Invalid key. {message}")
    return ApiError(404, error, message)


def check_region(region: str, known: tuple[str, ...]) -> None:
    if region not in known:
        raise ApiError(
            404,
            "unknown_region",
            f"Unknown region '{region}'. 1Flow regions are: {', '.join(known)}; "
            f"use e.g. /{known[0]}{API_VERSION_PATH}/v3/track.",
        )


def authorize(store: Store, region: str, key: str | None, profile: str) -> Project:
    """Return the project the key opens in ``region``, or raise the documented error.

    The region must already have passed :func:`check_region`.
    """
    if not key:
        raise _key_error(
            profile,
            "missing_key",
            "The one_flow_key header is missing. Send your 1Flow project key in the "
            "'one_flow_key' header (note the underscores: nginx and gunicorn drop such headers by default).",
        )
    project = store.projects.get(key)
    if project is None:
        raise _key_error(
            profile,
            "unknown_key",
            f"No project has the key '{key}'. Check the App ID (projectApiKey) in your Segment 1Flow destination settings.",
        )
    plan = store.plans.get(project.plan)
    included = plan.regions if plan else ()
    if region not in included:
        raise ApiError(
            404,
            "region_not_in_plan",
            f"Project {project.name}'s plan '{project.plan}' does not include the {region} region "
            f"(it includes: {', '.join(included) or 'none'}). Choose a region the plan includes in the "
            "Regional Data Hosting setting, or upgrade the plan.",
        )
    if region != project.region:
        raise ApiError(
            404,
            "key_region_mismatch",
            f"Project {project.name} (key '{key}') is hosted in {project.region}; send it to the "
            f"{project.region} endpoint (/{project.region}{API_VERSION_PATH}).",
        )
    return project
