"""`pipeline-sdk schedule create|list|pause|resume|delete` against the loopback fakes
(``submit_fakes/schedules.py``, ``submit_fakes/recurring_runs.py``): real HTTP through aiplatform's
ScheduleServiceClient (REST) and kfp.Client, the request bodies as the services document them, and what is
printed. In-process ``main([...])``; the console script's error lines are in tests/test_sdk_bad_input.py."""

import json

import pytest
from submit_fakes.recurring_runs import FakeKfpSchedules
from submit_fakes.schedules import FakeVertexSchedules
from submit_fakes.server import Reply

from pipeline_sdk.commands.schedule import main
from pipeline_sdk.commands.submit import main as submit_main

PROJECT = "demo-project"
REGION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
SCHEDULES = rf"/v1/{PARENT}/schedules"
PIPELINE = "hydra-fashion-mnist-training"
CRON = ["--cron", "0 3 * * 1-5"]


@pytest.fixture
def fake_google(rsa_key):
    """FakeGoogle with Vertex AI's ScheduleService (the conftest's ``adc`` gets its tokens here)."""
    with FakeVertexSchedules(rsa_key[1]) as server:
        server.buckets["demo-bucket"] = Reply(200, {"name": "demo-bucket"})
        yield server


@pytest.fixture
def fake_kfp():
    with FakeKfpSchedules() as server:
        yield server


def vertex(fake, *extra):
    return [
        f"gcp.project={PROJECT}",
        f"gcp.api_endpoint={fake.url}",
        "gcp.pipeline_root=gs://demo-bucket/runs",
        "gcp.service_account=runner@demo-project.iam.gserviceaccount.com",
        "images.registry=europe-docker.pkg.dev/demo-project/ml",
        "--no-check-images",
        *extra,
    ]


def kfp(fake, *extra):
    return [
        "backend=kfp",
        f"kfp.host={fake.url}",
        "images.registry=example.com/ml",
        "--no-check-images",
        *extra,
    ]


def error_line(capsys, code, result, text):
    out, err = capsys.readouterr()
    assert result == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pipeline-sdk schedule: error: "), err
    assert text in lines[0], lines[0]
    return out


# --- Vertex AI ----------------------------------------------------------------------------------------


