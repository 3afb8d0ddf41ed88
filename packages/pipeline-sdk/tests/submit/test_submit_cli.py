"""`pipeline-sdk submit` end to end: the real configs/pipeline.yaml compiled by compile_pipeline, sent to
the loopback fakes. In-process ``main([...])`` for the happy paths; the installed console script in a
subprocess for each class of error, to prove each is one stderr line with no traceback."""

import json
from importlib.metadata import version

import pytest

from pipeline_sdk.commands.submit import main

PROJECT = "demo-project"
BUCKET = "demo-pipelines"


def vertex_args(fake, *extra):
    """Submit arguments against ``fake``, whose registry holds the installed packages' images."""
    fake.manifests |= {
        f"ml/{package}:{version(package)}"
        for package in ("hydra-vertex-data-prepare", "hydra-vertex-trainer", "hydra-vertex-select-best")
    }
    return [
        f"images.registry=127.0.0.1:{fake.httpd.server_port}/ml",
        f"gcp.project={PROJECT}",
        f"gcp.pipeline_root=gs://{BUCKET}/runs",
        f"gcp.api_endpoint={fake.url}",
        "--poll-interval",
        "0.01",
        *extra,
    ]


@pytest.fixture
def bucket(fake_google):
    fake_google.buckets[BUCKET] = fake_google.reply(200, {"name": BUCKET})


def assert_one_error_line(result, code, start):
    assert result.code == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"pipeline-sdk submit: error: {start}"), lines[0]
    return lines[0]


