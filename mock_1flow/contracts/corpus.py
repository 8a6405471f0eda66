"""The corpus of real-client traffic (``fixtures/clients/*.json``): every request 1Flow's SDKs
and Segment plugins make, as their sources build it, turned into the bytes they send.

Each corpus file is data with citations; this module only reads it and encodes bodies the
way each client's JSON writer does, so a replay sends what the client sends:

- ``apple-json-encoder``: Foundation ``JSONEncoder()``: compact, ``/`` escaped as ``\\/``.
- ``apple-pretty``: ``JSONSerialization`` with ``.prettyPrinted``: two-space indent,
  ``" : "`` between key and value, ``/`` escaped.
- ``gson``: ``new Gson()`` (Retrofit's ``GsonConverterFactory.create()``): compact and
  HTML-safe (``< > & = '`` as ``\\u003c``-style escapes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..paths import FIXTURES_DIR

CORPUS_DIR = FIXTURES_DIR / "clients"
MODELS_DIR = CORPUS_DIR / "models"
GSON_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "=": "\\u003d", "'": "\\u0027"}


def _escape_inside_strings(text: str, escapes: dict[str, str]) -> str:
    """JSON syntax never uses these characters outside strings, so a plain replace is exact."""
    for char, escaped in escapes.items():
        text = text.replace(char, escaped)
    return text


def encode_body(body: Any, encoding: str) -> bytes:
    """The bytes a client's JSON writer produces for ``body``."""
    if encoding == "apple-json-encoder":
        text = _escape_inside_strings(json.dumps(body, ensure_ascii=False, separators=(",", ":")), {"/": "\\/"})
    elif encoding == "apple-pretty":
        text = _escape_inside_strings(json.dumps(body, ensure_ascii=False, indent=2, separators=(",", " : ")), {"/": "\\/"})
    elif encoding == "gson":
        text = _escape_inside_strings(json.dumps(body, ensure_ascii=False, separators=(",", ":")), GSON_HTML_ESCAPES)
    else:
        raise ValueError(f"unknown body encoding {encoding!r} (apple-json-encoder, apple-pretty or gson)")
    return text.encode("utf-8")


@dataclass(frozen=True)
class ClientRequest:
    """One request of the corpus, ready to send."""

    client: str
    id: str
    operation: str
    method: str
    host: str
    path: str  # host form: /api/2021-06-15/v3/...
    query: str  # raw, as the client writes it
    headers: dict[str, str]
    body: Any
    encoding: str | None
    expect_status: int
    sources: tuple[dict[str, str], ...]
    note: str = ""

    def data(self) -> bytes | None:
        return None if self.encoding is None else encode_body(self.body, self.encoding)

    def path_form(self, region: str = "us") -> str:
        """The same request under the mock's region prefix: ``/us/api/2021-06-15/v3/...``."""
        return f"/{region}{self.path}"

    @property
    def suffix(self) -> str:
        """The path after the API base: ``/v3/user``."""
        return self.path.split("/api/2021-06-15", 1)[1]


@dataclass(frozen=True)
class Corpus:
    client: str
    title: str
    repository: str
    ref: str
    models: str
    requests: tuple[ClientRequest, ...]
    sdk: str

    def request(self, request_id: str) -> ClientRequest:
        for request in self.requests:
            if request.id == request_id:
                return request
        raise KeyError(f"{self.client} has no request {request_id!r}")


def _request(client: str, item: dict[str, Any]) -> ClientRequest:
    url = urlsplit(item["url"])
    if url.scheme != "https":
        raise ValueError(f"{client}/{item['id']}: the SDKs only call https:// URLs, not {item['url']}")
    return ClientRequest(
        client=client,
        id=item["id"],
        operation=item["operation"],
        method=item["method"],
        host=url.hostname or "",
        path=url.path,
        query=url.query,
        headers=dict(item["headers"]),
        body=item.get("body"),
        encoding=item.get("encoding"),
        expect_status=item["expect"]["status"],
        sources=tuple(item["sources"]),
        note=item.get("note", ""),
    )


def load_corpus(path: Path) -> Corpus:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    client = data["client"]
    return Corpus(client, data["title"], data["repository"], data["ref"], data["models"],
                  tuple(_request(client, item) for item in data["requests"]), data.get("sdk", client))


@lru_cache(maxsize=1)
def all_corpora() -> tuple[Corpus, ...]:
    """Every client of ``fixtures/clients/``, by file name."""
    return tuple(load_corpus(path) for path in sorted(CORPUS_DIR.glob("*.json")))


def load_models(corpus: Corpus) -> dict[str, Any]:
    """The JSON Schemas of the response models the client decodes (``fixtures/clients/models``)."""
    return json.loads((CORPUS_DIR / corpus.models).read_text(encoding="utf-8"))
