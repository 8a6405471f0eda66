"""The destination's settings, as Segment's 1Flow (Actions) destination has them."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..server.spec import API_VERSION_PATH, regions
from .profiles import DEFAULT_PROFILE, PROFILES

DEFAULT_URL = "https://api-sdk.1flow.app" + API_VERSION_PATH
LOCAL_MOCK_URL = "http://127.0.0.1:8080"  # ``mock-1flow serve``'s default address, in path form
APIS = ("sdk", "http")


@dataclass(frozen=True)
class Settings:
    """``projectApiKey``, Regional Data Hosting (``us`` | ``eu``), where to send, and the
    runtime ``profile`` (:mod:`.profiles`: ``web`` by default) whose behaviour to follow.

    The rule for ``url``, so one setting serves both the real host and the mock:

    - a ``url`` ending in ``/api/2021-06-15`` is the API base, used as is (host form: the
      real 1Flow host, or a mock reached by host name; the host picks the region);
    - any other ``url`` is a server root and the base is ``{url}/{region}/api/2021-06-15``
      (the mock's path form, e.g. ``http://127.0.0.1:8080`` -> ``.../us/api/2021-06-15``).
    """

    project_api_key: str
    region: str = "us"
    url: str = DEFAULT_URL
    profile: str = DEFAULT_PROFILE
    api: str = "sdk"  # "sdk": the SDK API, as the 1Flow SDKs call it; "http": 1Flow's public HTTP API (.http_api)

    def __post_init__(self) -> None:
        if not isinstance(self.project_api_key, str) or not self.project_api_key.strip():
            raise ValueError("projectApiKey is required: the 1Flow project key (oneflow_prod_... / oneflow_sandbox_...)")
        if self.region not in regions():
            raise ValueError(f"region must be one of {', '.join(regions())}, not {self.region!r}")
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {self.profile!r}")
        if self.api not in APIS:
            raise ValueError(f"api must be one of {', '.join(APIS)}, not {self.api!r}")
        parts = urlsplit(self.url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"url must be an http(s) URL such as {DEFAULT_URL} or http://127.0.0.1:8080, not {self.url!r}")

    @property
    def api_base(self) -> str:
        """The URL the API paths (``/v3/...``) are appended to."""
        url = self.url.rstrip("/")
        return url if url.endswith(API_VERSION_PATH) else f"{url}/{self.region}{API_VERSION_PATH}"