def test_submit_and_wait_for_success(fake_google, adc, bucket, capsys):
    code = main(
        vertex_args(fake_google, "--wait", "--job-id", "cli-1", "params.epochs=3", "+gcp.labels.team=ml")
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    (create,) = fake_google.sent("POST", r"/v1/projects/demo-project/locations/us-central1/pipelineJobs")
    body = create.body
    executors = body["pipelineSpec"]["deploymentSpec"]["executors"]
    (train,) = [e["container"] for e in executors.values() if e["container"]["command"] == ["trainer"]]
    assert train["resources"]["accelerator"]["resourceType"] == "NVIDIA_L4"  # configs/pipeline.yaml's default
    assert body["runtimeConfig"]["parameterValues"]["epochs"] == 3
    assert body["runtimeConfig"]["gcsOutputDirectory"] == f"gs://{BUCKET}/runs"
    assert body["labels"]["team"] == "ml"
    assert body["labels"]["hydra-vertex-pipeline-sdk"] == "0-1-0"
    assert out.splitlines() == [
        "submitted projects/demo-project/locations/us-central1/pipelineJobs/cli-1",
        "console   https://console.cloud.google.com/vertex-ai/locations/us-central1/pipelines/runs/cli-1"
        "?project=demo-project",
        "pipeline job cli-1: PENDING",
        "pipeline job cli-1: RUNNING",
        "pipeline job cli-1: SUCCEEDED",
    ]


def test_a_sweep_reaches_vertex_as_one_job_with_a_loop_of_trials(fake_google, adc, bucket, capsys):
    sweep = ["-m", "params.learning_rate=0.002,0.004", "params.experiment='a,b',plain"]
    code = main(vertex_args(fake_google, "--dry-run", *sweep))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "sweep: 4 trials, at most 4 at a time (sweep.max_parallel), then select-best" in err
    assert "  trial 2: learning_rate=0.002, experiment='plain'" in err
    dry_body = json.loads(out)

    assert main(vertex_args(fake_google, "--job-id", "sweep-1", *sweep)) == 0, capsys.readouterr().err
    (create,) = fake_google.sent("POST", r"/v1/projects/demo-project/locations/us-central1/pipelineJobs")
    body = create.body
    assert body["pipelineSpec"] == dry_body["body"]["pipelineSpec"]
    tasks = body["pipelineSpec"]["root"]["dag"]["tasks"]
    loop = next(task for task in tasks.values() if "parameterIterator" in task)
    # each item is a JSON string (docs/vertex-behaviour.md, loop items)
    items = [json.loads(item) for item in json.loads(loop["parameterIterator"]["items"]["raw"])]
    assert [(i["learning_rate"], i["experiment"]) for i in items] == [
        (0.002, "a,b"),
        (0.002, "plain"),
        (0.004, "a,b"),
        (0.004, "plain"),
    ]
    assert tasks["select-best"]["triggerPolicy"]["strategy"] == "ALL_UPSTREAM_TASKS_COMPLETED"
    # the swept parameters are not run-time parameters of the job; the others are
    assert set(body["runtimeConfig"]["parameterValues"]) == {
        *("dataset", "source", "image_size", "channels", "epochs", "batch_size", "seed")
    }


def test_dry_run_prints_only_json_and_needs_no_credentials(fake_google, capsys):
    assert (
        main(vertex_args(fake_google, "--dry-run", "steps.train.resources.accelerator_type=NVIDIA_TESLA_T4"))
        == 0
    )
    out, _ = capsys.readouterr()
    request = json.loads(out)
    executors = request["body"]["pipelineSpec"]["deploymentSpec"]["executors"]
    assert "NVIDIA_TESLA_T4" in json.dumps(executors)
    assert fake_google.requests == []


def test_kfp_backend_waits_for_success(fake_kfp, capsys):
    fake_kfp.states = ["RUNNING", "SUCCEEDED"]
    args = ["backend=kfp", f"kfp.host={fake_kfp.url}", "--wait", "--poll-interval", "0.01", "--job-id", "k"]
    code = main([*args, "--no-check-images"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[2:] == ["run k: RUNNING", "run k: SUCCEEDED"]
    (create,) = fake_kfp.sent("POST", "/apis/v2beta1/runs")
    assert create.body["runtime_config"]["parameters"]["epochs"] == 6


def test_bad_option_value_is_a_usage_error(capsys):
    assert main(["--timeout", "0"]) == 2
    assert capsys.readouterr().err == "pipeline-sdk submit: error: --timeout must be positive, got 0\n"


# One real subprocess per class of error: the console script's stderr is one line, no traceback. The runs
# are started together (module fixture) so their interpreter start-ups overlap.

QUOTA = "aiplatform.googleapis.com/custom_model_training_nvidia_l4_gpus"


@pytest.fixture(scope="module")
def error_runs(cli, new_fake_google):
    """name -> (Completed, fake): every error-path subprocess, started together, finished."""
    import contextlib

    with contextlib.ExitStack() as stack:
        fakes = {
            name: stack.enter_context(new_fake_google())
            for name in ("credentials", "quota", "preflight", "timeout", "failed")
        }
        for name in ("credentials", "quota", "timeout", "failed"):
            fakes[name].buckets[BUCKET] = fakes[name].reply(200, {"name": BUCKET})
        fakes["quota"].create_reply = fakes["quota"].error(
            429, "RESOURCE_EXHAUSTED", f"The following quota metrics exceed quota limits: {QUOTA}"
        )
        fakes["timeout"].create_reply = fakes["timeout"].reply(200, {}, delay=60)
        fakes["failed"].states = ["PIPELINE_STATE_RUNNING", "PIPELINE_STATE_FAILED"]
        fakes["failed"].job_error = {"code": 9, "message": "The DAG failed because some tasks failed."}
        processes = {
            "credentials": cli.start("submit", *vertex_args(fakes["credentials"]), fake=fakes["credentials"]),
            "quota": cli.start("submit", *vertex_args(fakes["quota"]), fake=fakes["quota"], with_adc=True),
            "preflight": cli.start(
                "submit",
                *vertex_args(fakes["preflight"], "gcp.pipeline_root=s3://bucket/x"),
                fake=fakes["preflight"],
                with_adc=True,
            ),
            "timeout": cli.start(
                "submit",
                *vertex_args(fakes["timeout"], "--timeout", "2"),
                fake=fakes["timeout"],
                with_adc=True,
            ),
            "failed": cli.start(
                "submit",
                *vertex_args(fakes["failed"], "--wait", "--job-id", "f1"),
                fake=fakes["failed"],
                with_adc=True,
            ),
            "kfp": cli.start(
                "submit", "backend=kfp", "kfp.host=http://127.0.0.1:9", "--timeout", "2", "--no-check-images"
            ),
            "local-images": cli.start(
                "submit", "--dry-run", f"gcp.project={PROJECT}", f"gcp.pipeline_root=gs://{BUCKET}/runs"
            ),
            "usage": cli.start("submit", "--no-such-flag"),
        }
        results = {name: cli.result(process) for name, process in processes.items()}
        yield {name: (result, fakes.get(name)) for name, result in results.items()}


def test_cli_missing_credentials(error_runs):
    result, fake = error_runs["credentials"]
    line = assert_one_error_line(result, 1, "no usable Google Cloud credentials")
    assert "gcloud auth application-default login" in line and "GOOGLE_APPLICATION_CREDENTIALS" in line
    assert fake.requests == []


def test_cli_quota_error(error_runs):
    result, _ = error_runs["quota"]
    line = assert_one_error_line(result, 1, "Vertex AI refused the request (429 RESOURCE_EXHAUSTED)")
    assert "quota custom_model_training_nvidia_l4_gpus is exhausted" in line


def test_cli_preflight_error(error_runs):
    result, fake = error_runs["preflight"]
    assert_one_error_line(result, 1, "gcp.pipeline_root=s3://bucket/x is not a Cloud Storage URI")
    assert fake.requests == []


def test_cli_timeout(error_runs):
    result, _ = error_runs["timeout"]
    line = assert_one_error_line(result, 1, "creating the pipeline job: Vertex AI at http://127.0.0.1:")
    assert line.endswith("did not answer within 2 s (raise --timeout to wait longer)")


def test_cli_failed_run(error_runs):
    result, _ = error_runs["failed"]
    assert_one_error_line(
        result, 1, "pipeline job f1 ended FAILED: The DAG failed because some tasks failed."
    )
    assert result.stdout.splitlines()[-1] == "pipeline job f1: FAILED"


def test_cli_kfp_unreachable(error_runs):
    result, _ = error_runs["kfp"]
    assert_one_error_line(result, 1, "cannot reach the KFP API at http://127.0.0.1:9")


def test_cli_usage_error(error_runs):
    result, _ = error_runs["usage"]
    assert_one_error_line(result, 2, "unrecognized arguments: --no-such-flag")


def test_cli_local_images_are_refused_even_in_a_dry_run(error_runs):
    result, _ = error_runs["local-images"]
    line = assert_one_error_line(
        result, 1, "Vertex AI cannot pull hydra-vertex-data-prepare (localhost/hydra-components/"
    )
    assert "--no-check-images" in line and result.stdout == ""


def test_dry_run_with_no_check_images_prints_the_request(fake_google, capsys):
    args = [a for a in vertex_args(fake_google, "--dry-run") if not a.startswith("images.registry=")]
    assert main(args) == 1
    assert "localhost/ names this machine's local image storage" in capsys.readouterr().err
    assert main([*args, "--no-check-images"]) == 0
    assert "localhost/hydra-components/hydra-vertex-trainer:" in capsys.readouterr().out
    assert fake_google.requests == []


def test_default_check_looks_images_up_before_sending(fake_google, adc, bucket, capsys):
    args = vertex_args(fake_google, "--job-id", "img-1")
    fake_google.manifests.clear()
    assert main(args) == 1
    assert "not in the registry: hydra-vertex-data-prepare (127.0.0.1:" in capsys.readouterr().err
    assert not fake_google.sent("POST", r"/v1/.*/pipelineJobs")
    assert main([*args, "--no-check-images"]) == 0
    assert fake_google.sent("POST", r"/v1/.*/pipelineJobs")


def test_ctrl_c_while_waiting_exits_130_without_a_traceback(cli, new_fake_google):
    import signal

    with new_fake_google() as fake:
        fake.buckets[BUCKET] = fake.reply(200, {"name": BUCKET})
        fake.states = ["PIPELINE_STATE_RUNNING"]
        process = cli.start(
            "submit",
            *vertex_args(fake, "--wait", "--poll-interval", "0.2", "--job-id", "c1"),
            fake=fake,
            with_adc=True,
        )
        assert process.stdout.readline().startswith("submitted ")
        for line in process.stdout:  # until the job runs (or the process dies, which the asserts report)
            if "RUNNING" in line:
                break
        process.send_signal(signal.SIGINT)
        result = cli.result(process)
    assert result.code == 130, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "pipeline-sdk submit: interrupted"
    assert "Traceback" not in result.stderr