def test_vertex_create_sends_the_dry_run_body_whose_job_is_submits(fake_google, adc, capsys):
    args = [
        "create",
        "nightly",
        *CRON,
        "--time-zone",
        "Europe/Berlin",
        "--end-time",
        "2030-01-01T00:00",
        "--max-concurrent-runs",
        "2",
        "--max-runs",
        "30",
        "--allow-queueing",
        *vertex(fake_google, "params.epochs=1"),
    ]
    assert main([*args, "--dry-run"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert fake_google.requests == []  # a dry run contacts nothing
    assert dry["method"] == "POST" and dry["url"] == f"{fake_google.url}/v1/{PARENT}/schedules"

    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    (create,) = fake_google.schedule_creates()
    body = create.body
    assert body == dry["body"]
    assert {k: v for k, v in body.items() if k != "createPipelineJobRequest"} == {
        "displayName": "nightly",
        "cron": "TZ=Europe/Berlin 0 3 * * 1-5",
        "endTime": "2029-12-31T23:00:00Z",  # read in --time-zone
        "maxConcurrentRunCount": "2",  # proto JSON: int64 as text
        "maxRunCount": "30",
        "allowQueueing": True,
    }
    request = body["createPipelineJobRequest"]
    assert request["parent"] == PARENT
    assert request["pipelineJob"]["runtimeConfig"]["parameterValues"]["epochs"] == 1
    assert request["pipelineJob"]["serviceAccount"] == "runner@demo-project.iam.gserviceaccount.com"
    (name,) = fake_google.schedules
    assert out == [f"created schedule {name} (nightly, ACTIVE)", "next run  2026-12-07T02:00:00Z"]
    assert fake_google.sent("GET", "/storage/v1/b/demo-bucket")  # submit's bucket preflight ran

    # the job each tick creates is the one `submit` creates with the same config
    assert submit_main(["--job-id", "once", *vertex(fake_google, "params.epochs=1")]) == 0
    (job,) = fake_google.sent("POST", rf"/v1/{PARENT}/pipelineJobs")
    assert request["pipelineJob"] == job.body


def test_vertex_sweep_compiles_the_pipeline_submit_compiles(fake_google, capsys):
    sweep = ["-m", "params.seed=1,2", "--dry-run"]
    assert main(["create", "sweep", *CRON, *vertex(fake_google), *sweep]) == 0
    scheduled = json.loads(capsys.readouterr().out)["body"]["createPipelineJobRequest"]["pipelineJob"]
    assert submit_main([*vertex(fake_google), *sweep]) == 0
    submitted = json.loads(capsys.readouterr().out)["body"]
    assert json.dumps(scheduled["pipelineSpec"], sort_keys=True) == json.dumps(
        submitted["pipelineSpec"], sort_keys=True
    )
    assert scheduled["runtimeConfig"] == submitted["runtimeConfig"]


def test_vertex_existing_name_is_one_line_and_replace_pauses_creates_then_deletes(fake_google, adc, capsys):
    old = fake_google.add_schedule(PROJECT, REGION, "nightly")
    result = main(["create", "nightly", *CRON, *vertex(fake_google, "--skip-bucket-check")])
    error_line(capsys, 1, result, f"schedule nightly already exists ({old}, ACTIVE): pass --replace")
    assert fake_google.schedule_creates() == []

    fake_google.requests.clear()
    assert main(["create", "nightly", *CRON, "--replace", *vertex(fake_google, "--skip-bucket-check")]) == 0
    changes = [(r.method, r.path) for r in fake_google.requests if r.method in ("POST", "DELETE")]
    assert changes[-3:] == [
        ("POST", f"/v1/{old}:pause"),
        ("POST", f"/v1/{PARENT}/schedules"),
        ("DELETE", f"/v1/{old}"),
    ]
    (new,) = fake_google.schedules
    assert new != old and fake_google.schedules[new]["cron"] == "0 3 * * 1-5"
    assert f"deleted the old schedule {old}" in capsys.readouterr().err


def test_vertex_replace_that_fails_resumes_the_old_schedule(fake_google, adc, capsys):
    old = fake_google.add_schedule(PROJECT, REGION, "nightly")
    fake_google.schedule_create_reply = Reply(
        403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "Permission denied."}}
    )
    result = main(["create", "nightly", *CRON, "--replace", *vertex(fake_google, "--skip-bucket-check")])
    err = capsys.readouterr().err
    assert result == 1 and "Vertex AI refused the request (403 PERMISSION_DENIED)" in err
    assert f"resumed {old.rsplit('/', 1)[1]}" in err
    assert fake_google.schedules[old]["state"] == "ACTIVE" and fake_google.resumes == [False]


def test_vertex_list_pause_resume_delete(fake_google, adc, capsys):
    name = fake_google.add_schedule(
        PROJECT,
        REGION,
        "nightly",
        cron="TZ=Europe/Berlin 0 3 * * *",
        nextRunTime="2026-12-07T02:00:00.120Z",
        lastScheduledRunResponse={"scheduledRunTime": "2026-12-06T02:00:00Z", "runResponse": "jobs/1"},
    )
    fake_google.add_schedule(PROJECT, REGION, "other", pipeline_name="another-pipeline")
    schedule_id = name.rsplit("/", 1)[1]
    place = vertex(fake_google)[:2]

    assert main(["list", *place]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "NAME",
        "STATE",
        "CRON",
        "TIME",
        "ZONE",
        "NEXT",
        "RUN",
        "LAST",
        "RUN",
        "CREATED",
        "ID",
    ]
    assert lines[1].split() == [
        "nightly",
        "ACTIVE",
        "0",
        "3",
        "*",
        "*",
        "*",
        "Europe/Berlin",
        "2026-12-07T02:00:00Z",
        "2026-12-06T02:00:00Z",
        "2026-12-01T10:00:00Z",
        schedule_id,
    ]
    assert len(lines) == 2  # another pipeline's schedule is not listed
    (listing,) = fake_google.sent("GET", SCHEDULES)
    assert listing.query["filter"] == ["create_pipeline_job_request:*"]

    assert main(["pause", "nightly", *place]) == 0
    assert capsys.readouterr().out.startswith(f"paused schedule nightly ({schedule_id})")
    assert fake_google.schedules[name]["state"] == "PAUSED"
    lookup = fake_google.sent("GET", SCHEDULES)[-1]
    assert lookup.query["filter"] == ['display_name="nightly"']

    error_line(
        capsys, 1, main(["pause", "nightly", *place]), "is PAUSED: only an ACTIVE schedule can be paused"
    )

    assert main(["list", "--json", *place]) == 0
    (shown,) = json.loads(capsys.readouterr().out)
    assert shown["state"] == "PAUSED" and shown["time_zone"] == "Europe/Berlin"

    assert main(["resume", schedule_id, "--catch-up", *place]) == 0  # by ID
    assert fake_google.resumes == [True] and fake_google.schedules[name]["state"] == "ACTIVE"
    capsys.readouterr()

    fake_google.schedule_lro_polls = 1  # the delete's operation is pending once
    assert main(["delete", name, *place]) == 0  # by resource name
    assert capsys.readouterr().out == f"deleted schedule nightly ({schedule_id})\n"
    assert name not in fake_google.schedules
    assert fake_google.sent("GET", rf"/(ui|v1)/{name}/operations/\d+")

    error_line(capsys, 1, main(["delete", "nightly", *place]), "no schedule nightly in project demo-project")


