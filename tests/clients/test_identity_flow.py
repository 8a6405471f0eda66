"""The identity flow of the real SDKs (A10): after logUser, the next launch registers with the
app user id as the device id and must get the identified user back."""

from __future__ import annotations

import pytest

from mock_1flow.contracts.corpus import all_corpora

from .conftest import send

BY_ID = {r.id: r for c in all_corpora() for r in c.requests}


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_relaunch_after_login_gets_the_identified_user(client, platform):
    first = send(client, BY_ID[f"{platform}-add-user"]).get_json()["result"]
    identify = BY_ID[f"{platform}-identify"]
    body = {**identify.body, "anonymous_user_id": first["analytic_user_id"]}
    identified = send(client, identify, body=body).get_json()["result"]
    assert identified["analytic_user_id"] != first["analytic_user_id"]

    relaunch = BY_ID[f"{platform}-add-user-after-login"]
    assert relaunch.body["user_id"] == identify.body["user_id"]  # what the SDK now sends
    again = send(client, relaunch).get_json()["result"]
    assert again["analytic_user_id"] == identified["analytic_user_id"]
    assert again["system_id"] == identify.body["user_id"]  # iOS: systemID = userId
    users = client.get("/__admin/projects/oneflow_prod_acme/users").get_json()["users"]
    assert len(users) == 1 and users[0]["identified"] and users[0]["user_id"] == "user-42"
    assert set(users[0]["device_ids"]) == {first_device(platform), "user-42"}

    track = BY_ID[f"{platform}-track"]
    reply = send(client, track, body={**track.body, "user_id": again["analytic_user_id"]})
    assert reply.status_code == 200


def first_device(platform: str) -> str:
    return BY_ID[f"{platform}-add-user"].body["user_id"]


def test_an_unknown_app_user_id_as_device_is_a_new_anonymous_user(client):
    reply = send(client, BY_ID["android-add-user-after-login"]).get_json()["result"]
    users = client.get("/__admin/projects/oneflow_prod_acme/users").get_json()["users"]
    assert [u["analytic_user_id"] for u in users] == [reply["analytic_user_id"]] and not users[0]["identified"]


def test_user_results_have_the_fields_the_sdk_models_have(client):
    result = send(client, BY_ID["ios-add-user"]).get_json()["result"]
    assert {"analytic_user_id", "system_id", "first_name", "last_name", "devices", "locations", "created_on", "updated_on"} <= set(result)
    assert set(result["devices"][0]) >= {"_id", "os", "unique_id", "device_id", "common_id"}
    assert result["devices"][0]["os"] == "iOS" and result["devices"][0]["unique_id"] == BY_ID["ios-add-user"].body["user_id"]
