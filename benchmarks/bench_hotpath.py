"""The SDK API's hot path in-process, beside the least a track request needs, same run.

    python benchmarks/bench_hotpath.py --requests 200000

No server and no sockets: requests go straight into the RSGI entry point of
``mock-1flow serve`` (``mock_1flow.serving.RSGIApp``) on a uvloop loop, with stand-ins for
granian's scope and protocol, so what is timed is the mock's own work per request (routing,
fault check, body deadline, key/region gate, validation, store, journal, response). The
reference does only what no track request can skip: parse the body (orjson), validate it
with the same compiled schema, add its ids to a set, keep the body in a deque, write the
answer. Both run the same ``POST /us/api/2021-06-15/v3/track`` with 10 events and fresh
``_id``s, in chunks; the last chunks show whether the cost holds as the store fills up to
its cap (1M events by default, reached after 100,000 requests).

compare.py measures the same request over real sockets, where the server interface and the
load generator add their own costs (see the README).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
from collections import deque
from typing import Any

import orjson
import uvloop

from mock_1flow.app import create_app
from mock_1flow.server.config import MockConfig
from mock_1flow.server.validation import operation_validators
from mock_1flow.serving import GC_THRESHOLDS, RSGIApp

PATH = "/us/api/2021-06-15/v3/track"
KEY = "oneflow_prod_acme"
HEADERS = [("content-type", "application/json")]


class Scope:
    """What the hot path reads of granian's RSGI scope."""

    proto, method, path, query_string = "http", "POST", PATH, ""
    server, client, scheme, http_version = "127.0.0.1:8080", "127.0.0.1:50000", "http", "1.1"
    authority = None  # HTTP/1.1 with an origin-form target: the Host header names the host

    def __init__(self, body: bytes) -> None:
        self.headers = {"host": "127.0.0.1:8080", "one_flow_key": KEY, "content-type": "application/json",
                        "content-length": str(len(body))}


class Protocol:
    """granian's RSGI protocol: the body on await, the answer through response_bytes."""

    def __init__(self, body: bytes) -> None:
        self.body, self.status = body, 0

    async def __call__(self) -> bytes:
        return self.body

    def response_bytes(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status


class Least:
    """The reference: the work no track request can skip."""

    def __init__(self) -> None:
        self.validator = operation_validators()["trackEvents"].body_validator
        self.ids: set[str] = set()
        self.rows: deque[bytes] = deque()

    async def __rsgi__(self, scope: Scope, protocol: Protocol) -> None:
        raw = await protocol()
        body = orjson.loads(raw)
        if not self.validator.is_valid(body):
            raise AssertionError("the benchmark request must be valid")
        self.ids.update(event["_id"] for event in body["events"])
        self.rows.append(raw)
        answer = orjson.dumps({"success": 200, "message": "Events added", "result": {"stored": 10, "duplicates": 0}})
        protocol.response_bytes(200, HEADERS, answer)


def body(rng: random.Random) -> bytes:
    events = [{"name": "Product Viewed", "time": 1764000000 + i, "plt": "i", "_id": f"{rng.getrandbits(96):024x}",
               "parameters": {"sku": f"SKU-{i}", "price": round(9.99 + i, 2)}} for i in range(10)]
    return orjson.dumps({"user_id": "0123456789abcdef01234567", "events": events})


async def timed(app: Any, count: int, rng: random.Random) -> float:
    """CPU µs per request for ``count`` requests (bodies made outside the timing). The
    thread's CPU time, not the wall clock: other work on the machine does not count."""
    bodies = [body(rng) for _ in range(count)]
    pairs = [(Scope(raw), Protocol(raw)) for raw in bodies]
    started = time.thread_time()
    for scope, protocol in pairs:
        await app.__rsgi__(scope, protocol)
    elapsed = time.thread_time() - started
    if any(protocol.status != 200 for _, protocol in pairs):
        raise SystemExit("the mock answered other than 200")
    return elapsed / count * 1e6


async def main(requests: int, chunks: int) -> None:
    mock, least = RSGIApp(create_app(MockConfig())), Least()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)  # as the served worker runs
    rng = random.Random(1)
    per = requests // chunks
    print(f"cores: {os.cpu_count()}  requests: {per * chunks:,} in {chunks} chunks  request: POST {PATH} with 10 events")
    print(f"{'chunk':>5}{'stored events':>15}{'mock µs/req':>13}{'least µs/req':>14}{'ratio':>7}")
    mocks, leasts = [], []
    for chunk in range(chunks):
        mocks.append(await timed(mock, per, rng))
        leasts.append(await timed(least, per, rng))
        stored = len(mock.hot.runtime.store.state(KEY).events)
        print(f"{chunk + 1:>5}{stored:>15,}{mocks[-1]:>13.1f}{leasts[-1]:>14.1f}{mocks[-1] / leasts[-1]:>6.2f}x", flush=True)
    print(f"median: mock {statistics.median(mocks):.1f} µs/request, least {statistics.median(leasts):.1f} µs/request "
          f"({statistics.median(mocks) / statistics.median(leasts):.2f}x); first chunk {mocks[0]:.1f}, last {mocks[-1]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--chunks", type=int, default=8)
    args = parser.parse_args()
    uvloop.run(main(args.requests, args.chunks))
