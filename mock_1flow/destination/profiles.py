"""Runtime profiles: which source's behaviour the destination follows, as a named choice.

A profile says which subscriptions run by default (its presets), whether the payload is
validated, and how an action's payload becomes the call the 1Flow SDK receives
(:class:`SdkCall`). How an SDK call becomes SDK API requests (``/v3/user``, ``/v3/identify``,
``/v3/track``) is the same for every profile and is the destination's (the mock's choice:
the web SDK's wire format is not public).

- ``web`` (default): Segment's 1Flow Web (Actions), a device-mode destination.
  segmentio/action-destinations ``packages/browser-destinations/destinations/1flow/src``:
  presets Track Event and Identify User only (``index.ts``); the browser runtime
  (``packages/browser-destination-runtime/src/plugin.ts``, ``generatePlugins``) runs the
  trigger, ``transform`` (mapping-kit) then ``perform``, with no schema validation;
  ``trackEvent.perform`` calls ``_1flow('track', event_name, {userId, anonymousId,
  properties})``, ``identifyUser.perform`` ``_1flow('identify', userId, {...traits})``.
- ``mobile``: the mobile destination's documented naming (segment-docs, the 1Flow
  destination page): Web's presets plus screen -> ``screen_<name>`` and page ->
  ``page_<name>`` (``screen_view`` / ``page_view`` when nameless: segment-docs
  ``catalog/1flow-analytics/index.md``).
- ``ios``: the iOS plugin (1Flow-Inc/1flow-segment-iOS ``OneFlowDestination.swift``):
  identify -> ``OneFlow.logUser(userId, userDetails: traits)`` only with a userId; track ->
  ``OneFlow.recordEventName(event, parameters: properties)``; screen -> the bare screen name
  (``event.name ?? "screen_view"``); no page, group or alias (``group``/``alias`` return nil).
- ``android``: the Android plugin (1Flow-Inc/1flow-segment-tool ``OneFlowIntegration.java``):
  identify -> ``OneFlow.logUser(userId, traits().toStringMap())``, track ->
  ``OneFlow.recordEvents(event, properties().toStringMap())``: no screens, every trait and
  property value stringified (Java's ``String.valueOf``).
- ``cloud``: Web's presets run as Segment's cloud runtime runs an action (core
  ``destination-kit/action.ts``: ``removeEmptyValues`` then Ajv ``validateSchema``), so an
  invalid payload is dropped with Segment's wording. Not what Web (Actions) does; kept as a
  named choice for users who want Segment's validation.

Each profile runs mappings only for the event types its runtime hands a destination (its
hooks, :data:`HOOKS`): ``web`` gets no ``screen`` (a mapping triggered by ``type = "screen"``
never runs in a browser); ``ios`` and ``android`` no ``page``; ``mobile`` and ``cloud`` every type.
The nameless-call fallbacks ``screen_view`` / ``page_view`` are segment-docs'
(``src/connections/destinations/catalog/1flow-analytics/index.md``).

Every profile: identify without a userId is not sent (Segment's docs, the iOS plugin's
guard, the Android SDK's ``logUser`` check). The Web (Actions) code would call
``_1flow('identify', undefined, traits)``; the default follows the docs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from .actions import ACTIONS, IDENTIFY, TRACK, validate_payload
from .mapping import Subscription, load_subscriptions, resolve
from .mapping.directives import picked

WEB, MOBILE, IOS, ANDROID, CLOUD = "web", "mobile", "ios", "android", "cloud"
DEFAULT_PROFILE = WEB
EVENT_TYPES = ("track", "identify", "page", "screen", "group", "alias")  # Segment's spec

# Which event types each runtime hands a destination at all (its hooks), with the source.
# An event of another type never reaches the destination's mappings, whatever they say.
HOOKS: dict[str, tuple[tuple[str, ...], str]] = {
    WEB: (("track", "identify", "page", "group", "alias"),
          "segmentio/action-destinations packages/browser-destination-runtime/src/plugin.ts generatePlugins "
          "(the plugin defines track, page, alias, identify, group: no screen); segmentio/analytics-next "
          "packages/core/src/queue/delivery.ts attempt() (no hook for the event's type: the plugin is not called)"),
    MOBILE: (EVENT_TYPES,
             "segment-docs src/connections/destinations/catalog/1flow-analytics/index.md (screen and page calls "
             "documented); a cloud-mode destination receives every type"),
    IOS: (("identify", "track", "screen", "group", "alias"),
          "segmentio/analytics-swift Sources/Segment/Plugins.swift EventPlugin (identify, track, group, alias, "
          "screen: no page); the 1Flow plugin implements identify, track, screen"),
    ANDROID: (("identify", "track", "screen", "group", "alias"),
              "segmentio/analytics-android core/src/main/java/com/segment/analytics/integrations/Integration.java "
              "(identify, group, track, alias, screen: no page); the 1Flow plugin implements identify, track"),
    CLOUD: (EVENT_TYPES,
            "segmentio/action-destinations packages/core/src/destination-kit (the cloud runtime runs every event "
            "through the subscriptions; the trigger decides)"),
}


class SdkCall(NamedTuple):  # a named tuple: one is made per event, at a fifth of a frozen dataclass's cost
    """One call the 1Flow SDK receives. ``target`` is the event name (track) or the userId
    (identify), as the SDK gets it (possibly None); ``parameters`` the properties or traits;
    ``user_id``/``anonymous_id`` what Web's track passes beside them."""

    method: str  # "track" | "identify"
    target: Any
    parameters: Any
    user_id: Any = None
    anonymous_id: Any = None