def test_vertex_answers_failed_precondition_for_a_stale_pause(fake_google, adc):
    from pipeline_sdk.config import load_config
    from pipeline_sdk.schedules import ScheduleStateError, open_backend

    fake_google.add_schedule(PROJECT, REGION, "nightly")
    backend = open_backend(load_config(vertex(fake_google)[:2]), timeout=5, allow_plain_http=False)
    (info,) = backend.find("nightly")
    backend.pause(info)
    with pytest.raises(ScheduleStateError, match="is in state PAUSED and cannot be paused"):
        backend.pause(info)  # `info` still says ACTIVE: the service's own answer


def test_vertex_catch_up_at_create_is_refused(fake_google, capsys):
    result = main(["create", "nightly", *CRON, "--catch-up", "--dry-run", *vertex(fake_google)])
    error_line(capsys, 2, result, "pass it to `pipeline-sdk schedule resume NAME --catch-up`")


# --- Kubeflow Pipelines -------------------------------------------------------------------------------


def test_kfp_create_sends_the_dry_run_recurring_run(fake_kfp, capsys):
    args = ["create", "nightly", *CRON, "--max-concurrent-runs", "3", "--start-time", "2030-01-01T00:00:00Z"]
    assert main([*args, *kfp(fake_kfp, "params.epochs=1", "--dry-run")]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert fake_kfp.requests == []
    assert dry["experiment"] == "Default" and dry["host"] == fake_kfp.url

    assert main([*args, *kfp(fake_kfp, "params.epochs=1")]) == 0
    out = capsys.readouterr().out.splitlines()
    (create,) = fake_kfp.recurring_run_creates()
    body = create.body
    assert body == {**dry["recurring_run"], "experiment_id": "exp-default"}
    assert body["trigger"] == {
        "cron_schedule": {"cron": "0 0 3 * * 1-5", "start_time": "2030-01-01T00:00:00Z"}
    }
    assert body["max_concurrency"] == 3 and body["no_catchup"] is True and body["mode"] == "ENABLE"
    assert body["runtime_config"]["parameters"]["epochs"] == 1
    assert body["pipeline_spec"]["pipelineInfo"]["name"] == PIPELINE
    (run_id,) = fake_kfp.recurring_runs
    assert out == [
        f"created recurring run {run_id} (nightly, ACTIVE)",
        f"ui        {fake_kfp.url}/#/recurringrun/details/{run_id}",
    ]


def test_kfp_replace_list_pause_resume_delete(fake_kfp, capsys):
    old = fake_kfp.add_recurring_run("nightly")
    error_line(
        capsys, 1, main(["create", "nightly", *CRON, *kfp(fake_kfp)]), "schedule nightly already exists"
    )

    assert main(["create", "nightly", *CRON, "--catch-up", "--replace", *kfp(fake_kfp)]) == 0
    capsys.readouterr()
    changes = [(r.method, r.path) for r in fake_kfp.requests if r.method in ("POST", "DELETE")]
    assert changes[-3:] == [
        ("POST", f"/apis/v2beta1/recurringruns/{old}:disable"),
        ("POST", "/apis/v2beta1/recurringruns"),
        ("DELETE", f"/apis/v2beta1/recurringruns/{old}"),
    ]
    (new,) = fake_kfp.recurring_runs
    assert fake_kfp.recurring_runs[new]["no_catchup"] is False

    place = kfp(fake_kfp)[:2]
    assert main(["list", "--json", *place]) == 0
    (shown,) = json.loads(capsys.readouterr().out)
    assert shown == {
        "name": "nightly",
        "id": new,
        "resource": new,
        "cron": "0 0 3 * * 1-5",
        "time_zone": None,
        "state": "ACTIVE",
        "next_run": None,
        "last_run": None,
        "created": "2026-12-06T10:00:00Z",
        "pipeline": PIPELINE,
    }
    assert main(["pause", "nightly", *place]) == 0
    assert fake_kfp.recurring_runs[new]["status"] == "DISABLED"
    error_line(
        capsys, 1, main(["pause", "nightly", *place]), "is PAUSED: only an ACTIVE schedule can be paused"
    )
    assert main(["resume", new, *place]) == 0
    assert fake_kfp.recurring_runs[new]["status"] == "ENABLED"
    assert main(["delete", "nightly", *place]) == 0
    assert fake_kfp.recurring_runs == {}
    error_line(capsys, 1, main(["resume", "nightly", *place]), "no schedule nightly in the KFP API at")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--time-zone", "Europe/Berlin"],
            "--time-zone: Kubeflow Pipelines reads every cron in its scheduler's",
        ),
        (["--max-runs", "3"], "--max-runs: a KFP recurring run has no run limit"),
        (["--max-concurrent-runs", "11"], "--max-concurrent-runs 11: Kubeflow Pipelines allows 1-10"),
    ],
)
def test_kfp_refuses_what_a_recurring_run_cannot_hold(fake_kfp, capsys, extra, message):
    error_line(capsys, 2, main(["create", "nightly", *CRON, *extra, *kfp(fake_kfp)]), message)
    assert fake_kfp.requests == []


