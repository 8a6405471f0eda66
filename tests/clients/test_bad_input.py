"""What no real client sends is still refused, with the same 400 shape and pointer."""

from __future__ import annotations

import copy

import pytest

from mock_1flow.contracts.corpus import all_corpora

from .conftest import send

ANDROID = next(c for c in all_corpora() if c.client == "1flow-android-sdk")
IOS = next(c for c in all_corpora() if c.client == "1flow-ios-sdk")


@pytest.mark.parametrize("width, pointer", [("wide", "/context/screen/width"), ("-1", "/context/screen/width"),
                                            (-3, "/context/screen/width"), (True, "/context/screen/width")])
def test_screen_sizes_are_numbers_or_digit_strings_only(client, width, pointer):
    request = ANDROID.request("android-add-user")
    body = copy.deepcopy(request.body)
    body["context"]["screen"]["width"] = width
    reply = send(client, request, body=body)
    assert reply.status_code == 400
    error = reply.get_json()
    assert (error["error"], error["location"], error["pointer"]) == ("invalid_request", "body", pointer)


@pytest.mark.parametrize("token", [None, 42, ["t"]])
def test_a_push_token_must_still_be_a_string(client, token):
    request = IOS.request("ios-push-token")
    reply = send(client, request, body={"token": token})
    assert reply.status_code == 400 and reply.get_json()["pointer"] == "/token"


def test_malformed_json_is_still_refused(client):
    request = IOS.request("ios-track")
    reply = client.post(request.path, data=b'{\n  "events" : [', headers=request.headers, base_url=f"https://{request.host}")
    assert reply.status_code == 400 and reply.get_json()["error"] == "malformed_json"


def test_an_event_time_is_still_an_integer(client):
    request = ANDROID.request("android-track")
    body = copy.deepcopy(request.body)
    body["events"][0]["time"] = "1764000000"
    reply = send(client, request, body=body)
    assert reply.status_code == 400 and reply.get_json()["pointer"] == "/events/0/time"
