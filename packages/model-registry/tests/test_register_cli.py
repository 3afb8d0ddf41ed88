"""``register-model`` against the Vertex AI fake over real HTTP: registering, guarded promotion, failures."""

from __future__ import annotations

import json
from pathlib import Path

MODEL_ID = "hydra-image-classifier"
IMAGE = "europe-docker.pkg.dev/demo-project/ml/hydra-vertex-serve:0.1.0"
VERSIONS = f"projects/123456789012/locations/us-central1/models/{MODEL_ID}"  # the service's names: a number


def _outputs(out: Path) -> tuple[dict, dict, str]:
    registration = json.loads((out / "registered_model" / "registration.json").read_text())
    return registration, json.loads((out / "metrics.json").read_text()), (out / "report.md").read_text()


def test_the_first_registration_creates_the_model_and_takes_the_alias(
    tmp_path: Path, fake, run_component, trained, gcs
) -> None:
    uri = "gs://pipeline-root/run-1/train/model"
    trained(gcs(uri).relative_to(tmp_path), val_accuracy=0.8)
    parameters = {
        "project": "demo-project",
        "api_endpoint": fake.url,
        "serving_image": IMAGE,
        "version_aliases": '["candidate"]',
        "labels": '{"team": "vision"}',
    }
    run = run_component("register_model", {"model": uri}, parameters, fake=fake)
    assert run.result.returncode == 0, run.result.stderr
    assert run.result.stdout.startswith(f"register-model: registered {VERSIONS}@1; promoted to champion")
    assert len(run.result.stdout.splitlines()) == 1 and run.result.stderr == ""

    (upload,) = fake.uploads()
    assert upload.body["modelId"] == MODEL_ID and "parentModel" not in upload.body
    model = upload.body["model"]
    assert model["artifactUri"] == uri
    assert model["containerSpec"] == {
        "imageUri": IMAGE,
        "predictRoute": "/predict",
        "healthRoute": "/health",
        "ports": [{"containerPort": 8080}],
    }
    assert model["versionAliases"] == ["candidate"]  # not "default": that moves with the promotion
    labels = model["labels"]
    assert labels["team"] == "vision" and labels["metric-val_accuracy"] == "0_8"
    assert labels["metric-test_accuracy"] == "0_8115234375"
    assert labels["pkg-torch"] == "2_14_1" and labels["pkg-hydra-vertex-trainer"] == "0_1_0"
    assert labels["dataset"] == "fashion_mnist"
    (merge,) = fake.merges()
    assert merge.path.endswith(f"/models/{MODEL_ID}%401:mergeVersionAliases")
    assert merge.body == {"versionAliases": ["champion", "default"]}
    assert fake.model(MODEL_ID).aliases() == {"candidate": "1", "champion": "1", "default": "1"}

    registration = json.loads((run.output("registered_model") / "registration.json").read_text())
    assert registration["version_name"] == f"{VERSIONS}@1" and registration["promoted"] is True
    assert registration["aliases"] == ["candidate", "champion", "default"]
    assert registration["champion"] is None and registration["candidate"] == 0.8
    metrics = json.loads(run.output("metrics").read_text())
    assert metrics == {"registered": 1.0, "promoted": 1.0, "candidate_val_accuracy": 0.8, "version": 1.0,
                       "promote_margin": 0.0}  # fmt: skip
    written = run.executor_output()["artifacts"]
    assert written["metrics"]["artifacts"][0]["metadata"] == metrics
    assert written["registered_model"]["artifacts"][0]["metadata"]["resourceName"] == f"{VERSIONS}@1"
    assert "**Promoted**: `champion` moved from no version to version 1." in run.output("report").read_text()


