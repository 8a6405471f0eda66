"""Seeded, deterministic generator of the golden corpus' inputs: a pool of awkward Segment
events, (mapping, event) cases covering every mapping-kit directive, nested and combined,
with valid and invalid arguments, and (trigger, event) cases: hand-written FQL (valid,
odd spacing, escapes, malformed) and UI-shaped conditions that Segment's own
``generateFql`` turns into FQL. Segment's answers are computed by ``answer.js``."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

SEED = 20261125
KEYS = ["plan", "price", "count", "name", "email", "flag", "tags", "items", "nested", "empty", "nil",
        "$revenue", "a.b", "a b", "weird[key]", "0", "10", "2", "constructor", "__proto__", "toString",
        "valueOf", "hasOwnProperty", "length", "ünï", "Plan", "x-y", "x_y"]
WORDS = ["pro", "Pro", "PRO", "free", "enterprise", "", " ", "  pad  ", "a*b", "12", "12.50", "-3", "1e3",
         "0", "true", "false", "null", "undefined", "{\"a\":1}", "[1,2]", "not json", "héllo", "日本語",
         "😀 emoji", "tab\there", "line\nbreak", "$&", "$'", "a.b", "constructor", "__proto__", "toString",
         "{{name}}", "{% if %}", "lone \ud83d surrogate", "ǅ", "ß", "İ", "\u00a0nbsp\u00a0", "\ufeffbom", "x" * 12, "Ab" * 3]
NUMBERS = [0, 1, -1, 2, 12, 12.5, -3.25, 1e21, 1e-7, 0.1, 100, 2**53 + 2, 3.0, -0.0, 1e300]


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if roll < 0.30:
        return rng.choice(WORDS)
    if roll < 0.50:
        return rng.choice(NUMBERS)
    if roll < 0.58:
        return rng.choice([True, False])
    if roll < 0.66:
        return None
    if roll < 0.80 and depth < 3:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if depth < 3:
        return _object(rng, depth + 1, rng.randint(0, 4))
    return rng.choice(WORDS)


def _object(rng: random.Random, depth: int, size: int) -> dict[str, Any]:
    return {rng.choice(KEYS): _value(rng, depth) for _ in range(size)}


def _container(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.85:
        obj = _object(rng, 1, rng.randint(1, 7))
        for key in rng.sample(["plan", "price", "name", "email", "tags", "nested"], rng.randint(0, 4)):
            obj[key] = {"plan": rng.choice(["pro", "free", "Pro", "", None, 3]),
                        "price": rng.choice([12, 12.5, "12", "12.50", 0, -3, None, "abc", True]),
                        "name": rng.choice(["Order Completed", "", "héllo", None, 7]),
                        "email": rng.choice(["a@b.co", "A@B.CO", "", None]),
                        "tags": rng.choice([["a", "b"], [], [1, None, "x"], "a,b"]),
                        "nested": rng.choice([{"a": {"b": 1}}, {"a": None}, {"a": [1, {"b": 2}]}, {}])}[key]
        return obj
    return rng.choice(["a string", "", 0, 5, None, [1, 2], [], True])


def events(rng: random.Random, count: int) -> list[dict[str, Any]]:
    out = []
    for index in range(count):
        event: dict[str, Any] = {}
        if rng.random() < 0.95:
            event["type"] = rng.choice(["track", "track", "identify", "identify", "page", "screen", "group", "alias",
                                        "Track", "", "track "])
        if rng.random() < 0.85:
            event["event"] = rng.choice(["Order Completed", "Signed Up", "order completed", "", "Order*", "*x",
                                         "héllo wörld", "constructor", 12, None, "12", "a\"b", "Ab Ab"])
        if rng.random() < 0.6:
            event["name"] = rng.choice(["Home", "home", "", None, "Pricing Page", 0, "null", "日本"])
        if rng.random() < 0.85:
            event["userId"] = rng.choice(["user-1", "u2", "", None, 42, True, "null", "true", "USER-1"])
        if rng.random() < 0.8:
            event["anonymousId"] = rng.choice(["anon-1", "", None, "anon-Ω"])
        for key in ("properties", "traits", "context"):
            if rng.random() < 0.85:
                event[key] = _container(rng)
        if rng.random() < 0.2:
            event[rng.choice(["constructor", "__proto__", "toString", "$weird", "a.b", "nested"])] = _value(rng, 1)
        event["messageId"] = f"m-{index}"
        out.append(event)
    return out


# --- mappings --------------------------------------------------------------------------------

ROOTS = ["properties", "traits", "context", "event", "name", "userId", "anonymousId", "type", "messageId",
         "nested", "constructor", "__proto__", "toString"]


def _path(rng: random.Random) -> str:
    roll = rng.random()
    root = rng.choice(ROOTS)
    if root in ("properties", "traits", "context") and roll < 0.7:
        key = rng.choice(KEYS)
        shape = rng.random()
        if shape < 0.55:
            tail = f".{key}"
        elif shape < 0.65:
            tail = f'["{key}"]'
        elif shape < 0.72:
            tail = f"['{key}']"
        elif shape < 0.8:
            tail = f".{key}[{rng.randint(0, 2)}]"
        elif shape < 0.9:
            tail = f".{key}.{rng.choice(['a', 'b', 'length', '0', 'a.b'])}"
        else:
            tail = f".{key}[0].b"
        path = root + tail
    else:
        path = root
    prefix = rng.choices(["$.", "", "$", "$..", " $."], [0.8, 0.1, 0.04, 0.03, 0.03])[0]
    if rng.random() < 0.03:
        return rng.choice(["", ".", "$", "[]", "..", "$.[", "$.]"])
    return prefix + path


def _leaf(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.55:
        return {"@path": _path(rng)}
    if roll < 0.75:
        return rng.choice(WORDS)
    if roll < 0.85:
        return rng.choice(NUMBERS[:8])
    if roll < 0.92:
        return rng.choice([True, False, None])
    return {"@template": _template(rng)}


def _template(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 3)):
        path = _path(rng).replace("$.", "", 1)
        parts.append(rng.choice([f"{{{{{path}}}}}", f"{{{{ {path} }}}}", f"{{{{{{{path}}}}}}}", rng.choice(WORDS), "{{}}",
                                 "{{ }}", "{{{x}}", f"{{{{$.{path}}}}}"]))
    return rng.choice(["", "-", " "]).join(parts)


LIQUID = [
    "{{ properties.plan }}", "{{ properties.plan | upcase }}", "{{ properties.plan | downcase }}",
    "{{ properties.name | default: 'none' }}", "{{ event | append: '!' }}", "{{ event | prepend: '>' }}",
    "{{ properties.price | plus: 1 }}", "{{ properties.price | minus: 1 }}", "{{ properties.price | times: 2 }}",
    "{{ properties.count | divided_by: 2 }}", "{{ properties.price | round }}", "{{ properties.email | size }}",
    "{{ properties.tags | join: '-' }}", "{{ properties.tags | first }}", "{{ properties.tags | last }}",
    "{{ properties.tags | size }}", "{% if properties.plan == 'pro' %}yes{% else %}no{% endif %}",
    "{% unless userId %}anon{% endunless %}", "{% assign x = properties.plan %}{{ x }}-{{ x }}",
    "{% capture c %}{{ event }}!{% endcapture %}{{ c | upcase }}", "{{ event | replace: ' ', '_' }}",
    "{{ event | split: ' ' | join: ',' }}", "{{ event | truncate: 5 }}", "{{ event | strip }}",
    "{{ properties.name | capitalize }}", "{{ event | slice: 0, 3 }}", "{{ 'a,b' | split: ',' | size }}",
    "{% for x in properties.tags %}{{ x }}{% endfor %}", "{% case event %}{% when 'a' %}A{% endcase %}",
    "{{ properties.tags | reverse }}", "{{ properties.tags | sort }}", "{{ properties.tags | map: 'a' }}",
    "{{ properties | type }}", "{{ event | concat: properties.tags }}", "{% include 'x' %}", "{% render 'x' %}",
    "{{ unclosed", "{% if %}", "{% endif %}", "{{ event | nosuchfilter }}", "", "plain text",
    "{{ properties.nested.a.b }}", "{{ traits.email | downcase | remove: '@' }}", "{{ userId | default: anonymousId }}",
    "{{ properties.price }}{{ properties.count }}", "{{ properties.flag }}", "{{ properties.nil | default: 'x' }}",
    "{% if properties.price > 10 %}big{% endif %}", "{{ properties.tags[0] }}", "{{ properties['a b'] }}",
    "{{ 'x' | append: 1 }}", "{{ 10 | divided_by: 4 }}", "{{ 10.0 | divided_by: 4 }}", "{{ 1.5 | times: 3 }}",
    "{{ properties.price | abs }}", "{{ event | url_encode }}", "{{ event | escape }}", "{{ 'x' * 1001 }}",
]


def _liquid(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.85:
        return rng.choice(LIQUID)
    if roll < 0.92:
        return "x" * rng.choice([999, 1000, 1001])
    return rng.choice([1, None, {"@path": "$.event"}, ["{{ event }}"], True])


NAMES = ["@path", "@template", "@literal", "@if", "@case", "@replace", "@arrayPath", "@json", "@flatten", "@merge",
         "@excludeWhenNull", "@transform", "@liquid", "object", "array", "bad"]


def _directive(rng: random.Random, depth: int, tags: set[str]) -> Any:
    if depth > 3:
        return _leaf(rng)
    name = rng.choices(NAMES, [6, 3, 2, 4, 3, 4, 3, 3, 3, 3, 3, 2, 4, 3, 2, 1])[0]
    tags.add(name)
    sub = lambda: _directive(rng, depth + 1, tags)  # noqa: E731
    valid = rng.random() < 0.95
    if name == "@path":
        return {"@path": _path(rng) if valid else rng.choice([1, None, ["$.a"], {"@path": "$.event"}, True, {}])}
    if name == "@template":
        return {"@template": _template(rng) if valid else rng.choice([1, None, {"@path": "$.event"}, []])}
    if name == "@literal":
        return {"@literal": rng.choice([sub(), rng.choice(WORDS), rng.choice(NUMBERS), None, {"a": sub()}, [sub()]])}
    if name == "@if":
        opts: dict[str, Any] = {}
        cond = rng.choice(["exists", "blank", "both", "none"]) if not valid else rng.choice(["exists", "blank"])
        if cond in ("exists", "both"):
            opts["exists"] = sub() if rng.random() < 0.8 else rng.choice([0, "", None, False, "x", []])
        if cond in ("blank", "both"):
            opts["blank"] = sub() if rng.random() < 0.8 else rng.choice([0, "", None, False, "x", []])
        if rng.random() < 0.8:
            opts["then"] = sub()
        if rng.random() < 0.7:
            opts["else"] = sub() if rng.random() < 0.7 else rng.choice([0, "", None, False, "fallback"])
        return {"@if": opts if valid or rng.random() < 0.7 else rng.choice(["x", None, []])}
    if name == "@case":
        opts = {"operator": rng.choice(["lower", "upper"]) if valid else rng.choice(["Lower", "title", "", 1, None]),
                "value": sub()}
        if rng.random() < 0.1:
            del opts[rng.choice(["operator", "value"])]
        return {"@case": opts}
    if name == "@replace":
        opts = {"pattern": rng.choice(["a", "o", " ", ".", "$", "*", "-", "O", "é", "😀", "[", "\\", "ab"])
                if valid else rng.choice(["", "x" * 11, 1, None]),
                "value": sub()}
        if rng.random() < 0.8:
            opts["replacement"] = rng.choice(["", "_", "$&", "$$", "$'", "$`", "$1", "X"]) if valid else rng.choice(
                [None, 1, "y" * 11])
        if rng.random() < 0.4:
            opts["pattern2"] = rng.choice(["e", "_", "", " "]) if valid else rng.choice([1, None, "z" * 11])
        if rng.random() < 0.4:
            opts["replacement2"] = rng.choice(["", "#", None]) if valid else rng.choice([2, "w" * 11])
        if rng.random() < 0.4:
            opts["ignorecase"] = rng.choice([True, False]) if valid else rng.choice(["true", 1, None])
        if rng.random() < 0.4:
            opts["global"] = rng.choice([True, False]) if valid else rng.choice(["false", 0, None])
        if not valid and rng.random() < 0.2:
            del opts["value"]
        return {"@replace": opts}
    if name == "@arrayPath":
        shape = rng.choice([{"v": {"@path": "$.a"}, "w": {"@path": "$.b"}}, {}, {"x": "lit"}, None, {"y": sub()}])
        first = _path(rng) if rng.random() < 0.8 else sub()
        arr = [first, shape] if rng.random() < 0.8 else [first]
        return {"@arrayPath": arr if valid else rng.choice(["$.a", None, {}, [], [1]])}
    if name == "@json":
        opts = {"mode": rng.choice(["encode", "decode"]) if valid else rng.choice(["Encode", "DECODE", "x", "", 1]),
                "value": sub() if rng.random() < 0.85 else rng.choice(["", 0, None, "{\"a\": [1, 2]}", "[1,", "x"])}
        if not valid and rng.random() < 0.3:
            del opts[rng.choice(["mode", "value"])]
        return {"@json": opts}
    if name == "@flatten":
        opts = {"value": sub(), "separator": rng.choice([".", "_", "-", "::"]) if valid else rng.choice(["", 1, None,
                                                                                                          {"@path": "$.event"}])}
        if rng.random() < 0.5:
            opts["omitArrays"] = rng.choice([True, False]) if valid else rng.choice([1, 0, "yes", "", None])
        if not valid and rng.random() < 0.3:
            del opts[rng.choice(["value", "separator"])]
        return {"@flatten": opts}
    if name == "@merge":
        objects = [rng.choice([{"@path": "$.properties"}, {"@path": "$.traits"}, {"@path": "$.context"},
                               {"a": sub()}, {"@path": "$.event"}, {"@path": "$.properties.tags"}, sub()])
                   for _ in range(rng.randint(1, 3))]
        opts = {"objects": objects if valid else rng.choice([{"a": 1}, "x", None, [1, "a"]]),
                "direction": rng.choice(["left", "right"]) if valid else rng.choice(["Left", "up", "", 1])}
        if not valid and rng.random() < 0.3:
            del opts[rng.choice(["objects", "direction"])]
        return {"@merge": opts}
    if name == "@excludeWhenNull":
        return {"@excludeWhenNull": rng.choice([sub(), None, {"a": None, "b": {"c": None, "d": 1}, "e": [None]},
                                                {"@path": "$.properties"}])}
    if name == "@transform":
        apply = rng.choice([{"p": {"@path": "$.properties"}, "e": {"@path": "$.event"}},
                            {"x": sub()}, {"@path": "$.properties"}, {}])
        mapping = rng.choice([{"out": {"@path": "$.p"}, "ev": {"@path": "$.e"}}, {"v": {"@path": "$.x"}},
                              {"@path": "$.p"}, {"all": {"@path": "$."}}])
        opts = {"apply": apply, "mapping": mapping} if valid else rng.choice(
            [{"apply": "x", "mapping": {}}, {"mapping": {"a": 1}}, {"apply": {"a": 1}}, None, {"apply": [], "mapping": []}])
        return {"@transform": opts}
    if name == "@liquid":
        return {"@liquid": _liquid(rng)}
    if name == "object":
        return {rng.choice(KEYS[:12]): sub() for _ in range(rng.randint(1, 3))}
    if name == "array":
        return [sub() for _ in range(rng.randint(0, 3))]
    # "bad": an unknown directive, directives mixed with keys, two directives, _metadata
    return rng.choice([{"@unknown": "$.a"}, {"@path": "$.event", "other": 1}, {"@path": "$.event", "@template": "x"},
                       {"@path": "$.event", "_metadata": {"label": "x"}}, {"@Path": "$.event"}, {"@": 1},
                       {"@path": "$.event", "@": 2}])


def mapping_cases(rng: random.Random, count: int, pool: int) -> Iterator[dict[str, Any]]:
    for index in range(count):
        tags: set[str] = set()
        mapping = {f"f{i}": _directive(rng, 0, tags) for i in range(rng.randint(1, 3))}
        if rng.random() < 0.03:
            mapping = rng.choice([_directive(rng, 0, tags), [1], "x", None])
            tags.add("top-level")
        if rng.random() < 0.02:
            mapping = {"__segment_internal_directive": {"@merge": {"objects": [{"@path": "$.properties"}],
                                                                     "direction": "right"}}, "x": {"@path": "$.event"}}
            tags.add("root-directive")
        if rng.random() < 0.05:
            tags.add("non-object-event")
        yield {"kind": "mapping", "id": f"m{index}", "tags": sorted(tags), "mapping": mapping,
               "event": rng.randrange(pool)}


# --- triggers --------------------------------------------------------------------------------

FIELDS = ["type", "event", "name", "userId", "properties.plan", "properties.price", "properties.count",
          "properties.name", "properties.tags", "properties.nested.a", "properties.nested.a.b", "traits.email",
          "traits.plan", "context.plan", "context.price", "properties.flag", "properties.empty", "properties.nil",
          "properties.\\$revenue", "properties.a\\.b", "properties.a\\ b", "properties.weird\\[key\\]",
          "properties.constructor", "properties.__proto__", "properties.toString", "properties.tags.length",
          "properties.email.length", "properties.0", "properties.ünï", "unknown.field", "anonymousId", "Type",
          "properties", "traits", "context.constructor.name", "properties.x-y", "properties.x_y"]
VALUES = ['"track"', '"identify"', '"Order Completed"', '"pro"', '"Pro"', '""', '"12"', '"12.50"', "12", "12.5",
          "0", "-3", "+5", "1e3", "true", "false", "null", "'pro'", '"a*b"', '"héllo wörld"', '"null"', '"true"',
          '"a\\"b"', "-", "1.", "01", '"日本"', '"user-1"', "42", ".5", '"constructor"']
OPERATORS = ["=", "!=", "<", "<=", ">", ">="]


def _condition(rng: random.Random, forms: set[str]) -> str:
    roll = rng.random()
    field = rng.choice(FIELDS)
    if "\\" in field:
        forms.add("escape")
    if roll < 0.62:
        op, value = rng.choice(OPERATORS), rng.choice(VALUES)
        if value == "null":
            forms.add("null")
        elif value[0] not in "\"'" and value not in ("true", "false"):
            forms.add("number")
        elif value in ("true", "false"):
            forms.add("boolean")
        else:
            forms.add("string")
        forms.add("op" + op)
        return f"{field} {op} {value}"
    name = rng.choice(["contains", "match"])
    forms.add(name)
    negate = "!" if rng.random() < 0.3 else ""
    if negate:
        forms.add("negated")
    if name == "match":
        text = rng.choice(["Order", "Pro", "", "x", "日"])
        value = rng.choice([f'"{text}*"', f'"*{text}"', f'"{text}"', f'"*{text}*"', "12", f"'{text}*'"])
    else:
        value = rng.choice(VALUES)
    sep = rng.choice([", ", ",", " , "])
    return f"{negate}{name}({field}{sep}{value})"


def _fql(rng: random.Random, forms: set[str]) -> str:
    parts = []
    for index in range(rng.randint(1, 4)):
        if index:
            conj = rng.choices(["and", "or", "AND", "OR", "And", "&&"], [0.45, 0.4, 0.05, 0.05, 0.03, 0.02])[0]
            forms.add("conjunction-" + conj.lower() if conj in ("and", "or") else "conjunction-odd")
            parts.append(conj)
        if rng.random() < 0.25:
            forms.add("parentheses")
            inner = [_condition(rng, forms) for _ in range(rng.randint(1, 3))]
            joiner = rng.choice([" and ", " or "])
            parts.append("(" + joiner.join(inner) + ")")
        else:
            parts.append(_condition(rng, forms))
    text = " ".join(parts)
    roll = rng.random()
    if roll < 0.1:
        forms.add("spacing")
        text = text.replace(" ", rng.choice(["  ", "\t", "\n", " \n "]))
    elif roll < 0.15:
        forms.add("spacing")
        text = text.replace(" = ", "=").replace(" != ", "!=")
    elif roll < 0.3:
        forms.add("malformed")
        chars = list(text)
        for _ in range(rng.randint(1, 2)):
            action = rng.choice(["drop", "insert", "truncate"])
            if action == "drop" and chars:
                del chars[rng.randrange(len(chars))]
            elif action == "insert":
                chars.insert(rng.randint(0, len(chars)), rng.choice(list("()\"'=!<>,.\\ ax1#")))
            elif chars:
                chars = chars[:rng.randrange(len(chars))]
        text = "".join(chars)
    return text


UI_OPERATORS = ["=", "!=", "<", ">", "<=", ">=", "contains", "not_contains", "starts_with", "not_starts_with",
                "ends_with", "not_ends_with", "exists", "not_exists", "is_true", "is_false", "number_equals",
                "number_not_equals"]
UI_NAMES = ["plan", "price", "$revenue", "a.b", "a b", "weird[key]", "nested.a", "ünï", "x-y", "Plan", "tags.length",
            "constructor", "email"]


def _ui_condition(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["event-type", "event", "name", "userId", "event-property", "event-property", "event-trait",
                       "event-context"])
    node: dict[str, Any] = {"type": kind, "operator": rng.choice(UI_OPERATORS)}
    if kind in ("event-property", "event-trait", "event-context"):
        node["name"] = rng.choice(UI_NAMES)
    if node["operator"] not in ("exists", "not_exists", "is_true", "is_false"):
        node["value"] = rng.choice(["track", "identify", "Order Completed", "pro", "Pro", "12", 12, 12.5, 0, -3,
                                    True, "héllo", "", "user-1", "a b"])
    return node


def _ui(rng: random.Random) -> dict[str, Any]:
    children: list[Any] = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.2:
            children.append({"type": "group", "operator": rng.choice(["and", "or"]),
                             "children": [_ui_condition(rng) for _ in range(rng.randint(1, 3))]})
        else:
            children.append(_ui_condition(rng))
    return {"type": "group", "operator": rng.choice(["and", "or"]), "children": children}


def trigger_cases(rng: random.Random, count: int, pool: int, per_trigger: int) -> Iterator[dict[str, Any]]:
    for index in range(count):
        case: dict[str, Any] = {"kind": "trigger", "id": f"t{index}",
                                "events": [rng.randrange(pool) for _ in range(per_trigger)]}
        if rng.random() < 0.3:
            case["ui"] = _ui(rng)
            case["forms"] = ["generated"]
        else:
            forms: set[str] = set()
            case["fql"] = _fql(rng, forms)
            case["forms"] = sorted(forms)
        yield case


def generate(mappings: int = 24_000, triggers: int = 5_000, per_trigger: int = 5, pool: int = 400) -> Iterator[dict[str, Any]]:
    rng = random.Random(SEED)
    # Events travel as JSON text, so both sides parse the same text (JSON.stringify would lose -0).
    yield {"kind": "events", "events": [json.dumps(event) for event in events(rng, pool)]}
    yield from mapping_cases(rng, mappings, pool)
    yield from trigger_cases(rng, triggers, pool, per_trigger)


if __name__ == "__main__":
    import sys
    for item in generate():
        sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