def _preset(name: str, subscribe: str, action: str, mapping: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "subscribe": subscribe, "partnerAction": action,
            "mapping": ACTIONS[action].defaults() if mapping is None else mapping, "type": "automatic"}


def _named(prefix: str) -> dict[str, Any]:
    """``<prefix>_<name>``, or ``<prefix>_view`` when the call has no name."""
    return {"@if": {"exists": {"@path": "$.name"}, "then": {"@template": prefix + "_{{name}}"}, "else": prefix + "_view"}}


TRACK_EVENT = _preset("Track Event", 'type = "track"', TRACK)
IDENTIFY_USER = _preset("Identify User", 'type = "identify"', IDENTIFY)


def _track_named(name: str, kind: str, event_name: Any) -> dict[str, Any]:
    return _preset(name, f'type = "{kind}"', TRACK, {**ACTIONS[TRACK].defaults(), "event_name": event_name})


# -- how each source hands traits and properties to its SDK ----------------------------


def js_spread(value: Any) -> dict[str, Any]:
    """JavaScript's ``{...value}``: an object's own keys; a string's or array's indices;
    anything else (undefined, null, numbers, booleans) gives ``{}``."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (str, list)):
        return {str(index): item for index, item in enumerate(value)}
    return {}


def swift_dictionary(value: Any) -> dict[str, Any] | None:
    """analytics-swift's ``JSON.dictionaryValue``: the object, or nil for any other JSON."""
    return value if isinstance(value, dict) else None


def java_string(value: Any) -> str:
    """Java's ``String.valueOf`` of the value analytics-android holds for a JSON value
    (``ValueMap.toStringMap``): maps as ``{k=v, ...}``, lists as ``[a, b]``, doubles as
    ``Double.toString`` (``2.0``, ``1.0E10``), null as ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={java_string(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_string(item) for item in value) + "]"
    return str(value)


def _java_double(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    mantissa = text[0] + "." + (text[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{len(digits) - 1 + int(exponent)}"


def string_map(value: Any) -> dict[str, str]:
    """``ValueMap.toStringMap()``: every value stringified; a missing map is empty."""
    return {str(key): java_string(item) for key, item in value.items()} if isinstance(value, dict) else {}


# -- the profiles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """A source's behaviour: its presets, whether payloads are validated (cloud runtime),
    how payload values reach the SDK, and the SDK's ``plt`` (None: from ``context.os.name``)."""

    name: str
    title: str
    source: str
    presets: tuple[dict[str, Any], ...]
    validate: bool = False
    traits: Callable[[Any], Any] = js_spread
    properties: Callable[[Any], Any] = lambda value: value
    platform: str | None = None
    sdk: str = "_1flow"

    @property
    def hooks(self) -> tuple[str, ...]:
        """The event types this runtime hands the destination (:data:`HOOKS`)."""
        return HOOKS[self.name][0]

    def hooked(self, kind: Any) -> bool:
        """Whether an event of type ``kind`` reaches the mappings (a type outside Segment's spec
        is left to the mappings, which match none of it)."""
        return kind not in EVENT_TYPES or kind in HOOKS[self.name][0]

    def subscriptions(self) -> list[Subscription]:
        """The profile's presets as subscriptions (what runs when no mappings are given)."""
        return load_subscriptions(list(self.presets))

    def call(self, subscription: Subscription, event: dict[str, Any]) -> SdkCall:
        """Transform (and, for ``cloud``, validate) then perform: the SDK call this
        subscription makes for ``event``. Raises what the mapping or validation raises."""
        payload = None
        if subscription.fields is not None and type(event) is dict:  # the presets: one lookup per field
            payload = picked(subscription.fields, event)
        if payload is None:
            payload = resolve(subscription.mapping, event)
        if self.validate:
            payload = validate_payload(subscription.partner_action, payload)
        if subscription.partner_action == IDENTIFY:
            return SdkCall("identify", payload.get("userId"), self.traits(payload.get("traits")))
        return SdkCall("track", payload.get("event_name"), self.properties(payload.get("properties")),
                       payload.get("userId"), payload.get("anonymousId"))

    def calls(self, event: dict[str, Any], subscriptions: list[Subscription] | None = None) -> list[SdkCall]:
        """Every SDK call ``event`` causes under this profile (before the wire's own rules,
        such as identify without a userId not being sent)."""
        if not self.hooked(event.get("type")):
            return []
        return [self.call(s, event) for s in (self.subscriptions() if subscriptions is None else subscriptions)
                if s.matches(event)]


