"""``SegmentProvider``: a Faker provider for the realistic pieces of Segment events.

Each method returns one piece (a device profile, a product, a person's traits, a
track call's name and properties, a whole context) and calls Faker for every value,
so ``fake.segment_event("track")`` is a complete, realistic event. That is the naive
way (see ``naive.py``); the pooled ``EventGenerator`` calls the same methods a few
hundred times up front and recombines the results with its own seeded RNG.

Shapes and casing follow segment-docs ``src/connections/spec/*.md`` (common fields,
identify's reserved traits, the e-commerce, B2B SaaS and mobile specs). Values Faker
has no notion of (device models, SDK versions, user agents, event names) come from the
tables below, chosen with Faker's seeded random so they stay reproducible.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any

from faker.providers import BaseProvider

EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")

# Base of every timestamp: fixed, so output never depends on when it is generated.
BASE_TIME = datetime(2026, 11, 24, tzinfo=timezone.utc)
BASE_EPOCH_MS = int(BASE_TIME.timestamp() * 1000)

PLATFORMS = ("web", "ios", "android")

# (model id, device.name, points/pixels width, height, density)
IOS_DEVICES = (
    ("iPhone17,1", "iPhone", 402, 874, 3.0), ("iPhone17,3", "iPhone", 393, 852, 3.0),
    ("iPhone16,2", "iPhone", 430, 932, 3.0), ("iPhone16,1", "iPhone", 393, 852, 3.0),
    ("iPhone15,4", "iPhone", 393, 852, 3.0), ("iPhone15,2", "iPhone", 393, 852, 3.0),
    ("iPhone14,7", "iPhone", 390, 844, 3.0), ("iPhone14,5", "iPhone", 390, 844, 3.0),
    ("iPhone13,2", "iPhone", 390, 844, 3.0), ("iPhone14,6", "iPhone", 375, 667, 2.0),
    ("iPad13,18", "iPad", 820, 1180, 2.0), ("iPad14,3", "iPad", 834, 1194, 2.0),
)
IOS_VERSIONS = ("16.7.10", "17.4.1", "17.5.1", "17.6.1", "18.0.1", "18.1.1", "18.2.1", "18.3.2", "18.5", "18.6.2")
# (manufacturer, model, device.name (codename), pixels width, height, density)
ANDROID_DEVICES = (
    ("Google", "Pixel 8", "shiba", 1080, 2400, 2.625), ("Google", "Pixel 8 Pro", "husky", 1344, 2992, 3.0),
    ("Google", "Pixel 7", "panther", 1080, 2400, 2.625), ("samsung", "SM-S911B", "dm1q", 1080, 2340, 3.0),
    ("samsung", "SM-S918B", "dm3q", 1440, 3088, 3.5), ("samsung", "SM-A546B", "a54x", 1080, 2340, 2.625),
    ("Xiaomi", "23049PCD8G", "ruby", 1080, 2400, 2.75), ("OnePlus", "CPH2449", "OP594DL1", 1240, 2772, 2.75),
    ("motorola", "moto g54 5G", "cancunf", 1080, 2400, 2.625),
)
ANDROID_VERSIONS = ("11", "12", "13", "14", "15")
ANDROID_BUILDS = ("UQ1A.240205.004", "AP2A.240905.003", "TP1A.220624.014", "UP1A.231005.007", "BP1A.250305.019")
LIBRARIES = {
    "ios": (("analytics-ios", "4.1.8"), ("analytics-swift", "1.5.11"), ("analytics-swift", "1.6.1")),
    "android": (("analytics-android", "4.11.3"), ("analytics-kotlin", "1.16.0"), ("analytics-kotlin", "1.18.2")),
    "web": (("analytics.js", "next-1.70.0"), ("analytics.js", "next-1.74.0"), ("analytics.js", "2.11.1")),
    "server": (("analytics-python", "2.3.3"), ("@segment/analytics-node", "2.1.3"), ("analytics-go", "3.3.0")),
}
# (os name, os version, user agent template with {v} the browser major version, browser versions)
WEB_CLIENTS = (
    ("Mac OS X", "10.15.7", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{v}.0.0.0 Safari/537.36", ("128", "131", "134", "137")),
    ("Mac OS X", "10.15.7", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/{v} Safari/605.1.15", ("17.6", "18.3", "18.5")),
    ("Windows", "10", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{v}.0.0.0 Safari/537.36", ("128", "131", "134", "137")),
    ("Windows", "11", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0", ("131", "134", "137")),
    ("Windows", "10", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
     ("128", "133", "139")),
    ("Linux", "6.8", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{v}.0.0.0 Safari/537.36", ("131", "137")),
    ("iOS", "18.5", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/{v} Mobile/15E148 Safari/604.1", ("18.5",)),
)
WEB_SCREENS = ((1920, 1080, 1.0), (1440, 900, 2.0), (1536, 864, 1.25), (2560, 1440, 1.0), (1366, 768, 1.0),
               (1512, 982, 2.0), (1728, 1117, 2.0), (390, 844, 3.0))
CARRIERS = {
    "US": ("T-Mobile", "Verizon", "AT&T"), "GB": ("EE", "Vodafone UK", "O2 - UK", "Three"),
    "DE": ("Telekom.de", "Vodafone.de", "o2-de"), "FR": ("Orange F", "SFR", "Bouygues Telecom", "Free"),
    "JP": ("docomo", "au", "SoftBank"), "BR": ("Vivo", "Claro BR", "TIM"), "IN": ("Jio 4G", "airtel", "Vi India"),
    "ES": ("Movistar", "Orange", "Vodafone ES"), "IT": ("TIM", "Vodafone IT", "WINDTRE"),
}
DEFAULT_CARRIERS = ("Vodafone", "Orange", "T-Mobile")
BRANDS = ("Acme", "Initech", "Globex", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell", "Soylent")

# Track event names with weights: Segment's e-commerce, B2B SaaS and mobile specs, plus a few custom ones.
WEB_EVENTS = (
    ("Product Viewed", 20), ("Products Searched", 6), ("Product List Viewed", 8), ("Product Clicked", 6),
    ("Product Added", 10), ("Product Removed", 3), ("Cart Viewed", 6), ("Checkout Started", 4),
    ("Checkout Step Viewed", 3), ("Checkout Step Completed", 3), ("Payment Info Entered", 2), ("Order Completed", 4),
    ("Order Updated", 0.5), ("Order Refunded", 0.5), ("Order Cancelled", 0.5), ("Coupon Entered", 1),
    ("Coupon Applied", 1), ("Coupon Denied", 0.5), ("Product Added to Wishlist", 1.5), ("Product Shared", 1),
    ("Product Reviewed", 1), ("Promotion Viewed", 2), ("Promotion Clicked", 1), ("Signed Up", 2), ("Signed In", 5),
    ("Signed Out", 1.5), ("Account Created", 1), ("Trial Started", 1), ("Invite Sent", 1), ("Feature Used", 4),
    ("Button Clicked", 3), ("Video Playback Started", 1),
)
MOBILE_EVENTS = WEB_EVENTS + (
    ("Application Opened", 10), ("Application Backgrounded", 6), ("Application Installed", 1),
    ("Application Updated", 0.5), ("Deep Link Opened", 1), ("Push Notification Received", 1.5),
    ("Push Notification Tapped", 0.7),
)
PRODUCT_EVENTS = frozenset({"Product Viewed", "Product Clicked", "Product Added", "Product Removed",
                            "Product Added to Wishlist", "Product Shared", "Product Reviewed"})
ORDER_EVENTS = frozenset({"Checkout Started", "Order Completed", "Order Updated", "Order Refunded", "Order Cancelled"})
PRODUCT_NOUNS = {
    "Apparel": ("T-Shirt", "Hoodie", "Sneakers", "Jacket", "Beanie", "Socks"),
    "Electronics": ("Headphones", "USB-C Charger", "Smart Watch", "Speaker", "Keyboard"),
    "Home": ("Mug", "Desk Lamp", "Throw Pillow", "Candle", "Plant Pot"),
    "Books": ("Notebook", "Cookbook", "Planner", "Sketchbook"),
    "Sports": ("Yoga Mat", "Water Bottle", "Running Belt", "Dumbbell Set"),
}
VARIANTS = ("S", "M", "L", "XL", "Black", "White", "Blue", "Standard", "Pro")
CURRENCIES = ("USD", "USD", "USD", "EUR", "GBP", "JPY", "BRL", "INR", "CAD")
PAGES = (  # (path template, name, category)
    ("/", "Home", None), ("/pricing", "Pricing", "Marketing"), ("/features", "Features", "Marketing"),
    ("/blog/{slug}", "Blog Post", "Content"), ("/docs/{slug}", "Docs", "Docs"),
    ("/products/{slug}", "Product", "Shop"), ("/collections/{word}", "Collection", "Shop"), ("/cart", "Cart", "Shop"),
    ("/checkout", "Checkout", "Shop"), ("/account", "Account", "Account"), ("/login", "Login", "Account"),
    ("/signup", "Sign Up", "Account"), ("/search", "Search", "Shop"),
)
REFERRERS = ("", "", "https://www.google.com/", "https://www.bing.com/", "https://t.co/", "https://www.facebook.com/",
             "https://news.ycombinator.com/", "https://www.linkedin.com/", "https://duckduckgo.com/")
SCREENS = ("Home", "Product Detail", "Cart", "Checkout", "Settings", "Profile", "Search", "Onboarding",
           "Notifications", "Order History", "Login", "Feed")
SCREEN_SOURCES = ("tab_bar", "deep_link", "push", "navigation", "onboarding")
CAMPAIGNS = ("Black Friday", "Cyber Monday", "Spring Sale", "Summer Launch", "Newsletter", "Retargeting",
             "Brand Awareness", "Back to School", "Holiday Gift Guide", "Product Hunt Launch")
CAMPAIGN_CHANNELS = (("google", "cpc"), ("facebook", "social"), ("newsletter", "email"), ("twitter", "social"),
                     ("linkedin", "cpc"), ("bing", "cpc"), ("tiktok", "paid_social"), ("partner", "affiliate"))
CAMPAIGN_CONTENTS = ("image link", "text_link", "banner_a", "banner_b", "video", "carousel")
INDUSTRIES = ("Technology", "Retail", "Finance", "Healthcare", "Education", "Media", "Manufacturing",
              "Travel", "Real Estate", "Nonprofit")
PLANS = ("free", "free", "starter", "growth", "growth", "enterprise")
GENDERS = ("female", "male", "female", "male", "non-binary")
SHIPPING_METHODS = ("Standard", "Express", "Next Day", "Pickup")
PAYMENT_METHODS = ("Visa", "Mastercard", "Amex", "PayPal", "Apple Pay", "Google Pay")
FEATURES = ("dashboard", "export", "search", "filters", "dark_mode", "sharing", "reports", "integrations")
CUSTOM_PROPERTIES = ("plan", "experiment_variant", "session_count", "source", "is_returning", "app_theme")
CUSTOM_TRAITS = ("plan", "logins", "newsletter_opt_in", "preferred_language", "lifetime_value", "referral_code")
INTEGRATIONS = (  # (weight, integrations object)
    (85, {"All": True}), (5, {"All": True, "Mixpanel": False}), (4, {"All": True, "1Flow": False}),
    (3, {"All": False, "1Flow": True, "Amplitude": True}), (3, {"All": True, "1Flow": {"skip_survey": True}}),
)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (accents stripped), or "" when none."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class SegmentProvider(BaseProvider):
    """Realistic pieces of Segment events; every call draws fresh values from Faker."""

    # -- environment: app, device, os, library, screen, network, location, campaign, page --

    def segment_platform(self) -> str:
        return self.random_element(PLATFORMS)

    def segment_brand(self) -> dict[str, str]:
        """The product being tracked: app name, namespace and web domain."""
        word = ascii_slug(self.generator.domain_word())
        if len(word) < 3 or not word.isalpha():
            word = self.random_element(BRANDS).lower()
        return {"name": word.title(), "namespace": f"com.{word}.app", "domain": f"www.{word}.com"}

    def segment_app(self, brand: dict[str, str] | None = None) -> dict[str, str]:
        brand = brand or self.segment_brand()
        major, minor, patch = self.random_int(1, 6), self.random_int(0, 20), self.random_int(0, 9)
        build = self.random_int(100, 2999)
        return {"name": brand["name"], "version": f"{major}.{minor}.{patch}", "build": str(build),
                "namespace": brand["namespace"]}

    def segment_device_profile(self, platform: str, brand: dict[str, str] | None = None) -> dict[str, Any]:
        """Everything about one kind of client that does not change between its events.

        Keys: ``platform``, ``library``, ``os``, ``screen``, ``userAgent``, and for mobile
        ``app`` and ``device`` (without ``id``/``advertisingId``, which are per device).
        """
        library = dict(zip(("name", "version"), self.random_element(LIBRARIES[platform])))
        if platform == "web":
            os_name, os_version, agent, versions = self.random_element(WEB_CLIENTS)
            width, height, density = self.random_element(WEB_SCREENS)
            return {"platform": platform, "library": library, "os": {"name": os_name, "version": os_version},
                    "screen": {"width": width, "height": height, "density": density},
                    "userAgent": agent.format(v=self.random_element(versions))}
        app = self.segment_app(brand)
        if platform == "ios":
            model, name, width, height, density = self.random_element(IOS_DEVICES)
            version = self.random_element(IOS_VERSIONS)
            device = {"manufacturer": "Apple", "model": model, "name": name, "type": "ios"}
            agent = f"{app['name']}/{app['version']} ({name}; iOS {version}; Scale/{density:.2f})"
            os_info = {"name": "iOS", "version": version}
        else:
            manufacturer, model, name, width, height, density = self.random_element(ANDROID_DEVICES)
            version = self.random_element(ANDROID_VERSIONS)
            device = {"manufacturer": manufacturer, "model": model, "name": name, "type": "android"}
            agent = f"Dalvik/2.1.0 (Linux; U; Android {version}; {model} Build/{self.random_element(ANDROID_BUILDS)})"
            os_info = {"name": "Android", "version": version}
        return {"platform": platform, "library": library, "os": os_info, "app": app, "device": device,
                "screen": {"width": width, "height": height, "density": density}, "userAgent": agent}

    def segment_location(self) -> dict[str, Any]:
        """A real place in the locale's country (Faker's land coordinates), with its time zone."""
        place = self.generator.local_latlng(country_code=self.generator.current_country_code())
        place = place or self.generator.local_latlng(country_code="US")
        latitude, longitude, city, country_code, zone = place
        return {"city": city, "country": country_code, "latitude": float(latitude),
                "longitude": float(longitude), "timezone": zone}

    def segment_carrier(self, country_code: str) -> str:
        return self.random_element(CARRIERS.get(country_code, DEFAULT_CARRIERS))

    def segment_network(self, platform: str, country_code: str = "US") -> dict[str, Any]:
        wifi = self.generator.pybool(70)
        return {"bluetooth": self.generator.pybool(20), "carrier": self.segment_carrier(country_code),
                "cellular": not wifi or self.generator.pybool(30), "wifi": wifi}

    def segment_campaign(self) -> dict[str, str]:
        source, medium = self.random_element(CAMPAIGN_CHANNELS)
        name = f"{self.random_element(CAMPAIGNS)} {self.random_int(2024, 2026)}"
        return {"name": name, "source": source, "medium": medium, "term": self.generator.word(),
                "content": self.random_element(CAMPAIGN_CONTENTS)}

    def segment_site_page(self, domain: str = "www.example.com") -> dict[str, Any]:
        """One page of the site: ``path``, ``title``, ``url`` plus the ``name``/``category`` a page call uses."""
        template, name, category = self.random_element(PAGES)
        path = template.format(slug=self.generator.slug(), word=ascii_slug(self.generator.word()) or "new")
        title = f"{name} | {domain.split('.')[1].title()}"
        return {"path": path, "title": title, "url": f"https://{domain}{path}", "name": name, "category": category}

    def segment_page_context(self, site_page: dict[str, Any] | None = None) -> dict[str, str]:
        """``context.page`` / page ``properties``: path, referrer, search, title, url."""
        site_page = site_page or self.segment_site_page()
        search = f"?q={ascii_slug(self.generator.word())}" if site_page["path"] == "/search" else ""
        if not search and self.generator.pybool(15):
            search = f"?utm_source={self.random_element(CAMPAIGN_CHANNELS)[0]}"
        return {"path": site_page["path"], "referrer": self.random_element(REFERRERS), "search": search,
                "title": site_page["title"], "url": site_page["url"] + search}

    def segment_ip(self) -> str:
        return self.generator.ipv4_public()

    def segment_ip_prefix(self) -> str:
        """The first three octets of a public IPv4 address, e.g. ``"81.2.69."``."""
        return self.generator.ipv4_public().rsplit(".", 1)[0] + "."

    def segment_context(self, platform: str | None = None) -> dict[str, Any]:
        """A complete ``context`` for one event of ``platform`` (web, ios, android or server)."""
        platform = platform or self.segment_platform()
        if platform == "server":
            return {"library": dict(zip(("name", "version"), self.random_element(LIBRARIES["server"]))),
                    "ip": self.segment_ip()}
        profile = self.segment_device_profile(platform)
        location = self.segment_location()
        context: dict[str, Any] = {}
        if platform != "web":
            context["app"] = profile["app"]
            context["device"] = dict(profile["device"], id=self.generator.uuid4().upper())
            if self.generator.pybool(60):
                context["device"]["advertisingId"] = self.generator.uuid4().upper()
                context["device"]["adTrackingEnabled"] = True
        context["ip"] = self.segment_ip()
        context["library"] = profile["library"]
        context["locale"] = self._locale_tag()
        context["location"] = {k: location[k] for k in ("city", "country", "latitude", "longitude")}
        if platform != "web":
            context["network"] = self.segment_network(platform, location["country"])
        context["os"] = profile["os"]
        if platform == "web":
            context["page"] = self.segment_page_context()
        context["screen"] = profile["screen"]
        context["timezone"] = location["timezone"]
        context["userAgent"] = profile["userAgent"]
        if self.generator.pybool(25):
            context["campaign"] = self.segment_campaign()
        return context

    def _locale_tag(self) -> str:
        locales = getattr(self.generator, "_locales", None)
        return str(locales[0] if locales else "en_US").replace("_", "-")

    # -- identity and traits --

    def segment_user_id(self) -> str:
        """A database-style user id: an object id, a number, or a prefixed key."""
        kind = self.random_int(0, 9)
        if kind < 5:
            return self.generator.hexify("^" * 24)
        if kind < 8:
            return str(self.random_int(10_000, 9_999_999))
        return "usr_" + self.generator.lexify("?" * 14, letters="abcdefghijkmnopqrstuvwxyz0123456789")

    def segment_address(self) -> dict[str, str]:
        generator = self.generator
        try:
            state = generator.state()
        except AttributeError:
            state = generator.administrative_unit()
        return {"city": generator.city(), "country": generator.current_country_code(),
                "postalCode": generator.postcode(), "state": state, "street": generator.street_address()}

    def segment_company(self) -> dict[str, Any]:
        """A company as identify's ``company`` trait: name, id, industry, employee_count, plan."""
        return {"name": self.generator.company(), "id": self.generator.hexify("^" * 24),
                "industry": self.random_element(INDUSTRIES),
                "employee_count": self.random_element((4, 12, 35, 80, 150, 420, 1200, 5000)) + self.random_int(0, 9),
                "plan": self.random_element(PLANS)}

    def segment_iso_date(self, days_before: int = 1500) -> str:
        moment = BASE_TIME - timedelta(seconds=self.random_int(3600, days_before * 86400))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def segment_traits(self) -> dict[str, Any]:
        """identify ``traits``: Segment's reserved traits in Segment's casing, plus custom ones."""
        generator = self.generator
        first, last = generator.first_name(), generator.last_name()
        handle = ascii_slug(first + last) or generator.user_name()
        username = f"{handle}{self.random_int(1, 99)}"
        birthday = generator.date_of_birth(minimum_age=18, maximum_age=75)
        traits: dict[str, Any] = {
            "email": f"{username}@{generator.free_email_domain()}", "firstName": first, "lastName": last,
            "name": f"{first} {last}", "username": username, "createdAt": self.segment_iso_date(),
        }
        if generator.pybool(70):
            traits["phone"] = generator.phone_number()
        if generator.pybool(60):
            traits["title"] = generator.job()
        if generator.pybool(50):
            traits["address"] = self.segment_address()
        if generator.pybool(60):
            traits["company"] = self.segment_company()
        if generator.pybool(50):
            traits["avatar"] = f"https://i.pravatar.cc/300?u={username}"
        if generator.pybool(50):
            traits["birthday"] = birthday.isoformat()
            traits["age"] = BASE_TIME.year - birthday.year
        if generator.pybool(40):
            traits["gender"] = self.random_element(GENDERS)
        if generator.pybool(20):
            traits["website"] = generator.url()
        traits.update(self.segment_custom_traits())
        return traits

    def segment_custom_traits(self) -> dict[str, Any]:
        values = {"plan": self.random_element(PLANS), "logins": self.random_int(1, 400),
                  "newsletter_opt_in": self.generator.pybool(), "preferred_language": self._locale_tag()[:2],
                  "lifetime_value": round(self.random_int(0, 250_000) / 100, 2),
                  "referral_code": self.generator.bothify("??##??").upper()}
        keys = self.random_elements(CUSTOM_TRAITS, length=self.random_int(1, 3), unique=True)
        return {key: values[key] for key in keys}

    def segment_group_traits(self, company: dict[str, Any] | None = None) -> dict[str, Any]:
        """group ``traits``: name, industry, employees, plan, website, createdAt."""
        company = company or self.segment_company()
        slug = ascii_slug(company["name"])[:20] or "company"
        return {"name": company["name"], "industry": company["industry"], "employees": company["employee_count"],
                "plan": company["plan"], "website": f"https://www.{slug}.com", "createdAt": self.segment_iso_date()}

    # -- track --

    def segment_product(self, domain: str = "www.example.com") -> dict[str, Any]:
        """One product as the e-commerce spec lists it (product_id, sku, category, name, brand, ...)."""
        category = self.random_element(tuple(PRODUCT_NOUNS))
        name = f"{self.generator.safe_color_name().title()} {self.random_element(PRODUCT_NOUNS[category])}"
        sku = self.generator.bothify("??-#####").upper()
        slug = "-".join(name.lower().split())
        return {"product_id": self.generator.hexify("^" * 24), "sku": sku, "category": category, "name": name,
                "brand": self.generator.last_name(), "variant": self.random_element(VARIANTS),
                "price": round(self.random_int(199, 24999) / 100, 2), "url": f"https://{domain}/products/{slug}",
                "image_url": f"https://cdn.{domain.removeprefix('www.')}/img/{sku.lower()}.jpg"}

    def segment_event_name(self, platform: str = "web") -> str:
        table = MOBILE_EVENTS if platform in ("ios", "android") else WEB_EVENTS
        return self.generator.random.choices([name for name, _ in table], [weight for _, weight in table])[0]

    def segment_track_properties(self, event: str, domain: str = "www.example.com") -> dict[str, Any]:
        """``properties`` for a track call named ``event``, the fields its spec lists plus custom ones."""
        generator = self.generator
        currency = self.random_element(CURRENCIES)
        properties: dict[str, Any] = {}
        if event in PRODUCT_EVENTS:
            product = self.segment_product(domain)
            quantity = self.random_int(1, 3)
            properties.update(product, quantity=quantity, currency=currency,
                              value=round(product["price"] * quantity, 2), position=self.random_int(1, 24))
            if event == "Product Reviewed":
                properties.update(review_id=generator.hexify("^" * 12), review_body=generator.sentence(),
                                  rating=self.random_int(1, 5))
        elif event in ORDER_EVENTS or event == "Cart Viewed":
            products = [dict(self.segment_product(domain), quantity=self.random_int(1, 3))
                        for _ in range(self.random_int(1, 4))]
            subtotal = round(sum(p["price"] * p["quantity"] for p in products), 2)
            shipping, tax = round(self.random_int(0, 1500) / 100, 2), round(subtotal * 0.08, 2)
            discount = round(subtotal * 0.1, 2) if generator.pybool(20) else 0
            total = round(subtotal + shipping + tax - discount, 2)
            if event == "Cart Viewed":
                properties.update(cart_id=generator.hexify("^" * 16), products=products)
            else:
                properties.update(order_id=generator.bothify("ORD-#######"), checkout_id=generator.hexify("^" * 16),
                                  affiliation=self.random_element(("Online Store", "App Store", "Marketplace")),
                                  total=total, subtotal=subtotal, revenue=round(subtotal - discount, 2),
                                  shipping=shipping, tax=tax, discount=discount, currency=currency, products=products)
                if discount:
                    properties["coupon"] = generator.bothify("SAVE##").upper()
        elif event in ("Checkout Step Viewed", "Checkout Step Completed", "Payment Info Entered"):
            properties.update(checkout_id=generator.hexify("^" * 16), step=self.random_int(1, 4),
                              shipping_method=self.random_element(SHIPPING_METHODS),
                              payment_method=self.random_element(PAYMENT_METHODS))
        elif event in ("Products Searched", "Product List Viewed"):
            if event == "Products Searched":
                properties["query"] = generator.word()
            else:
                properties.update(list_id=generator.slug(), category=self.random_element(tuple(PRODUCT_NOUNS)),
                                  products=[self.segment_product(domain) for _ in range(self.random_int(1, 4))])
        elif event.startswith("Coupon"):
            properties.update(order_id=generator.bothify("ORD-#######"), coupon_id=generator.bothify("??####"),
                              coupon_name=generator.bothify("SAVE##").upper())
            if event == "Coupon Denied":
                properties["reason"] = "Coupon expired"
            else:
                properties["discount"] = round(self.random_int(100, 2500) / 100, 2)
        elif event.startswith("Promotion"):
            properties.update(promotion_id=generator.bothify("promo_####"), creative=generator.slug(),
                              name=f"{self.random_element(CAMPAIGNS)}", position="home_banner")
        elif event in ("Signed Up", "Account Created", "Signed In", "Signed Out"):
            properties.update(type=self.random_element(("organic", "referral", "google", "apple")),
                              username=generator.user_name())
        elif event == "Trial Started":
            properties.update(trial_plan_name=self.random_element(PLANS[2:]), trial_start_date=self.segment_iso_date(3),
                              trial_end_date=self.segment_iso_date(1))
        elif event == "Invite Sent":
            properties.update(invitee_email=generator.free_email(), invitee_first_name=generator.first_name(),
                              invitee_role=self.random_element(("Admin", "Member", "Viewer")))
        elif event.startswith("Application"):
            properties.update(version=f"{self.random_int(1, 6)}.{self.random_int(0, 20)}.{self.random_int(0, 9)}",
                              build=str(self.random_int(100, 2999)))
            if event == "Application Opened":
                properties["from_background"] = generator.pybool()
        else:
            properties.update(feature=self.random_element(FEATURES), value=self.random_int(1, 100))
        properties.update(self.segment_custom_properties())
        return properties

    def segment_custom_properties(self) -> dict[str, Any]:
        values = {"plan": self.random_element(PLANS), "experiment_variant": self.random_element(("control", "a", "b")),
                  "session_count": self.random_int(1, 250), "source": self.random_element(SCREEN_SOURCES),
                  "is_returning": self.generator.pybool(), "app_theme": self.random_element(("light", "dark"))}
        keys = self.random_elements(CUSTOM_PROPERTIES, length=self.random_int(1, 2), unique=True)
        return {key: values[key] for key in keys}

    # -- whole events (the naive way) --

    def segment_timestamps(self) -> dict[str, str]:
        """originalTimestamp, sentAt, receivedAt and timestamp, consistent the way Segment computes them."""
        happened = BASE_EPOCH_MS + self.random_int(0, 30 * 86_400_000)
        sent = happened + self.random_int(0, 20_000)
        received = sent + self.random_int(20, 400)
        timestamp = received - (sent - happened)
        return {"originalTimestamp": iso_ms(happened), "sentAt": iso_ms(sent), "receivedAt": iso_ms(received),
                "timestamp": iso_ms(timestamp)}

    def segment_event(self, event_type: str | None = None) -> dict[str, Any]:
        """One complete Segment event of ``event_type``, every field a fresh Faker draw."""
        event_type = event_type or self.random_element(EVENT_TYPES)
        platform = {"page": "web", "screen": self.random_element(("ios", "android"))}.get(
            event_type, self.segment_platform())
        event: dict[str, Any] = {"type": event_type, "messageId": self.generator.uuid4()}
        known = event_type == "alias" or self.generator.pybool(80)
        event["anonymousId"] = self.generator.uuid4()
        if known:
            event["userId"] = self.segment_user_id()
        event["context"] = self.segment_context(platform)
        chosen = self.generator.random.choices([value for _, value in INTEGRATIONS],
                                               [weight for weight, _ in INTEGRATIONS])[0]
        event["integrations"] = {k: dict(v) if isinstance(v, dict) else v for k, v in chosen.items()}
        if event_type == "identify":
            event["traits"] = self.segment_traits()
        elif event_type == "track":
            event["event"] = self.segment_event_name(platform)
            event["properties"] = self.segment_track_properties(event["event"])
        elif event_type == "page":
            page = self.segment_site_page()
            event["name"] = page["name"]
            if page["category"]:
                event["category"] = page["category"]
            event["properties"] = self.segment_page_context(page)
        elif event_type == "screen":
            event["name"] = self.random_element(SCREENS)
            event["properties"] = {"source": self.random_element(SCREEN_SOURCES)}
        elif event_type == "group":
            company = self.segment_company()
            event["groupId"] = company["id"]
            event["traits"] = self.segment_group_traits(company)
        else:
            event["previousId"] = event["anonymousId"]
        event.update(self.segment_timestamps())
        return event


def iso_ms(epoch_ms: int) -> str:
    """``2026-11-24T06:23:01.123Z`` for a time in milliseconds since the epoch (UTC)."""
    seconds, millis = divmod(epoch_ms, 1000)
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"
