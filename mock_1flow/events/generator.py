"""The fast, seeded Segment event generator.

Realism comes from Faker, speed from not calling it per event: each pool (device
profiles, people, companies, products, track calls, pages, places) is drawn once per
(locale, seed) from a Faker seeded for that pool, the first time an event needs it.
Events are then assembled by one ``random.Random(seed)`` picking from the pools, so
the same seed and options give the same events, byte for byte, in any process.

The stream simulates traffic rather than independent rows: a population of devices
(web browsers, iOS and Android apps) each with a stable anonymousId, device, place and
person; a device sends several events, its identify (or any call with a userId) binds
the anonymousId to the userId, and later events of that device carry both.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property, lru_cache
from random import Random
from typing import Any

import faker.config
from faker import Faker

from . import edge_cases as edge
from .provider import (
    BASE_EPOCH_MS, CAMPAIGN_CHANNELS, CARRIERS, DEFAULT_CARRIERS, EVENT_TYPES, INTEGRATIONS, LIBRARIES, MOBILE_EVENTS,
    REFERRERS, SCREEN_SOURCES, SCREENS, WEB_EVENTS, SegmentProvider, ascii_slug,
)

TypeMix = Mapping[str, float] | Sequence[str] | str | None

# Real traffic: mostly track, then page/screen/identify, a few group and alias.
DEFAULT_MIX = {"track": 55.0, "page": 17.0, "screen": 13.0, "identify": 10.0, "group": 3.0, "alias": 2.0}
NEW_DEVICE_SHARE = 0.05  # per anonymous event: the chance a new device shows up
CONVERSION = 0.05  # per known-user event: the chance it comes from a device that was anonymous so far
IDENTIFY_CONVERSION = 0.4  # the same for identify, the call that binds anonymousId to userId
LIVE_DEVICES = 256  # devices kept per platform and state; beyond it a new one replaces a random one
SERVER_SHARE = 0.08  # known-user track/identify/group sent by a server library (userId only)
NAMELESS_SHARE = 0.2  # page/screen calls without a name (mapped to page_view / screen_view)
UNIQUE_KEYS = ("order_id", "checkout_id", "cart_id", "review_id")
POOL_SIZES = {"profiles": 24, "places": 48, "people": 48, "companies": 24, "tracks": 96, "app_tracks": 24,
              "pages": 32, "campaigns": 12, "ip_prefixes": 48}


def normalize_types(types: TypeMix) -> dict[str, float]:
    """The type mix as {type: weight}; a sequence (or "a,b" string) weighs its types equally."""
    if types is None:
        return dict(DEFAULT_MIX)
    if isinstance(types, str):
        types = [name.strip() for name in types.split(",") if name.strip()]
    mix = dict(types) if isinstance(types, Mapping) else {name: 1.0 for name in types}
    unknown = [name for name in mix if name not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type(s) {', '.join(map(repr, unknown))}; known: {', '.join(EVENT_TYPES)}")
    if any(not isinstance(w, (int, float)) or w < 0 or w != w for w in mix.values()):
        raise ValueError("type weights must be non-negative numbers")
    if not mix or sum(mix.values()) <= 0:
        raise ValueError("the type mix needs at least one type with a positive weight")
    return {name: float(mix[name]) for name in EVENT_TYPES if mix.get(name)}


def check_locale(locale: str) -> str:
    """``locale`` if Faker has it (Faker itself silently falls back to en_US)."""
    if locale not in faker.config.AVAILABLE_LOCALES:
        raise ValueError(f"unknown Faker locale {locale!r} (for example en_US, de_DE, fr_FR, ja_JP, pt_BR)")
    return locale


_faker_lock = threading.Lock()


@lru_cache(maxsize=None)
def _faker(locale: str) -> Faker:
    fake = Faker(locale)
    fake.add_provider(SegmentProvider)
    return fake


class Pools:
    """Values drawn from Faker for one (locale, seed); each pool is drawn on first use.

    Every pool seeds Faker with ``"{seed}/{pool}"``, so its content does not depend on
    which pools were drawn before it. A draw never touches another pool: pools it needs
    are read before the (non-reentrant) Faker lock is taken.
    """

    def __init__(self, locale: str, seed: int) -> None:
        self.locale, self.seed = locale, seed
        self.locale_tag = locale.replace("_", "-")

    def _draw(self, name: str, draw: Any, size: int | None = None) -> list[Any]:
        with _faker_lock:
            fake = _faker(self.locale)
            fake.seed_instance(f"{self.seed}/{name}")
            return [draw(fake) for _ in range(size or POOL_SIZES[name])]

    @cached_property
    def brand(self) -> dict[str, str]:
        brand: dict[str, str] = self._draw("brand", lambda fake: fake.segment_brand(), 1)[0]
        return brand

    @cached_property
    def profiles(self) -> dict[str, list[dict[str, Any]]]:
        brand = self.brand
        return {platform: self._draw(f"profiles/{platform}", lambda fake: fake.segment_device_profile(platform, brand),
                                     POOL_SIZES["profiles"])
                for platform in ("web", "ios", "android")}

    @cached_property
    def places(self) -> list[dict[str, Any]]:
        return self._draw("places", lambda fake: fake.segment_location())

    @cached_property
    def ip_prefixes(self) -> list[str]:
        return self._draw("ip_prefixes", lambda fake: fake.segment_ip_prefix())

    @cached_property
    def people(self) -> list[dict[str, Any]]:
        return self._draw("people", lambda fake: fake.segment_traits())

    @cached_property
    def companies(self) -> list[dict[str, Any]]:
        return self._draw("companies", lambda fake: fake.segment_company())

    @cached_property
    def group_traits(self) -> list[dict[str, Any]]:
        companies = iter(self.companies)
        return self._draw("group_traits", lambda fake: fake.segment_group_traits(next(companies)), len(self.companies))

    @cached_property
    def tracks(self) -> list[tuple[str, dict[str, Any]]]:
        """(event, properties) of calls any platform makes."""
        domain = self.brand["domain"]
        return self._draw("tracks", lambda fake: _track(fake, WEB_EVENTS, domain))

    @cached_property
    def app_tracks(self) -> list[tuple[str, dict[str, Any]]]:
        """(event, properties) of the mobile-only lifecycle calls (Application Opened, ...)."""
        domain = self.brand["domain"]
        return self._draw("app_tracks", lambda fake: _track(fake, _APP_ONLY, domain))

    @cached_property
    def pages(self) -> list[dict[str, Any]]:
        domain = self.brand["domain"]
        return self._draw("pages", lambda fake: fake.segment_site_page(domain))

    @cached_property
    def campaigns(self) -> list[dict[str, str]]:
        return self._draw("campaigns", lambda fake: fake.segment_campaign())


_APP_ONLY = tuple((name, weight) for name, weight in MOBILE_EVENTS if (name, weight) not in WEB_EVENTS)
APP_ONLY_SHARE = sum(w for _, w in _APP_ONLY) / sum(w for _, w in MOBILE_EVENTS)


def _track(fake: Faker, table: Sequence[tuple[str, float]], domain: str) -> tuple[str, dict[str, Any]]:
    name = fake.random.choices([n for n, _ in table], [w for _, w in table])[0]
    return name, fake.segment_track_properties(name, domain)


@lru_cache(maxsize=64)
def pools_for(locale: str, seed: int) -> Pools:
    """The (lazily drawn) pools of one locale and seed, shared by generators in this process."""
    return Pools(locale, seed)


class _Device:
    """One simulated client: stable ids and context pieces, and its user (id, person, company)."""

    __slots__ = ("platform", "anonymous_id", "user_id", "profile", "device", "ip", "place", "carrier", "campaign",
                 "person", "company", "skew", "batch_delay")

    platform: str
    anonymous_id: str
    user_id: str
    profile: dict[str, Any]
    device: dict[str, Any] | None
    ip: str
    place: dict[str, Any]
    carrier: str | None
    campaign: dict[str, Any] | None
    person: dict[str, Any] | None
    company: int | None  # an index into the company pool
    skew: int
    batch_delay: int


_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))
_UUID_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


class EventGenerator:
    """A reproducible stream of Segment events (see the module docstring).

    ``types`` is the type mix: a mapping type -> weight, or a sequence of types weighed
    equally; by default it looks like real traffic. ``anonymous_share`` is the share of
    events with an anonymousId and no userId (alias always has a userId, so a stream of
    aliases has none). ``edge_cases`` turns on the edge cases of ``edge_cases.py``.
    Not thread-safe: one generator per thread.
    """

    def __init__(self, seed: int = 0, *, locale: str = "en_US", types: TypeMix = None,
                 anonymous_share: float = 0.2, edge_cases: bool = False) -> None:
        if not 0.0 <= anonymous_share <= 1.0:
            raise ValueError(f"anonymous_share must be between 0 and 1, not {anonymous_share!r}")
        self.seed, self.locale = int(seed), check_locale(locale)
        self.mix = normalize_types(types)
        self.anonymous_share, self.edge_cases = float(anonymous_share), bool(edge_cases)
        self._types = tuple(self.mix)
        self._cumulative = _cumulative(self.mix.values())
        self._rng = Random(self.seed)
        self._pools = pools_for(self.locale, self.seed)
        self._anonymous: dict[str, list[_Device]] = {"web": [], "ios": [], "android": []}
        self._known: dict[str, list[_Device]] = {"web": [], "ios": [], "android": []}
        self._clock = BASE_EPOCH_MS + self._rng.randrange(30 * 86_400_000)
        self._seconds: dict[int, str] = {}
        self._site_page: dict[str, Any] = {}
        self._integrations = [value for _, value in INTEGRATIONS]
        self._integration_weights = _cumulative(w for w, _ in INTEGRATIONS)
        self._fill = {"identify": self._identify, "track": self._track, "page": self._page,
                      "screen": self._screen, "group": self._group, "alias": self._alias}

    def events(self, count: int | None = None) -> Iterator[dict[str, Any]]:
        """The next ``count`` events of the stream (endless when None); calls continue one stream."""
        next_event = self.next_event
        if count is None:
            while True:
                yield next_event()
        for _ in range(count):
            yield next_event()

    def next_event(self) -> dict[str, Any]:
        """The next event of the stream."""
        rng = self._rng
        random = rng.random
        event_type = self._types[bisect(self._cumulative, random())]
        anonymous = event_type != "alias" and random() < self.anonymous_share
        if event_type == "page":
            platform = "web"
        elif event_type == "screen":
            platform = "ios" if random() < 0.5 else "android"
        else:
            platform = _PLATFORMS[int(random() * 4)]
        device = self._device(platform, anonymous, event_type)
        server = not anonymous and event_type in _SERVER_TYPES and random() < SERVER_SHARE
        h = "%032x" % rng.getrandbits(128)
        event: dict[str, Any] = {
            "type": event_type,
            "messageId": f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_UUID_VARIANT[h[16]]}{h[17:20]}-{h[20:]}",
        }
        if not server:
            event["anonymousId"] = device.anonymous_id
        if not anonymous:
            event["userId"] = device.user_id
        event["context"] = self._server_context() if server else self._context(device)
        roll = random()
        if roll < 0.85:
            event["integrations"] = {"All": True}
        else:  # a destination switched off or on, or given options
            chosen = self._integrations[bisect(self._integration_weights, roll)]
            event["integrations"] = {k: dict(v) if isinstance(v, dict) else v for k, v in chosen.items()}
        self._fill[event_type](event, device)
        # Timestamps as Segment sets them: timestamp = receivedAt - (sentAt - originalTimestamp).
        happened = self._clock = self._clock + 1 + int(random() * 900)
        if server:
            original, delay = happened, int(random() * 400)
        else:
            original, delay = happened + device.skew, int(random() * device.batch_delay)
        latency = 20 + int(random() * 300)
        iso = self._iso
        event["timestamp"] = iso(happened + latency)
        event["originalTimestamp"] = iso(original)
        event["sentAt"] = iso(original + delay)
        event["receivedAt"] = iso(happened + delay + latency)
        if self.edge_cases:
            event = edge.maybe_apply(event, rng)
        return event

    # -- population --

    def _device(self, platform: str, anonymous: bool, event_type: str) -> _Device:
        """A live device of ``platform``: anonymous events come from anonymous devices; others
        mostly from known devices, sometimes converting an anonymous one (more often on identify)."""
        random = self._rng.random
        pending = self._anonymous[platform]
        if anonymous:
            if pending and random() >= NEW_DEVICE_SHARE:
                return pending[int(random() * len(pending))]
            return _join(pending, self._new_device(platform), random)
        known = self._known[platform]
        if known and random() >= (IDENTIFY_CONVERSION if event_type == "identify" else CONVERSION):
            return known[int(random() * len(known))]
        if pending and random() >= NEW_DEVICE_SHARE:
            index = int(random() * len(pending))
            device = pending[index]
            pending[index] = pending[-1]
            pending.pop()
        else:
            device = self._new_device(platform)
        return _join(known, device, random)

    def _new_device(self, platform: str) -> _Device:
        rng, pools = self._rng, self._pools
        pick = rng.choice
        device = _Device()
        device.platform = platform
        device.anonymous_id = self._uuid().upper() if platform == "ios" else self._uuid()
        kind = rng.random()
        if kind < 0.5:
            device.user_id = "%024x" % rng.getrandbits(96)
        elif kind < 0.8:
            device.user_id = str(rng.randrange(10_000, 10_000_000))
        else:
            device.user_id = "usr_%016x" % rng.getrandbits(64)
        device.profile = pick(pools.profiles[platform])
        device.place = pick(pools.places)
        device.ip = pick(pools.ip_prefixes) + str(rng.randrange(1, 255))
        device.skew = int(rng.gauss(0, 1500)) if rng.random() < 0.3 else 0
        device.campaign = pick(pools.campaigns) if rng.random() < 0.25 else None
        device.person = device.company = device.device = device.carrier = None
        device.batch_delay = 800
        if platform != "web":  # mobile libraries batch: up to 30 s between the call and sending it
            device.batch_delay = 30_000
            info = dict(device.profile["device"], id=self._uuid().upper() if platform == "ios" else self._uuid())
            if rng.random() < 0.6:
                info["advertisingId"] = self._uuid().upper()
                info["adTrackingEnabled"] = True
            device.device = info
            device.carrier = pick(CARRIERS.get(device.place["country"], DEFAULT_CARRIERS))
        return device

    def _person(self, device: _Device) -> dict[str, Any]:
        """The device's user's traits: a pooled person, renamed so people do not repeat."""
        if device.person is None:
            rng, people = self._rng, self._pools.people
            traits = dict(rng.choice(people))
            first, last = rng.choice(people)["firstName"], rng.choice(people)["lastName"]
            handle = (ascii_slug(first + last) or traits["username"].rstrip("0123456789")) + str(rng.randrange(1, 999))
            traits.update(firstName=first, lastName=last, name=f"{first} {last}", username=handle,
                          email=f"{handle}@{traits['email'].partition('@')[2]}")
            if "avatar" in traits:
                traits["avatar"] = f"https://i.pravatar.cc/300?u={handle}"
            if "company" in traits or device.company is not None:
                traits["company"] = self._pools.companies[self._company_index(device)]
            device.person = traits
        return device.person

    def _company_index(self, device: _Device) -> int:
        """The device's user's company (an index into the pool), drawn once."""
        if device.company is None:
            device.company = self._rng.randrange(len(self._pools.companies))
        return device.company

    # -- common fields --

    def _uuid(self) -> str:
        h = "%032x" % self._rng.getrandbits(128)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_UUID_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"

    def _iso(self, ms: int) -> str:
        """ISO-8601 UTC with milliseconds; the seconds part is cached (the clock moves slowly)."""
        seconds = ms // 1000
        prefix = self._seconds.get(seconds)
        if prefix is None:
            if len(self._seconds) > 4096:
                self._seconds.clear()
            prefix = self._seconds[seconds] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        return prefix + _MILLIS[ms - seconds * 1000]

    def _server_context(self) -> dict[str, Any]:
        name, version = self._rng.choice(LIBRARIES["server"])
        return {"library": {"name": name, "version": version}}

    def _context(self, device: _Device) -> dict[str, Any]:
        profile, place = device.profile, device.place
        context: dict[str, Any]
        if device.device is not None:
            wifi = self._rng.random() < 0.7
            context = {"app": dict(profile["app"]), "device": dict(device.device),
                       "network": {"bluetooth": False, "carrier": device.carrier, "cellular": not wifi, "wifi": wifi}}
        else:
            context = {}
        context["ip"] = device.ip
        context["library"] = dict(profile["library"])
        context["locale"] = self._pools.locale_tag
        context["location"] = {"city": place["city"], "country": place["country"], "latitude": place["latitude"],
                               "longitude": place["longitude"]}
        context["os"] = dict(profile["os"])
        if device.device is None:
            context["page"] = self._page_context()
        context["screen"] = dict(profile["screen"])
        context["timezone"] = place["timezone"]
        context["userAgent"] = profile["userAgent"]
        if device.campaign is not None:
            context["campaign"] = dict(device.campaign)
        return context

    def _page_context(self) -> dict[str, str]:
        random, pages = self._rng.random, self._pools.pages
        page = self._site_page = pages[int(random() * len(pages))]
        roll = random()
        search = _UTM[int(roll * 100) % len(_UTM)] if roll < 0.15 else ""
        return {"path": page["path"], "referrer": REFERRERS[int(random() * len(REFERRERS))], "search": search,
                "title": page["title"], "url": page["url"] + search}

    # -- one method per type: the type's own fields --

    def _identify(self, event: dict[str, Any], device: _Device) -> None:
        traits = dict(self._person(device))
        for key in ("address", "company"):
            if key in traits:
                traits[key] = dict(traits[key])
        event["traits"] = traits

    def _track(self, event: dict[str, Any], device: _Device) -> None:
        rng, pools = self._rng, self._pools
        if "app" in event["context"] and rng.random() < APP_ONLY_SHARE:  # a mobile app, not a server
            name, template = rng.choice(pools.app_tracks)
        else:
            name, template = pools.tracks[int(rng.random() * len(pools.tracks))]
        properties = dict(template)
        if "products" in properties:
            properties["products"] = [dict(product) for product in properties["products"]]
        for key in UNIQUE_KEYS:
            if key in properties:
                properties[key] = "%016x" % rng.getrandbits(64)
        event["event"] = name
        event["properties"] = properties

    def _page(self, event: dict[str, Any], device: _Device) -> None:
        site = self._site_page
        if self._rng.random() >= NAMELESS_SHARE:
            event["name"] = site["name"]
            if site["category"]:
                event["category"] = site["category"]
        event["properties"] = dict(event["context"]["page"])

    def _screen(self, event: dict[str, Any], device: _Device) -> None:
        random = self._rng.random
        if random() >= NAMELESS_SHARE:
            event["name"] = SCREENS[int(random() * len(SCREENS))]
        event["properties"] = {"source": SCREEN_SOURCES[int(random() * len(SCREEN_SOURCES))]}

    def _group(self, event: dict[str, Any], device: _Device) -> None:
        index = self._company_index(device)
        event["groupId"] = self._pools.companies[index]["id"]
        event["traits"] = dict(self._pools.group_traits[index])

    def _alias(self, event: dict[str, Any], device: _Device) -> None:
        if self._rng.random() < 0.7:
            event["previousId"] = device.anonymous_id
        else:  # two known identities merged: the previous one is an older user id
            event["previousId"] = str(self._rng.randrange(10_000, 10_000_000))


_PLATFORMS = ("web", "web", "ios", "android")
_SERVER_TYPES = frozenset({"track", "identify", "group"})
_UTM = tuple(f"?utm_source={source}&utm_medium={medium}" for source, medium in CAMPAIGN_CHANNELS)


def _join(devices: list[_Device], device: _Device, random: Any) -> _Device:
    """Add ``device`` to a live list, replacing a random one when the list is full."""
    if len(devices) < LIVE_DEVICES:
        devices.append(device)
    else:
        devices[int(random() * LIVE_DEVICES)] = device
    return device


def _cumulative(weights: Any) -> list[float]:
    """Cumulative weights scaled to end at 1.0, for ``bisect(cumulative, random())``."""
    weights = list(weights)
    total, running, out = sum(weights), 0.0, []
    for weight in weights:
        running += weight
        out.append(running / total)
    out[-1] = 2.0  # random() < 1.0 always lands inside
    return out


def generate_events(count: int, seed: int = 0, **options: Any) -> list[dict[str, Any]]:
    """``count`` events of a fresh ``EventGenerator(seed, **options)``."""
    return list(EventGenerator(seed, **options).events(count))