def test_a_better_version_takes_the_alias_and_one_within_the_margin_does_not(
    tmp_path: Path, fake, cli, gcp, trained
) -> None:
    first = fake.add_version(
        "demo-project", "us-central1", MODEL_ID, aliases=("default", "champion"), artifactUri="gs://b/m1",
        labels={"metric-val_accuracy": "0_8", "artifact-uri-sha256": _digest("gs://b/m1")},
    )  # fmt: skip
    assert first["versionId"] == "1"
    common = [*gcp(fake), f"registry.serving_image={IMAGE}", "promotion.margin=0.01"]

    better = trained("better", val_accuracy=0.85)
    out = tmp_path / "out2"
    result = cli.run("register-model", f"model.path={better}", "model.uri=gs://b/m2", f"paths.output_dir={out}",
                     *common, fake=fake)  # fmt: skip
    assert result.returncode == 0, result.stderr
    upload = fake.uploads()[-1].body
    assert upload["parentModel"] == VERSIONS and "modelId" not in upload  # as the service named it
    assert "versionAliases" not in upload["model"]
    assert fake.merges()[-1].body == {"versionAliases": ["champion", "default"]}
    assert fake.model(MODEL_ID).holder("champion") == "2"
    assert "champion" not in fake.model(MODEL_ID).versions["1"]["versionAliases"]
    registration, metrics, report = _outputs(out)
    assert (registration["promoted"], registration["champion_version"]) == (True, "1")
    assert metrics["champion_val_accuracy"] == 0.8 and metrics["candidate_val_accuracy"] == 0.85
    assert "| 2 | new | 0.85 |" in report and "| 1 | champion before | 0.8 |" in report
    assert "val_accuracy 0.85 > 0.8 + margin 0.01" in report

    within = trained("within", val_accuracy=0.855)  # better, but by less than the margin
    out = tmp_path / "out3"
    result = cli.run("register-model", f"model.path={within}", "model.uri=gs://b/m3", f"paths.output_dir={out}",
                     *common, fake=fake)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "not promoted to champion: val_accuracy 0.855 <= 0.85 + margin 0.01" in result.stdout
    assert len(fake.merges()) == 1 and len(fake.uploads()) == 2
    assert fake.model(MODEL_ID).aliases() == {"champion": "2", "default": "2"}
    registration, metrics, report = _outputs(out)
    assert (registration["promoted"], registration["version_id"], registration["aliases"]) == (False, "3", [])
    assert metrics == {"registered": 1.0, "promoted": 0.0, "candidate_val_accuracy": 0.855, "version": 3.0,
                       "champion_val_accuracy": 0.85, "promote_margin": 0.01}  # fmt: skip
    assert "**Not promoted**: `champion` stays on version 2." in report


def _digest(uri: str) -> str:
    import hashlib

    return hashlib.sha256(uri.encode()).hexdigest()[:32]


def test_without_a_project_it_skips_with_one_line_and_says_so(
    tmp_path: Path, cli, trained, run_component
) -> None:
    model = trained("model")
    run = run_component("register_model", {"model": str(model)}, {})
    assert run.result.returncode == 0, run.result.stderr
    assert (
        run.result.stdout
        == "register-model: skipped: gcp.project is not set, so the model was not registered\n"
    )
    registration = json.loads((run.output("registered_model") / "registration.json").read_text())
    assert registration["skipped"] is True and registration["candidate"] == 0.81201171875
    assert json.loads(run.output("metrics").read_text())["registered"] == 0.0
    assert "Skipped: gcp.project is not set" in run.output("report").read_text()
    assert run.executor_output()["artifacts"]["metrics"]["artifacts"][0]["metadata"]["registered"] == 0.0


ROWS = {
    "aliases_not_json": (
        ["registry.version_aliases='[candidate'"],
        "registry.version_aliases is not valid JSON",
    ),
    "aliases_not_a_list": (["registry.version_aliases='{\"a\": 1}'"], "must be a JSON list"),
    "alias_format": (["registry.version_aliases='[\"Candidate\"]'"], "is not a version alias"),
    "alias_one_char": (["registry.version_aliases='[\"c\"]'"], "is not a version alias"),
    "alias_default": (["registry.version_aliases='[\"default\"]'"], "'default' is the registry's own alias"),
    "alias_guarded": (["registry.version_aliases='[\"champion\"]'"], "the guarded alias"),
    "alias_twice": (['registry.version_aliases=\'["a1", "a1"]\''], "lists an alias twice"),
    "promote_alias": (["promotion.alias='Champion!'"], "promotion.alias: 'Champion!' is not a version alias"),
    "promote_default": (["promotion.alias=default"], "'default' is the registry's own alias"),
    "labels_not_json": (["registry.labels='{team'"], "registry.labels is not valid JSON"),
    "labels_not_an_object": (["registry.labels='[1]'"], "must be a JSON object"),
    "label_key": (['registry.labels=\'{"Team": "x"}\''], "label key 'Team'"),
    "label_value": (['registry.labels=\'{"team": "Vision"}\''], "label team='Vision'"),
    "label_too_long": (['registry.labels=\'{"team": "' + "x" * 64 + "\"}'"], "up to 63"),
    "label_reserved": (['registry.labels=\'{"metric-val_accuracy": "1"}\''], "is written by register-model"),
    "too_many_labels": (
        ["registry.labels='{" + ", ".join(f'"k{i}": "v"' for i in range(65)) + "}'"],
        "65 labels; a model version holds at most 64",
    ),
    "test_metric": (["promotion.metric=test_accuracy"], "is a test-set metric"),
    "metric_not_a_label": (["promotion.metric=Val/Acc"], "cannot be stored in a label key"),
    "negative_margin": (["promotion.margin=-0.1"], "promotion margin -0.1 is negative"),
    "goal": (["promotion.goal=up"], "promotion goal 'up'"),
    "model_name": (["registry.model_name=1model"], "is not a Vertex AI model ID"),
    "no_model_path": (["model.path=null"], "model.path is not set"),
    "not_gs": (
        ["model.uri=/data/model"],
        "the model is at a local path (/data/model) and Vertex AI reads model files from Cloud Storage only: "
        "set gcp.pipeline_root",
    ),
    "empty_gs": (["model.uri=gs://"], "model.uri 'gs://' is not a gs:// URI"),
    "staging_not_gs": (
        ["gcp.staging_uri=/tmp/root"],
        "gcp.staging_uri '/tmp/root' is not a Cloud Storage place",
    ),
    "staging_bucket": (["gcp.staging_uri=gs://B_/root"], "is not a Cloud Storage place gs://BUCKET/PREFIX"),
    "no_image": (["registry.serving_image=''"], "registry.serving_image is empty"),
    "route": (["registry.predict_route=predict"], "is not an HTTP path"),
    "port": (["registry.port=0"], "registry.port is 0"),
    "location": (["gcp.location=US"], "gcp.location 'US' is not a region"),
    "http_endpoint": (
        ["gcp.api_endpoint=http://vertex.example.com"],
        "plain http:// is only for a test server",
    ),
    "both_outputs": (["outputs.report.path=/tmp/r.md"], "give either paths.output_dir"),
}
MODEL_ROWS = {
    "no_directory": (None, "is not a directory"),
    "no_metrics": ({"files": ("model.pt",)}, "metrics.json is missing"),
    "no_weights": ({"files": ("metrics.json",)}, "model.pt is missing"),
    "no_metric": ({"val_accuracy": None}, "has no numeric val_accuracy (absent)"),
    "nan_metric": ({"val_accuracy": float("nan")}, "is not valid JSON: NaN is not a number JSON allows"),
}
BASE = ["gcp.project=demo-project", "gcp.api_endpoint=http://127.0.0.1:9", "model.uri=gs://b/m",
        f"registry.serving_image={IMAGE}"]  # fmt: skip


