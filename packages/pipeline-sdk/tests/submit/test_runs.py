"""`pipeline-sdk runs list|show|cancel` against the loopback fakes: real HTTP through aiplatform's
PipelineServiceClient (REST) and kfp.Client, the requests as the public APIs document them, and what is
printed. In-process ``main([...])`` for the happy paths; the console script for the error lines."""

import json

import pytest

from pipeline_sdk.commands.runs import main

PROJECT = "demo-project"
REGION = "us-central1"
JOBS = rf"/v1/projects/{PROJECT}/locations/{REGION}/pipelineJobs"
PIPELINE = "hydra-fashion-mnist-training"


def vertex(fake, *extra):
    return [f"gcp.project={PROJECT}", f"gcp.api_endpoint={fake.url}", *extra]


def kfp(fake, *extra):
    return ["backend=kfp", f"kfp.host={fake.url}", *extra]


def console(job_id):
    return f"https://console.cloud.google.com/vertex-ai/locations/{REGION}/pipelines/runs/{job_id}?project={PROJECT}"


def one_error(result, code, text):
    assert result.code == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pipeline-sdk runs: error: "), lines[0]
    assert text in lines[0], lines[0]
    assert result.stdout == ""


# --- Vertex AI ----------------------------------------------------------------------------------------


def test_list_asks_for_this_pipelines_jobs_newest_first_and_prints_a_table(fake_google, adc, capsys):
    fake_google.add_job(
        PROJECT, REGION, "old", states=("PIPELINE_STATE_SUCCEEDED",), create_time="2026-11-20T05:00:00Z"
    )
    fake_google.add_job(
        PROJECT,
        REGION,
        "new",
        create_time="2026-11-21T05:00:00.250Z",
        startTime="2026-11-21T05:01:00Z",
    )
    fake_google.add_job(PROJECT, REGION, "not-ours", pipeline_name="another-pipeline")
    fake_google.add_job(PROJECT, "europe-west4", "elsewhere")

    assert main(["list", *vertex(fake_google)]) == 0
    out = capsys.readouterr().out.splitlines()
    (request,) = fake_google.sent("GET", JOBS)
    assert request.query["filter"] == [f'pipeline_name="{PIPELINE}"']
    assert request.query["orderBy"] == ["create_time desc"]
    assert out[0].split() == ["RUN", "STATE", "CREATED", "STARTED", "ENDED", "LINK"]
    assert out[1].split() == [
        "new",
        "RUNNING",
        "2026-11-21T05:00:00Z",
        "2026-11-21T05:01:00Z",
        "-",
        console("new"),
    ]
    assert out[2].split() == ["old", "SUCCEEDED", "2026-11-20T05:00:00Z", "-", "-", console("old")]
    assert len(out) == 3


