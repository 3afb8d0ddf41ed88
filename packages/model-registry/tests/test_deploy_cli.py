"""``deploy-model`` against the Vertex AI fake over real HTTP: the endpoint, the deployment, the traffic."""

from __future__ import annotations

import json
from pathlib import Path

MODEL_ID = "hydra-image-classifier"
NUMBERED = "projects/123456789012/locations/us-central1"  # names as the service returns them
SPEC = {"machineSpec": {"machineType": "n1-standard-4"}, "minReplicaCount": 1, "maxReplicaCount": 1}


def _version(fake, uri: str) -> dict:
    return fake.add_version("demo-project", "us-central1", MODEL_ID, artifactUri=uri)


def test_the_first_deploy_creates_the_endpoint_and_gives_the_version_all_traffic(
    tmp_path: Path, fake, run_component, registration
) -> None:
    version = _version(fake, "gs://b/m1")
    registered = registration(tmp_path / "registered", version)
    parameters = {
        "project": "demo-project",
        "api_endpoint": fake.url,
        "endpoint_name": "fashion",
        "machine_type": "g2-standard-8",
        "accelerator_type": "NVIDIA_L4",
        "accelerator_count": 1,
        "max_replicas": 3,
        "traffic_percentage": 30,  # nothing else serves yet: it takes all
    }
    run = run_component("deploy_model", {"registered_model": str(registered)}, parameters, fake=fake)
    assert run.result.returncode == 0, run.result.stderr
    assert len(run.result.stdout.splitlines()) == 1 and run.result.stderr == ""

    (listed,) = fake.sent("GET", r"/v1/projects/demo-project/locations/us-central1/endpoints")
    assert listed.query["filter"] == ['display_name="fashion"']
    assert [r.body for r in fake.endpoint_creates()] == [{"displayName": "fashion"}]
    (deploy,) = fake.deploys()
    assert deploy.body["trafficSplit"] == {"0": 100}
    deployed = deploy.body["deployedModel"]
    assert deployed["model"] == f"{NUMBERED}/models/{MODEL_ID}@1"
    assert deployed["displayName"] == f"{MODEL_ID}-v1"
    resources = deployed["dedicatedResources"]
    assert (resources["minReplicaCount"], resources["maxReplicaCount"]) == (1, 3)
    spec = resources["machineSpec"]
    # the REST client sends enums as numbers ($alt=json;enum-encoding=int): NVIDIA_L4 = 11 in
    # google/cloud/aiplatform_v1/types/accelerator_type.py
    assert (spec["machineType"], spec["acceleratorType"], spec["acceleratorCount"]) == (
        "g2-standard-8",
        11,
        1,
    )

    endpoint = fake.endpoint_named("fashion")
    (new,) = endpoint["deployedModels"]
    assert endpoint["trafficSplit"] == {new["id"]: 100}
    record = json.loads((run.output("endpoint") / "endpoint.json").read_text())
    assert record["endpoint"] == endpoint["name"] and record["created_endpoint"] is True
    assert record["deployed_model_id"] == new["id"] and record["traffic_split"] == {new["id"]: 100}
    assert record["model_version"] == f"{NUMBERED}/models/{MODEL_ID}@1"
    metadata = run.executor_output()["artifacts"]["endpoint"]["artifacts"][0]["metadata"]
    assert metadata == {"skipped": False, "resourceName": endpoint["name"]}
    assert "(the endpoint had no traffic to share, so it takes all)" in run.output("report").read_text()


def test_a_new_version_shares_the_traffic_and_a_retry_deploys_nothing(
    tmp_path: Path, fake, cli, gcp, registration
) -> None:
    old = _version(fake, "gs://b/m1")
    endpoint = fake.add_endpoint(
        "demo-project", "us-central1", "fashion",
        deployed=(
            {"id": "11", "model": old["name"], "modelVersionId": "1", "dedicatedResources": SPEC},
            {"id": "12", "model": old["name"], "modelVersionId": "1", "dedicatedResources": SPEC},
        ),
        traffic={"11": 70, "12": 30},
    )  # fmt: skip
    # a version that lost the guarded promotion, deployed all the same (a canary of a challenger)
    registered = registration(tmp_path / "registered", _version(fake, "gs://b/m2"), promoted=False)
    args = [*gcp(fake), f"registered_model.path={registered}", "endpoint.name=fashion",
            "endpoint.traffic_percentage=20", "endpoint.min_replicas=2", "endpoint.max_replicas=4",
            "endpoint.require_promotion=false"]  # fmt: skip
    result = cli.run("deploy-model", *args, f"paths.output_dir={tmp_path / 'out'}", fake=fake)
    assert result.returncode == 0, result.stderr
    assert fake.endpoint_creates() == []
    (deploy,) = fake.deploys()
    assert deploy.body["trafficSplit"] == {"11": 56, "12": 24, "0": 20}
    assert deploy.body["deployedModel"]["dedicatedResources"] == {
        "machineSpec": {"machineType": "n1-standard-4"}, "minReplicaCount": 2, "maxReplicaCount": 4,
    }  # fmt: skip
    new = endpoint["deployedModels"][-1]["id"]
    assert endpoint["trafficSplit"] == {"11": 56, "12": 24, new: 20}
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| `11` | 70 % | 56 % |" in report and f"| `{new}` (new) | 0 % | 20 % |" in report

    retried = cli.run("deploy-model", *args, f"paths.output_dir={tmp_path / 'retry'}", fake=fake)
    assert retried.returncode == 0, retried.stderr
    assert "already deployed on" in retried.stdout
    assert len(fake.deploys()) == 1 and len(endpoint["deployedModels"]) == 3
    record = json.loads((tmp_path / "retry" / "endpoint" / "endpoint.json").read_text())
    assert (record["already_deployed"], record["deployed_model_id"]) == (True, new)


