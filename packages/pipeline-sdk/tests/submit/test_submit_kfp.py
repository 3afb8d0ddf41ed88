"""submit_to_kfp against the loopback fake KFP API (v2beta1) through the real kfp.Client."""

import json
import socket

import pytest

from pipeline_sdk.config import load_config
from pipeline_sdk.submit import (
    BackendApiError,
    DeadlineExceeded,
    PreflightError,
    RunFailed,
    SubmitOptions,
    submit_to_kfp,
)


def config(host, *extra):
    return load_config(["backend=kfp", f"kfp.host={host}", *extra])


class Output:
    def __init__(self):
        self.out, self.err = [], []

    def options(self, **kw):
        return SubmitOptions(
            **{
                "echo": self.out.append,
                "note": self.err.append,
                "poll_interval": 0.01,
                "timeout": 5,
                "check_images": False,
                **kw,
            }
        )


def test_creates_a_run_of_the_compiled_package_in_the_experiment(
    fake_kfp, compiled_test_pipeline, cached_tasks
):
    out = Output()
    submit_to_kfp(config(fake_kfp.url), compiled_test_pipeline, out.options(job_id="nightly-1"))

    (create,) = fake_kfp.sent("POST", "/apis/v2beta1/runs")
    run = create.body
    assert run["display_name"] == "nightly-1"
    assert run["experiment_id"] == "exp-default"
    assert run["runtime_config"]["parameters"] == compiled_test_pipeline.parameter_values
    spec = run["pipeline_spec"]
    assert spec["pipelineInfo"]["name"] == "hydra-fashion-mnist-training"
    train = spec["deploymentSpec"]["executors"]["exec-train"]["container"]
    assert train["resources"]["accelerator"]["resourceType"] == "NVIDIA_L4"
    # each task's caching as compiled (test_submit_caching.py covers per-step settings)
    assert cached_tasks(spec) == {"root/data-prepare": True, "root/train": True}
    assert not fake_kfp.sent("POST", "/apis/v2beta1/experiments")  # "Default" already exists
    assert out.out == ["submitted run run-1 (nightly-1)", f"ui        {fake_kfp.url}/#/runs/details/run-1"]


def test_creates_a_missing_experiment(fake_kfp, compiled_test_pipeline):
    submit_to_kfp(config(fake_kfp.url, "kfp.experiment=nightly"), compiled_test_pipeline, Output().options())
    (experiment,) = fake_kfp.sent("POST", "/apis/v2beta1/experiments")
    assert experiment.body["display_name"] == "nightly"
    (create,) = fake_kfp.sent("POST", "/apis/v2beta1/runs")
    assert create.body["experiment_id"] == "exp-1"
    assert create.body["display_name"].startswith("hydra-fashion-mnist-training-")


def test_wait_prints_states_until_succeeded(fake_kfp, compiled_test_pipeline):
    fake_kfp.states = ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"]
    out = Output()
    submit_to_kfp(config(fake_kfp.url), compiled_test_pipeline, out.options(wait=True, job_id="r"))
    assert out.out[2:] == ["run r: PENDING", "run r: RUNNING", "run r: SUCCEEDED"]


def test_wait_reports_a_failed_run_with_its_error(fake_kfp, compiled_test_pipeline):
    fake_kfp.states = ["RUNNING", "FAILED"]
    fake_kfp.run_error = {"code": 2, "message": "train: container exited with code 1"}
    with pytest.raises(RunFailed, match=r"^run r ended FAILED: train: container exited with code 1$"):
        submit_to_kfp(config(fake_kfp.url), compiled_test_pipeline, Output().options(wait=True, job_id="r"))


def test_api_error_on_create_is_one_line(fake_kfp, compiled_test_pipeline):
    fake_kfp.create_reply = fake_kfp.reply(
        400,
        {
            "error": "Invalid input error: pipeline spec is invalid\n  details",
            "code": 3,
            "message": "Invalid input error: pipeline spec is invalid\n  details",
        },
    )
    with pytest.raises(BackendApiError) as e:
        submit_to_kfp(config(fake_kfp.url), compiled_test_pipeline, Output().options())
    assert str(e.value) == (
        "creating the run: KFP refused the request (400 Bad Request): "
        "Invalid input error: pipeline spec is invalid details"
    )


def test_unreachable_host(compiled_test_pipeline):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    with pytest.raises(BackendApiError, match=rf"^cannot reach the KFP API at http://127.0.0.1:{port}: "):
        submit_to_kfp(config(f"http://127.0.0.1:{port}"), compiled_test_pipeline, Output().options())


def test_a_host_that_never_answers_is_bounded(fake_kfp, compiled_test_pipeline):
    fake_kfp.routes.insert(
        0,
        (
            "GET",
            __import__("re").compile(r"/apis/v2beta1/healthz"),
            lambda m, r: fake_kfp.reply(200, {}, delay=2),
        ),
    )
    options = SubmitOptions(echo=print, note=print, timeout=0.3, check_images=False)
    with pytest.raises(DeadlineExceeded, match=r"did not answer within 0.3 s"):
        submit_to_kfp(config(fake_kfp.url), compiled_test_pipeline, options)


def test_a_hanging_create_is_bounded(fake_kfp, compiled_test_pipeline):
    fake_kfp.create_reply = fake_kfp.reply(200, {}, delay=2)
    options = SubmitOptions(echo=print, note=print, timeout=0.5, check_images=False)
    with pytest.raises(
        DeadlineExceeded, match=r"^creating the run at http://127.0.0.1:\d+: no answer within 0.5 s"
    ):
        submit_to_kfp(config(fake_kfp.url), compiled_test_pipeline, options)


@pytest.mark.parametrize("host", ["null", "localhost:8888"])
def test_host_must_be_a_url(host, compiled_test_pipeline):
    with pytest.raises(PreflightError, match=rf"^kfp.host={'None' if host == 'null' else host} is not a URL"):
        submit_to_kfp(config(host), compiled_test_pipeline, Output().options())


def test_dry_run_contacts_nothing(fake_kfp, compiled_test_pipeline):
    out = Output()
    submit_to_kfp(config(fake_kfp.url), compiled_test_pipeline, out.options(dry_run=True, job_id="d"))
    assert fake_kfp.requests == []
    plan = json.loads(out.out[0])
    assert plan["run"]["display_name"] == "d"
    assert plan["run"]["runtime_config"]["parameters"] == compiled_test_pipeline.parameter_values
