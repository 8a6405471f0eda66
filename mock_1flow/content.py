"""Build surveys and announcements for a project in one call (``PUT
/__admin/projects/{key}/surveys``, ``MockClient.set_surveys``)::

    from mock_1flow import content

    checkout = content.survey("Order Completed", question="How was checkout?")
    body = content.surveys_document([checkout], content.throttling(global_seconds=3600))

A survey is shown for an event the way both SDKs decide it: their filter script
(``Resources/validator-dev.js`` ``triggerEventFilter``, bundled by the iOS and the Android
SDK) picks a survey whose ``survey_settings.trigger_filters`` has an entry with
``type == "event"`` and ``field ==`` the event's name whose ``property_filters`` pass (an
``AND`` of no filters passes). The shapes are the fixtures' (``fixtures/surveys.json``,
``fixtures/announcements.json``), which decode with both SDKs' models (FIDELITY.md).
Ids are derived from the names, so a built survey is the same in every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

from .server.store import object_id

QuestionKind = Literal["rating", "nps", "text"]
Json = dict[str, Any]
DEFAULT_PLATFORMS: tuple[str, ...] = ("android", "iOS", "web")
DEFAULT_THEME: Json = {  # iOS AnnouncementTheme, Android OFAnnouncementTheme: strings
    "brandColor": "#2D4EFF", "brandOpacity": "100", "backgroundColor": "#FFFFFF",
    "backgroundOpacity": "100", "textColor": "#111111", "textOpacity": "100",
}


def _input(kind: QuestionKind, input_id: str) -> Json:
    if kind == "rating":
        return {"_id": input_id, "input_type": "rating-emojis", "min_val": 1, "max_val": 5, "emoji": True,
                "stars": False, "rating_min_text": "Bad", "rating_max_text": "Great", "choices": []}
    if kind == "nps":
        return {"_id": input_id, "input_type": "nps", "min_val": 0, "max_val": 10,
                "rating_min_text": "Not likely", "rating_max_text": "Very likely", "choices": []}
    if kind == "text":
        return {"_id": input_id, "input_type": "text", "placeholder_text": "Tell us", "min_chars": 0,
                "max_chars": 500, "choices": []}
    raise ValueError(f"question kind must be rating, nps or text, not {kind!r}")


def trigger(event: str, *, delay_seconds: int = 0, filter_id: str | None = None) -> Json:
    """One ``trigger_filters`` entry: show on ``event`` (after ``delay_seconds``), no property filters."""
    timing = {"type": "show_after", "value": delay_seconds} if delay_seconds else {"type": "show_immediately", "value": 0}
    return {"type": "event", "field": event, "_id": filter_id or object_id("trigger", event),
            "timingOption": timing, "property_filters": {"operator": "AND", "filters": []}}


def survey(
    event: str,
    *,
    name: str | None = None,
    question: str = "How was it?",
    kind: QuestionKind = "rating",
    platforms: Sequence[str] = DEFAULT_PLATFORMS,
    delay_seconds: int = 0,
    thank_you: bool = True,
    survey_id: str | None = None,
) -> Json:
    """A live survey shown on ``event``: one ``kind`` question (then a thank-you screen)."""
    name = name or f"{event} survey"
    sid = survey_id or object_id("survey", name, event)
    screens: list[Json] = [{
        "_id": object_id(sid, "screen", "1"), "title": question, "message": "",
        "input": _input(kind, object_id(sid, "input", "1")),
        "buttons": [{"_id": object_id(sid, "button", "1"), "button_type": "primary",
                     "action": "button_action_submit", "title": "Submit"}],
    }]
    if thank_you:
        screens.append({"_id": object_id(sid, "screen", "thanks"), "title": "Thank you", "message": "",
                        "input": {"_id": object_id(sid, "input", "thanks"), "input_type": "thank_you", "choices": []},
                        "buttons": []})
    return {
        "_id": sid, "name": name, "description": question, "live": True, "status": "in-progress",
        "platforms": list(platforms), "trigger_event_name": event, "schema_version": 2, "deleted": False,
        "screens": screens,
        "style": {"display_mode": "light", "font": "arial", "primary_color": "2d4eff", "color_opacity": 100,
                  "corner_radius": 10, "_id": object_id(sid, "style")},
        "survey_settings": {
            "_id": object_id(sid, "settings"), "show_watermark": True, "resurvey_option": True,
            "closed_as_finished": True,
            "trigger_filters": [trigger(event, delay_seconds=delay_seconds, filter_id=object_id(sid, "trigger", event))],
        },
    }


def throttling(*, active: bool = False, global_seconds: int = 0, activated_by: str | None = None,
               activated_at: int = 0) -> Json:
    """``throttlingMobileSDKConfig``: while ``active``, at most one survey per ``global_seconds``."""
    return {"isThrottlingActivated": active, "globalTime": global_seconds, "activatedBySurveyID": activated_by,
            "throttlingActivatedTime": activated_at}


def surveys_document(surveys: Sequence[Json], throttling_config: Json | None = None) -> Json:
    """The body of ``PUT /__admin/projects/{key}/surveys`` (``ProjectSurveys``)."""
    return {"surveys": list(surveys), "throttlingMobileSDKConfig": throttling_config or throttling()}


@dataclass(frozen=True)
class Announcement:
    """An announcement as both SDK calls see it: its entry in ``/v3/announcements``
    (``summary``, in the ``inbox`` or ``inApp`` list) and its inbox ``detail``."""

    summary: Json
    detail: Json
    in_app: bool = field(default=False)


def _channel(active: bool) -> Json:
    return {"is_active": active, "ios": active, "android": active, "web": active}


def announcement(
    title: str,
    *,
    content: str = "",
    event: str | None = None,
    style: str = "banner_top",
    category: str | None = None,
    action: tuple[str, str] | None = None,
    published_at: int = 1_700_000_000_000,
    seen: bool = False,
    announcement_id: str | None = None,
) -> Announcement:
    """An inbox announcement, or an in-app one shown on ``event`` (``in_app.timing.rule.filters``,
    the filter script's ``triggerAnnouncementFilter``). ``action`` is ``(name, link)``."""
    aid = announcement_id or object_id("announcement", title)
    in_app = event is not None
    timing = None
    if event is not None:
        rule = {k: v for k, v in trigger(event).items() if k != "_id"}
        timing = {"condition": "event", "rule": {"filters": [rule]}}
    app = {**_channel(in_app), "style": style if in_app else None, "timing": timing}
    summary = {"_id": aid, "status": "active", "seen": seen, "inbox": _channel(not in_app), "in_app": app,
               "settings": {"audience_rule": {"filters": []}}}
    detail = {"id": aid, "title": title, "publishedAt": published_at, "content": content,
              "category": {"_id": object_id("category", category), "name": category, "color": "#2D4EFF"} if category else None,
              "action": {"name": action[0], "link": action[1]} if action else None}
    return Announcement(summary, detail, in_app)


def announcements_document(announcements: Sequence[Announcement], theme: Json | None = None) -> Json:
    """The body of ``PUT /__admin/projects/{key}/announcements`` (``ProjectAnnouncements``)."""
    return {
        "announcements": {"inbox": [a.summary for a in announcements if not a.in_app],
                          "inApp": [a.summary for a in announcements if a.in_app]},
        "theme": dict(theme or DEFAULT_THEME),
        "details": [a.detail for a in announcements],
    }
