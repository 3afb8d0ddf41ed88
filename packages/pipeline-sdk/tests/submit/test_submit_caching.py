"""Each step's caching reaches the service as compiled: submit sends no run-level switch, which aiplatform
would write over every task and kfp.Client over the root DAG's tasks (docs/vertex-behaviour.md, caching).
The fakes keep each task's setting as sent; ``cached_tasks`` reads it the way the services do."""

import json

import pytest

from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.submit import SubmitOptions, VertexOptions, submit_to_kfp, submit_to_vertex
from pipeline_sdk.sweep import load_with_sweep

PROJECT = "demo-project"
REGION = "us-central1"
BUCKET = "demo-pipelines"
CREATE_PATH = rf"/v1/projects/{PROJECT}/locations/{REGION}/pipelineJobs"
SWEEP = ["-m", "params.learning_rate=0.002,0.004"]

CASES = [
    # (overrides, the tasks the service caches)
    (
        ["+steps.train.caching=false"],
        {"root/data-prepare": True, "root/train": False},
    ),
    (
        ["caching=false", "+steps.data-prepare.caching=true"],
        {"root/data-prepare": True, "root/train": False},
    ),
    (
        ["caching=false"],
        {"root/data-prepare": False, "root/train": False},
    ),
    (
        [*SWEEP, "+steps.train.caching=false"],
        {"root/data-prepare": True, "comp-for-loop-2/train": False, "root/select-best": True},
    ),
    (
        [*SWEEP, "caching=false", "+sweep.steps.select-best.caching=true"],
        {"root/data-prepare": False, "comp-for-loop-2/train": False, "root/select-best": True},
    ),
]


def compiled(tmp_path, overrides):
    multirun = "-m" in overrides
    cfg, sweep = load_with_sweep([o for o in overrides if o != "-m"], None, multirun=multirun)
    return cfg, compile_pipeline(cfg, tmp_path / "pipeline.yaml", sweep)


def quiet(**kw):
    return dict(echo=lambda line: None, note=lambda line: None, timeout=10, check_images=False, **kw)


@pytest.mark.parametrize(("overrides", "cached"), CASES)
def test_vertex_runs_each_step_with_its_own_caching(
    fake_google, adc, tmp_path, cached_tasks, overrides, cached
):
    fake_google.buckets[BUCKET] = fake_google.reply(200, {"kind": "storage#bucket", "name": BUCKET})
    gcp = [
        f"gcp.project={PROJECT}",
        f"gcp.region={REGION}",
        f"gcp.pipeline_root=gs://{BUCKET}/runs",
        f"gcp.api_endpoint={fake_google.url}",
        "images.registry=europe-docker.pkg.dev/demo-project/ml",
    ]
    cfg, pipeline = compiled(tmp_path, [*gcp, *overrides])
    assert cached_tasks(pipeline.spec) == cached  # what compile wrote
    submit_to_vertex(cfg, pipeline, VertexOptions(**quiet()))
    (create,) = fake_google.sent("POST", CREATE_PATH)
    assert cached_tasks(create.body["pipelineSpec"]) == cached
    # the dry run shows the same request
    printed: list[str] = []
    submit_to_vertex(cfg, pipeline, VertexOptions(**{**quiet(), "echo": printed.append, "dry_run": True}))
    assert cached_tasks(json.loads(printed[0])["body"]["pipelineSpec"]) == cached


@pytest.mark.parametrize(("overrides", "cached"), CASES)
def test_kfp_runs_each_step_with_its_own_caching(fake_kfp, tmp_path, cached_tasks, overrides, cached):
    backend = ["backend=kfp", f"kfp.host={fake_kfp.url}", "images.registry=example.com/ml"]
    cfg, pipeline = compiled(tmp_path, [*backend, *overrides])
    submit_to_kfp(cfg, pipeline, SubmitOptions(**quiet()))
    (create,) = fake_kfp.sent("POST", "/apis/v2beta1/runs")
    assert cached_tasks(create.body["pipeline_spec"]) == cached
    printed: list[str] = []
    submit_to_kfp(cfg, pipeline, SubmitOptions(**{**quiet(), "echo": printed.append, "dry_run": True}))
    plan = json.loads(printed[0])
    assert cached_tasks(plan["run"]["pipeline_spec"]) == cached
    assert "enable_caching" not in plan["run"]  # no run-level switch that would override the tasks'


def test_a_run_level_switch_is_what_would_lose_the_steps_setting(cached_tasks, tmp_path):
    """The emulation tells the forms apart: the request aiplatform builds with a bool (the old form)
    caches the step that was compiled uncached; the one submit builds does not."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform

    from pipeline_sdk.submit.vertex.request import VertexSettings, build_request

    _, pipeline = compiled(tmp_path, ["+steps.train.caching=false"])
    request = build_request(pipeline.path, VertexSettings(PROJECT, REGION, f"gs://{BUCKET}/r", "p"))
    assert cached_tasks(request.body["pipelineSpec"])["root/train"] is False
    old = aiplatform.PipelineJob(
        display_name="p",
        template_path=str(pipeline.path),
        pipeline_root=f"gs://{BUCKET}/r",
        enable_caching=True,
        project=PROJECT,
        location=REGION,
        credentials=AnonymousCredentials(),
    )
    assert cached_tasks(old.to_dict()["pipelineSpec"])["root/train"] is True
