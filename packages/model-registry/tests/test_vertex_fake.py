"""The fake's emulation of the service rules the steps rely on (docs/vertex-behaviour.md, "Model Registry and
endpoints"), driven with plain HTTP requests: what the real service refuses, the fake refuses too."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

LOCATION = "/v1/projects/demo-project/locations/us-central1"
MODEL = f"{LOCATION}/models/clf"


@pytest.fixture
def call(fake, rsa_key: tuple[bytes, bytes]) -> Callable[..., requests.Response]:
    """``call(method, path, body=None)`` with a self-signed service-account JWT the fake accepts."""
    from google.auth import crypt, jwt

    now = int(time.time())
    claims = {"iss": "sa@demo-project.iam.gserviceaccount.com", "aud": fake.url, "iat": now, "exp": now + 600}
    token = jwt.encode(crypt.RSASigner.from_string(rsa_key[0].decode()), claims).decode()

    def send(method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(
            method, fake.url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    return send


def _upload(call, aliases: list[str], **body: Any) -> requests.Response:
    model = {"displayName": "clf", "artifactUri": "gs://b/m", "containerSpec": {"imageUri": "img"}}
    return call("POST", f"{LOCATION}/models:upload", {"model": {**model, "versionAliases": aliases}, **body})


def test_an_alias_is_held_by_one_version_and_moves_where_it_is_merged(call, fake) -> None:
    assert _upload(call, ["champion"], modelId="clf").json()["done"] is True
    assert _upload(call, [], parentModel="projects/demo-project/locations/us-central1/models/clf").ok
    assert fake.model("clf").aliases() == {"champion": "1", "default": "1"}  # the first version: default
    moved = call("POST", f"{MODEL}%402:mergeVersionAliases", {"versionAliases": ["champion", "default"]})
    assert sorted(moved.json()["versionAliases"]) == ["champion", "default"]
    assert call("GET", f"{MODEL}@champion").json()["versionId"] == "2"
    assert call("GET", MODEL).json()["versionId"] == "2"  # no suffix: the default version
    assert fake.model("clf").versions["1"]["versionAliases"] == []
    assert _upload(
        call, ["champion"], parentModel="projects/demo-project/locations/us-central1/models/clf"
    ).ok
    assert fake.model("clf").holder("champion") == "3"  # an alias in an upload moves too


def test_the_default_alias_always_has_a_holder_and_a_merge_names_a_version_id(call) -> None:
    _upload(call, [], modelId="clf")
    refused = call("POST", f"{MODEL}%401:mergeVersionAliases", {"versionAliases": ["-default"]})
    assert (refused.status_code, refused.json()["error"]["status"]) == (400, "FAILED_PRECONDITION")
    by_alias = call("POST", f"{MODEL}@default:mergeVersionAliases", {"versionAliases": ["x1"]})
    assert by_alias.status_code == 400
    assert call("GET", f"{MODEL}@nobody").status_code == 404


@pytest.mark.parametrize(
    ("model", "status"),
    [
        ({"versionAliases": ["Champion"]}, 400),  # [a-z][a-zA-Z0-9-]{0,126}[a-z0-9]
        ({"versionAliases": ["c"]}, 400),
        ({"versionAliases": ["champion-"]}, 400),
        ({"labels": {"Team": "x"}}, 400),
        ({"labels": {"team": "X"}}, 400),
        ({"labels": {"team": "x" * 64}}, 400),
        ({"labels": {f"k{i}": "v" for i in range(65)}}, 400),
        ({"artifactUri": "/local/dir"}, 400),
        ({"containerSpec": {}}, 400),
        ({"labels": {"team": "x" * 63, "équipe": "vision"}}, 200),
    ],
)
def test_uploads_follow_the_alias_and_label_rules(call, model: dict, status: int) -> None:
    base = {"displayName": "clf", "artifactUri": "gs://b/m", "containerSpec": {"imageUri": "img"}}
    reply = call("POST", f"{LOCATION}/models:upload", {"modelId": "clf", "model": {**base, **model}})
    assert reply.status_code == status, reply.text


def test_a_model_id_is_created_once_and_a_version_needs_its_parent(call) -> None:
    assert _upload(call, [], modelId="clf").ok
    assert _upload(call, [], modelId="clf").status_code == 409
    assert (
        _upload(call, [], parentModel="projects/demo-project/locations/us-central1/models/nope").status_code
        == 404
    )


def test_a_traffic_split_must_add_up_to_100_with_0_for_the_new_model(call, fake) -> None:
    _upload(call, [], modelId="clf")
    endpoint = fake.add_endpoint("demo-project", "us-central1", "ep")
    path = f"/v1/{endpoint['name']}:deployModel"
    deployed = {
        "model": "projects/demo-project/locations/us-central1/models/clf@1",
        "dedicatedResources": {"machineSpec": {"machineType": "n1-standard-4"}, "minReplicaCount": 1},
    }
    assert call("POST", path, {"deployedModel": deployed, "trafficSplit": {"0": 90}}).status_code == 400
    assert call("POST", path, {"deployedModel": deployed, "trafficSplit": {"99": 100}}).status_code == 400
    assert call("POST", path, {"deployedModel": deployed, "trafficSplit": {"0": 100}}).ok
    (first,) = endpoint["deployedModels"]
    assert endpoint["trafficSplit"] == {first["id"]: 100}
    assert call("POST", path, {"deployedModel": deployed}).ok  # no split: the endpoint's stays as it was
    assert endpoint["trafficSplit"] == {first["id"]: 100}


def test_an_operation_is_polled_where_aiplatform_polls_it(call, fake) -> None:
    fake.lro_polls = 1
    operation = _upload(call, [], modelId="clf").json()
    assert "done" not in operation
    done = call("GET", "/ui/" + operation["name"]).json()  # aiplatform's REST client: /ui/{name}
    assert done["done"] is True and done["response"]["modelVersionId"] == "1"
    assert call("GET", "/v1/" + operation["name"]).json()["done"] is True