def test_list_pages_until_the_limit_and_filters_by_state(fake_google, adc, capsys):
    for number in range(130):
        fake_google.add_job(
            PROJECT,
            REGION,
            f"run-{number:03d}",
            states=("PIPELINE_STATE_FAILED",) if number % 2 else ("PIPELINE_STATE_SUCCEEDED",),
            create_time=f"2026-11-{1 + number // 24:02d}T{number % 24:02d}:00:00Z",
        )
    assert main(["list", "--limit", "110", "--json", *vertex(fake_google)]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in runs] == [f"run-{n:03d}" for n in range(129, 19, -1)]
    first, second = fake_google.sent("GET", JOBS)
    assert first.query["pageSize"] == ["100"] and "pageToken" not in first.query
    assert second.query["pageToken"] == ["100"]
    assert set(runs[0]) == {"id", "resource", "name", "state", "created", "started", "ended", "link"}

    fake_google.requests.clear()
    assert main(["list", "--state", "failed", "--limit", "2", "--json", *vertex(fake_google)]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["run-129", "run-127"]
    (request,) = fake_google.sent("GET", JOBS)
    assert request.query["filter"] == [f'pipeline_name="{PIPELINE}" AND state="PIPELINE_STATE_FAILED"']
    assert request.query["pageSize"] == ["2"]


def test_list_of_nothing_says_so_on_stderr(fake_google, adc, capsys):
    assert main(["list", *vertex(fake_google)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == f"no runs of pipeline {PIPELINE}\n"


@pytest.mark.parametrize(
    "run",
    [
        "job-1",
        f"projects/{PROJECT}/locations/{REGION}/pipelineJobs/job-1",
        console("job-1"),
    ],
)
def test_show_takes_the_id_the_resource_name_or_the_console_link(fake_google, adc, capsys, run):
    fake_google.add_job(
        PROJECT,
        REGION,
        "job-1",
        states=("PIPELINE_STATE_FAILED",),
        startTime="2026-11-26T05:01:00Z",
        endTime="2026-11-26T05:09:00Z",
        runtimeConfig={"parameterValues": {"epochs": 3, "dataset": "fashion_mnist"}},
        jobDetail={
            "taskDetails": [
                {"taskName": PIPELINE, "state": "FAILED"},
                {"taskName": "data-prepare", "state": "SUCCEEDED", "startTime": "2026-11-26T05:01:00Z"},
                {"taskName": "train", "state": "FAILED", "error": {"code": 9, "message": "exit code 1"}},
            ]
        },
        error={"code": 9, "message": "The DAG failed because some tasks failed."},
    )
    assert main(["show", run, *vertex(fake_google)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(fake_google.sent("GET", JOBS + "/job-1")) == 1  # whichever form RUN took
    assert out[:8] == [
        "run         job-1",
        f"name        projects/{PROJECT}/locations/{REGION}/pipelineJobs/job-1",
        "state       FAILED",
        "created     2026-11-26T05:00:00Z",
        "started     2026-11-26T05:01:00Z",
        "ended       2026-11-26T05:09:00Z",
        f"link        {console('job-1')}",
        "error       The DAG failed because some tasks failed.",
    ]
    assert out[8:11] == ["parameters", "  dataset  fashion_mnist", "  epochs   3"]
    assert out[11] == "tasks"
    assert out[12].split() == [PIPELINE, "FAILED", "-", "-"]
    assert out[13].split() == ["data-prepare", "SUCCEEDED", "2026-11-26T05:01:00Z", "-"]
    assert out[14].split() == ["train", "FAILED", "-", "-", "exit", "code", "1"]


def test_show_json_and_wait_follow_the_run_like_submit_wait(fake_google, adc, capsys):
    fake_google.add_job(
        PROJECT,
        REGION,
        "job-2",
        states=(
            "PIPELINE_STATE_PENDING",
            "PIPELINE_STATE_RUNNING",
            "PIPELINE_STATE_RUNNING",
            "PIPELINE_STATE_SUCCEEDED",
        ),
        jobDetail={"taskDetails": [{"taskName": "train", "state": "RUNNING"}]},
    )
    assert main(["show", "job-2", "--wait", "--json", "--poll-interval", "0.01", *vertex(fake_google)]) == 0
    out, err = capsys.readouterr()
    shown = json.loads(out)
    assert shown["state"] == "SUCCEEDED" and shown["tasks"] == [
        {"name": "train", "state": "RUNNING", "started": None, "ended": None, "error": None}
    ]
    assert err.splitlines() == ["pipeline job job-2: RUNNING", "pipeline job job-2: SUCCEEDED"]


def test_show_wait_exits_non_zero_for_a_failed_run(cli, fake_google):
    fake_google.add_job(
        PROJECT,
        REGION,
        "job-3",
        states=("PIPELINE_STATE_RUNNING", "PIPELINE_STATE_RUNNING", "PIPELINE_STATE_FAILED"),
        error={"code": 9, "message": "train: exit code 1"},
    )
    process = cli.start(
        "runs",
        "show",
        "job-3",
        "--wait",
        "--poll-interval",
        "0.01",
        *vertex(fake_google),
        fake=fake_google,
        with_adc=True,
    )
    result = cli.result(process)
    assert result.code == 1
    assert result.stdout.splitlines()[-2:] == ["pipeline job job-3: RUNNING", "pipeline job job-3: FAILED"]
    assert result.stderr == "pipeline-sdk runs: error: pipeline job job-3 ended FAILED: train: exit code 1\n"


def test_cancel_posts_cancel_and_prints_one_line(fake_google, adc, capsys):
    fake_google.add_job(PROJECT, REGION, "job-4", states=("PIPELINE_STATE_RUNNING",))
    assert main(["cancel", "job-4", *vertex(fake_google)]) == 0
    assert capsys.readouterr().out == (
        "cancelling pipeline job job-4 (was RUNNING); `pipeline-sdk runs show job-4 --wait` follows it to the end\n"
    )
    (cancel,) = fake_google.sent("POST", JOBS + "/job-4:cancel")
    assert cancel.body in (b"", {})
    assert main(["show", "job-4", "--wait", "--poll-interval", "0.01", *vertex(fake_google)]) == 1
    assert "pipeline job job-4 ended CANCELLED" in capsys.readouterr().err


def test_errors_are_one_line(cli, fake_google):
    fake_google.add_job(PROJECT, REGION, "done", states=("PIPELINE_STATE_SUCCEEDED",))
    fake_google.add_job(
        PROJECT, REGION, "racing", states=("PIPELINE_STATE_RUNNING", "PIPELINE_STATE_SUCCEEDED")
    )
    runs = {
        "missing": cli.start(
            "runs", "show", "missing", *vertex(fake_google), fake=fake_google, with_adc=True
        ),
        "done": cli.start("runs", "cancel", "done", *vertex(fake_google), fake=fake_google, with_adc=True),
        "racing": cli.start(
            "runs", "cancel", "racing", *vertex(fake_google), fake=fake_google, with_adc=True
        ),
    }
    one_error(
        cli.result(runs["missing"]),
        1,
        f"no pipeline job projects/{PROJECT}/locations/{REGION}/pipelineJobs/missing",
    )
    one_error(cli.result(runs["done"]), 1, "pipeline job done already ended SUCCEEDED: nothing to cancel")
    # it ended between the read and the cancel: the service's 400 FAILED_PRECONDITION, as one line
    one_error(
        cli.result(runs["racing"]),
        1,
        "pipeline job racing can no longer be cancelled: The PipelineJob "
        f'"projects/{PROJECT}/locations/{REGION}/pipelineJobs/racing" is in state PIPELINE_STATE_SUCCEEDED',
    )
    assert not fake_google.sent("POST", JOBS + "/done:cancel")
    assert len(fake_google.sent("POST", JOBS + "/racing:cancel")) == 1


# --- Kubeflow Pipelines -------------------------------------------------------------------------------


def test_kfp_list_reads_the_experiments_runs_page_by_page(fake_kfp, capsys):
    for number in range(105):
        fake_kfp.add_run(
            f"r{number:03d}",
            states=("FAILED",) if number % 2 else ("SUCCEEDED",),
            created_at=f"2026-11-{1 + number // 24:02d}T{number % 24:02d}:00:00Z",
        )
    fake_kfp.add_run("another-pipeline", pipeline_name="x", created_at="2026-12-01T00:00:00Z")
    fake_kfp.add_run("another-experiment", experiment_id="exp-9", created_at="2026-12-01T00:00:00Z")
    assert main(["list", "--limit", "103", "--json", *kfp(fake_kfp)]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in runs] == [f"r{n:03d}" for n in range(104, 1, -1)]
    assert runs[0]["link"] == f"{fake_kfp.url}/#/runs/details/r104"
    first, second = fake_kfp.sent("GET", "/apis/v2beta1/runs")
    assert first.query["experiment_id"] == ["exp-default"]
    assert first.query["sort_by"] == ["created_at desc"]
    assert "page_token" not in first.query and second.query["page_token"] == ["100"]

    fake_kfp.requests.clear()
    assert main(["list", "--state", "FAILED", "--limit", "1", *kfp(fake_kfp)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:2] == ["r103", "FAILED"]
    (request,) = fake_kfp.sent("GET", "/apis/v2beta1/runs")
    assert json.loads(request.query["filter"][0]) == {
        "predicates": [{"key": "state", "operation": "EQUALS", "string_value": "FAILED"}]
    }


def test_kfp_list_of_a_missing_experiment_is_empty(fake_kfp, capsys):
    assert main(["list", *kfp(fake_kfp, "kfp.experiment=nightly")]) == 0
    assert capsys.readouterr().err == f"no runs of pipeline {PIPELINE}\n"
    assert not fake_kfp.sent("GET", "/apis/v2beta1/runs")


def test_kfp_show_cancel_and_wait(fake_kfp, capsys):
    fake_kfp.add_run(
        "0b5e6c1e-1",
        display_name="nightly-1",
        runtime_config={"parameters": {"epochs": 2}},
        run_details={
            "task_details": [
                {"display_name": "train", "state": "RUNNING", "start_time": "2026-11-26T05:02:00Z"}
            ]
        },
    )
    assert main(["show", f"{fake_kfp.url}/#/runs/details/0b5e6c1e-1", *kfp(fake_kfp)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["run         0b5e6c1e-1", "state       RUNNING"]
    assert "  epochs  2" in out and out[-1].split() == ["train", "RUNNING", "2026-11-26T05:02:00Z", "-"]

    assert main(["cancel", "0b5e6c1e-1", *kfp(fake_kfp)]) == 0
    assert capsys.readouterr().out.startswith("cancelling run 0b5e6c1e-1 (was RUNNING)")
    assert len(fake_kfp.sent("POST", "/apis/v2beta1/runs/0b5e6c1e-1:terminate")) == 1
    assert main(["show", "0b5e6c1e-1", "--wait", "--poll-interval", "0.01", *kfp(fake_kfp)]) == 1
    assert capsys.readouterr().err.endswith("pipeline-sdk runs: error: run 0b5e6c1e-1 ended CANCELED\n")


def test_kfp_errors_are_one_line(cli, fake_kfp):
    fake_kfp.add_run("done", states=("SUCCEEDED",))
    fake_kfp.add_run("racing", states=("RUNNING", "SUCCEEDED"))
    missing = cli.start("runs", "show", "missing", *kfp(fake_kfp))
    done = cli.start("runs", "cancel", "done", *kfp(fake_kfp))
    racing = cli.start("runs", "cancel", "racing", *kfp(fake_kfp))
    one_error(cli.result(missing), 1, f"no run missing on the KFP API at {fake_kfp.url}")
    one_error(cli.result(done), 1, "run done already ended SUCCEEDED: nothing to cancel")
    one_error(
        cli.result(racing),
        1,
        "run racing can no longer be terminated: Failed to terminate a run racing. Row not found",
    )
