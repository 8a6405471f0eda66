"""The versions of Segment's code this engine is ported from and checked against.

The golden corpus (``fixtures/segment-golden/``) records the versions it was made with; a test
checks they equal these. ``liquidjs`` is not among actions-core's declared dependencies: the
version is the one action-destinations' root ``package.json`` pins (``resolutions``) and its
``yarn.lock`` resolves at the release tag ``@segment/actions-core@3.170.0``. ``@segment/fql-ts``
is destination-subscriptions' lexer (``^1.10.1``), resolved to 1.10.1."""

SEGMENT_PACKAGES: dict[str, str] = {
    "@segment/actions-core": "3.170.0",
    "@segment/destination-subscriptions": "3.37.0",
    "@segment/fql-ts": "1.10.1",
    "liquidjs": "10.25.7",
}
