"""The destination's settings, as Segment's 1Flow (Actions) destination has them."""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import API_VERSION_PATH, regions

DEFAULT_URL = "https://api-sdk.1flow.app" + API_VERSION_PATH


@dataclass(frozen=True)
class Settings:
    """``url`` ending in ``/api/2021-06-15`` is used as the API base as is (the real 1Flow
    host, host form); any other ``url`` is a server root and the base is
    ``{url}/{region}/api/2021-06-15`` (the mock's path form)."""

    project_api_key: str
    region: str = "us"
    url: str = DEFAULT_URL

    def __post_init__(self) -> None:
        if not self.project_api_key or not self.project_api_key.strip():
            raise ValueError("projectApiKey is required: the 1Flow project key (oneflow_prod_... / oneflow_sandbox_...)")
        if self.region not in regions():
            raise ValueError(f"region must be one of {', '.join(regions())}, not {self.region!r}")

    @property
    def api_base(self) -> str:
        url = self.url.rstrip("/")
        return url if url.endswith(API_VERSION_PATH) else f"{url}/{self.region}{API_VERSION_PATH}"