PROFILES: dict[str, Profile] = {
    WEB: Profile(
        WEB, "1Flow Web (Actions), browser runtime",
        "segmentio/action-destinations browser-destinations/destinations/1flow (index.ts, trackEvent, identifyUser); "
        "browser-destination-runtime/src/plugin.ts generatePlugins",
        (TRACK_EVENT, IDENTIFY_USER)),
    MOBILE: Profile(
        MOBILE, "the mobile destination's documented naming",
        "segment-docs, 1Flow destination page: screen -> screen_<name>, page -> page_<name>",
        (TRACK_EVENT, IDENTIFY_USER, _track_named("Screen Event", "screen", _named("screen")),
         _track_named("Page Event", "page", _named("page")))),
    IOS: Profile(
        IOS, "the 1Flow iOS plugin (analytics-swift)",
        "1Flow-Inc/1flow-segment-iOS Sources/Segment1Flow/OneFlowDestination.swift (identify, track, screen)",
        (_preset("Identify User", 'type = "identify"', IDENTIFY, {"userId": {"@path": "$.userId"},
                                                                 "traits": {"@path": "$.traits"}}),
         _preset("Track Event", 'type = "track"', TRACK, {"event_name": {"@path": "$.event"},
                                                          "properties": {"@path": "$.properties"}}),
         _preset("Screen", 'type = "screen"', TRACK, {
             "event_name": {"@if": {"exists": {"@path": "$.name"}, "then": {"@path": "$.name"}, "else": "screen_view"}},
             "properties": {"@path": "$.properties"}})),
        traits=swift_dictionary, properties=swift_dictionary, platform="i", sdk="OneFlow (iOS)"),
    ANDROID: Profile(
        ANDROID, "the 1Flow Android plugin (analytics-android)",
        "1Flow-Inc/1flow-segment-tool app/src/main/java/com/oneflow/segment/analytics/OneFlowIntegration.java "
        "(identify, track)",
        (_preset("Identify User", 'type = "identify"', IDENTIFY, {"userId": {"@path": "$.userId"},
                                                                 "traits": {"@path": "$.traits"}}),
         _preset("Track Event", 'type = "track"', TRACK, {"event_name": {"@path": "$.event"},
                                                          "properties": {"@path": "$.properties"}})),
        traits=string_map, properties=string_map, platform="a", sdk="OneFlow (Android)"),
    CLOUD: Profile(
        CLOUD, "Web's presets with Segment's cloud-runtime payload validation",
        "segmentio/action-destinations packages/core/src/destination-kit/action.ts (removeEmptyValues, validateSchema)",
        (TRACK_EVENT, IDENTIFY_USER), validate=True),
}


def profile(name: str | None) -> Profile:
    """The named profile (``None``: the default); a ValueError lists the known names."""
    try:
        return PROFILES[name or DEFAULT_PROFILE]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
