"""A multi-replica train step submitted to the loopback fake Vertex AI: the CreatePipelineJob body carries
GCPC's CustomJob launcher with the worker pools, machine, accelerator, pinned image and Hydra args; the
KFP backend refuses such a step before sending anything."""

import json
from importlib.metadata import version

import pytest

from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.config import load_config
from pipeline_sdk.custom_job import from_payload
from pipeline_sdk.images.lock import ImageLock, LockedImage
from pipeline_sdk.submit import PreflightError, SubmitOptions, VertexOptions, submit_to_kfp, submit_to_vertex

PROJECT = "demo-project"
REGION = "us-central1"
BUCKET = "demo-pipelines"
REGISTRY = "europe-docker.pkg.dev/demo-project/ml"
DIGEST = "sha256:" + "5a" * 32
CREATE_PATH = rf"/v1/projects/{PROJECT}/locations/{REGION}/pipelineJobs"
NASTY = "it's ${oc.env:X}"


@pytest.fixture
def lock_file(tmp_path):
    path = tmp_path / "images.lock.json"
    trainer = LockedImage(
        f"{REGISTRY}/hydra-vertex-trainer", version("hydra-vertex-trainer"), DIGEST, pushed=True
    )
    ImageLock({"hydra-vertex-trainer": trainer}).save(path)
    return path


def test_the_request_body_carries_the_worker_pools(fake_google, adc, tmp_path, lock_file):
    fake_google.buckets[BUCKET] = fake_google.reply(200, {"kind": "storage#bucket", "name": BUCKET})
    cfg = load_config(
        [
            f"gcp.project={PROJECT}",
            f"gcp.region={REGION}",
            f"gcp.pipeline_root=gs://{BUCKET}/runs",
            f"gcp.api_endpoint={fake_google.url}",
            "gcp.service_account=runner@demo-project.iam.gserviceaccount.com",
            f"images.registry={REGISTRY}",
            f"images.lock_file={lock_file}",
            "steps.train.resources.replica_count=2",
            "steps.train.scheduling.strategy=SPOT",
            f"params.experiment={json.dumps(NASTY)}",
        ]
    )
    compiled = compile_pipeline(cfg, tmp_path / "pipeline.yaml")
    notes: list[str] = []
    options = VertexOptions(echo=lambda line: None, note=notes.append, timeout=10, check_images=False)
    submit_to_vertex(cfg, compiled, options)
    # the launcher creates the job as the run's service account, to run as that same account
    assert notes == [
        "note: step train runs as a Vertex AI CustomJob that the run's service account "
        "(runner@demo-project.iam.gserviceaccount.com) creates to run as itself: grant it "
        "roles/iam.serviceAccountUser on itself (docs/vertex.md, IAM)"
    ]

    (create,) = fake_google.sent("POST", CREATE_PATH)
    spec = create.body["pipelineSpec"]
    train = spec["components"]["comp-train"]
    launcher = spec["deploymentSpec"]["executors"][train["executorLabel"]]["container"]
    assert "google_cloud_pipeline_components.container.v1.custom_job.launcher" in launcher["command"]
    parameters = train["inputDefinitions"]["parameters"]
    pools = parameters["worker_pool_specs"]["defaultValue"]
    assert [p["replica_count"] for p in pools] == [1, 1]
    for pool in pools:
        assert pool["machine_spec"] == {
            "machine_type": "g2-standard-8",
            "accelerator_type": "NVIDIA_L4",
            "accelerator_count": 1,
        }
        assert pool["container_spec"]["image_uri"] == f"{REGISTRY}/hydra-vertex-trainer@{DIGEST}"
        assert pool["container_spec"]["command"] == ["trainer"]
        assert "experiment='{{$.inputs.parameters['experiment']}}'" in pool["container_spec"]["args"]
        assert "kfp.output_file={{$.outputs.output_file}}" in pool["container_spec"]["args"]
    assert parameters["strategy"]["defaultValue"] == "SPOT"
    assert parameters["service_account"]["defaultValue"] == "{{$.pipeline_service_account}}"
    # the value reaches the job escaped for the quoted Hydra arg and for the JSON payload, and the job's
    # identity is the pipeline's
    wire = create.body["runtimeConfig"]["parameterValues"]["experiment"]
    assert wire == "it\\\\'s \\\\$\\u007boc.env:X\\u007d"
    assert from_payload(wire) == "it\\'s \\${oc.env:X}"
    assert create.body["serviceAccount"] == "runner@demo-project.iam.gserviceaccount.com"


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("steps.train.resources.replica_count=2", "replica_count=2"),
        ("steps.train.scheduling.strategy=SPOT", "strategy=SPOT"),
        ("steps.train.resources.machine_type=g2-standard-8", "machine_type=g2-standard-8"),
    ],
)
def test_kfp_refuses_custom_job_steps_before_sending(fake_kfp, tmp_path, override, named):
    cfg = load_config(["backend=kfp", f"kfp.host={fake_kfp.url}", "images.registry=example.com/ml", override])
    compiled = compile_pipeline(cfg, tmp_path / "pipeline.yaml")
    with pytest.raises(PreflightError) as raised:
        submit_to_kfp(cfg, compiled, SubmitOptions(echo=lambda line: None, note=lambda line: None))
    message = str(raised.value)
    assert f"steps.train ({named}) runs as a Vertex AI CustomJob" in message
    assert "backend=vertex" in message and "pipeline-sdk run" in message
    assert fake_kfp.requests == []