def test_nothing_is_deployed_without_a_project_a_registration_or_a_promotion(
    tmp_path: Path, fake, in_process, registration, gcp
) -> None:
    lost = registration(tmp_path / "lost", _version(fake, "gs://b/m1"), promoted=False)
    skipped = tmp_path / "skipped"
    skipped.mkdir()
    (skipped / "registration.json").write_text(
        json.dumps({"skipped": True, "reason": "gcp.project is not set"})
    )
    cases = {
        "no_project": (
            [f"registered_model.path={lost}"],
            "gcp.project is not set, so the model was not deployed",
        ),
        "skipped": (
            [*gcp(fake), f"registered_model.path={skipped}"],
            "the registration was skipped (gcp.project",
        ),
        "lost": (
            [*gcp(fake), f"registered_model.path={lost}"],
            "version 1 was not promoted to champion (val_acc",
        ),
    }
    for name, (args, expected) in cases.items():
        code, out, err = in_process("deploy-model", [*args, f"paths.output_dir={tmp_path / 'out' / name}"])
        assert (code, err) == (0, ""), name
        assert out.startswith(f"deploy-model: skipped: {expected}") and len(out.splitlines()) == 1, out
        record = json.loads((tmp_path / "out" / name / "endpoint" / "endpoint.json").read_text())
        assert record["skipped"] is True and expected in record["reason"]
        assert (tmp_path / "out" / name / "report.md").read_text().startswith("# deploy-model: skipped")
    assert fake.requests == []


ROWS = {
    "traffic_above_100": (["endpoint.traffic_percentage=101"], "endpoint.traffic_percentage is 101"),
    "traffic_negative": (["endpoint.traffic_percentage=-1"], "endpoint.traffic_percentage is -1"),
    "no_replicas": (["endpoint.min_replicas=0"], "endpoint.min_replicas is 0"),
    "max_below_min": (
        ["endpoint.min_replicas=3", "endpoint.max_replicas=2"],
        "is below endpoint.min_replicas 3",
    ),
    "type_without_count": (["endpoint.accelerator_type=NVIDIA_L4"], "go together"),
    "count_without_type": (["endpoint.accelerator_count=1"], "go together"),
    "accelerator_name": (
        ["endpoint.accelerator_type=nvidia-l4", "endpoint.accelerator_count=1"],
        "AcceleratorType",
    ),
    "machine_type": (["endpoint.machine_type=N1_STANDARD"], "is not a machine type"),
    "endpoint_quote": (["endpoint.name='a\"b'"], "an endpoint display name"),
    "endpoint_empty": (["endpoint.name=''"], "an endpoint display name"),
    "replicas_text": (["endpoint.max_replicas=two"], "must be a whole number"),
    "http_endpoint": (["gcp.api_endpoint=http://vertex.example.com"], "plain http://"),
}


def test_every_bad_input_is_one_line_before_any_request(
    tmp_path: Path, in_process, registration, listing
) -> None:
    version = {"name": f"{NUMBERED}/models/{MODEL_ID}", "versionId": "1", "versionAliases": ["default"]}
    good = registration(tmp_path / "good", version)
    broken, partial, mismatched = tmp_path / "broken", tmp_path / "partial", tmp_path / "mismatched"
    for directory, text in (
        (broken, "{not json"),
        (partial, json.dumps({"skipped": False, "model": "m"})),
        (mismatched, (good / "registration.json").read_text().replace("@1", "@2")),
    ):
        directory.mkdir()
        (directory / "registration.json").write_text(text)
    cases = {
        name: ([f"registered_model.path={good}", *args], expected) for name, (args, expected) in ROWS.items()
    }
    cases.update(
        missing=([f"registered_model.path={tmp_path / 'nowhere'}"], "registration.json is missing"),
        broken=([f"registered_model.path={broken}"], "registration.json is not valid JSON"),
        partial=(
            [f"registered_model.path={partial}"],
            "has no model_id (str): not written by register-model",
        ),
        mismatched=([f"registered_model.path={mismatched}"], "is not model@version_id"),
        no_path=(["registered_model.path=null"], "registered_model.path is not set"),
    )
    base = ["gcp.project=demo-project", "gcp.api_endpoint=http://127.0.0.1:9"]
    for name, (args, expected) in cases.items():
        out = tmp_path / "out" / name
        code, _, line = in_process("deploy-model", [*base, f"paths.output_dir={out}", *args])
        assert code == 1 and line.startswith("deploy-model: error: "), (name, line)
        assert expected in line, (name, line)
        assert listing(out) == [], name