def test_every_bad_input_is_one_line_before_any_request(tmp_path: Path, trained, in_process, listing) -> None:
    good = trained("good")
    cases = {name: ([f"model.path={good}", *args], expected) for name, (args, expected) in ROWS.items()}
    for name, (metrics, expected) in MODEL_ROWS.items():
        model = trained(f"model-{name}", **metrics) if metrics is not None else tmp_path / "nowhere"
        cases[name] = ([f"model.path={model}"], expected)
    for name, (args, expected) in cases.items():
        out = tmp_path / "out" / name
        code, _, line = in_process("register-model", [*BASE, f"paths.output_dir={out}", *args])
        assert code == 1 and line.startswith("register-model: error: "), (name, line)
        assert expected in line, (name, line)
        assert listing(out) == [], name


def test_bad_inputs_fail_the_same_as_a_program(tmp_path: Path, cli, trained, error_line, listing) -> None:
    good, bare = trained("good"), trained("bare", files=("model.pt",))
    cases = {
        "aliases_not_json": (
            [f"model.path={good}", *ROWS["aliases_not_json"][0]],
            ROWS["aliases_not_json"][1],
        ),
        "no_metrics": ([f"model.path={bare}"], MODEL_ROWS["no_metrics"][1]),
        "executor_input": ([f"model.path={good}", "kfp.executor_input='[1]'"], "is not a JSON object"),
    }
    runs = {
        name: cli.start("register-model", *BASE, f"paths.output_dir={tmp_path / name}", *args)
        for name, (args, _) in cases.items()
    }
    for name, (_, expected) in cases.items():
        assert expected in error_line(cli.wait(runs[name]), "register-model"), name
        assert listing(tmp_path / name) == [], name


def test_without_a_guarded_alias_every_version_becomes_the_default(
    tmp_path: Path, fake, cli, gcp, trained
) -> None:
    fake.add_version("demo-project", "us-central1", MODEL_ID, aliases=("default",), artifactUri="gs://b/m1")
    model = trained("model", val_accuracy=0.1)  # worse, and nothing compares it
    out = tmp_path / "out"
    result = cli.run("register-model", *gcp(fake), f"model.path={model}", "model.uri=gs://b/m2",
                     f"registry.serving_image={IMAGE}", "promotion.alias=''", "registry.version_aliases=[nightly]",
                     f"paths.output_dir={out}", fake=fake)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"register-model: registered {VERSIONS}@2\n"
    assert fake.uploads()[-1].body["model"]["versionAliases"] == ["nightly", "default"]  # aiplatform adds it
    assert fake.merges() == []
    assert fake.model(MODEL_ID).aliases() == {"default": "2", "nightly": "2"}
    registration, metrics, report = _outputs(out)
    assert (registration["promoted"], registration["promote_alias"]) == (False, "")
    assert metrics == {"registered": 1.0, "promoted": 0.0, "version": 2.0}
    assert "No guarded alias" in report