# --- checked before anything is sent -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cron", "0 3 * *"], "--cron '0 3 * *' has 4 fields; a cron has 5: minute hour day-of-month"),
        (["--cron", "@daily"], "has 1 fields; a cron has 5"),
        (["--cron", "61 3 * * *"], "minute 61 is out of range 0-59"),
        (["--cron", "0 3 * * 7"], "day-of-week 7 is out of range 0-6"),
        (["--cron", "0 3 * FOO *"], "month 'FOO' is not a number or one of JAN-DEC"),
        (["--cron", "0 5-3 * * *"], "hour range '5-3' runs backwards"),
        (["--cron", "*/0 3 * * *"], "minute step '0' is not a number from 1"),
        (["--cron", "TZ=UTC 0 3 * * *"], "pass the time zone as --time-zone UTC"),
        ([*CRON, "--time-zone", "Mars/Olympus"], "--time-zone 'Mars/Olympus' is not a time zone"),
        ([*CRON, "--end-time", "2031-01-01", "--start-time", "2032-01-01"], "is not after --start-time 2032"),
        ([*CRON, "--start-time", "2001-01-01"], "--start-time 2001-01-01 is in the past"),
        ([*CRON, "--end-time", "tomorrow"], "--end-time 'tomorrow' is not an ISO 8601 time"),
        ([*CRON, "--max-concurrent-runs", "0"], "--max-concurrent-runs must be at least 1, got 0"),
        ([*CRON, "--max-runs", "0"], "--max-runs must be at least 1, got 0"),
    ],
)
def test_bad_input_is_one_line_before_any_call(fake_google, capsys, args, message):
    error_line(capsys, 2, main(["create", "nightly", *args, *vertex(fake_google)]), message)
    assert fake_google.requests == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", *CRON], "schedule create takes one NAME, got no NAME"),
        (["pause", "a", "b"], "schedule pause takes one NAME, got 2 names (a, b)"),
        (["delete", "../x"], "schedule name '../x': use letters, digits"),
        (["stop", "a"], "unknown action 'stop'; choose from create, list, pause, resume, delete"),
        (["create", "nightly"], "the following arguments are required: --cron"),
    ],
)
def test_usage_errors(capsys, argv, message):
    error_line(capsys, 2, main(argv), message)


def test_help_for_each_action(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for action in ("create", "list", "pause", "resume", "delete"):
        assert f"usage: pipeline-sdk schedule {action}" in text
    assert main(["create", "--help"]) == 0
    assert "--max-concurrent-runs N" in capsys.readouterr().out
