"""Every trial recorded as a Vertex AI Experiment run: the console script against the Google fake over real
HTTP (token endpoint, Vertex ML Metadata), by hand and as the component, and the naming rules."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from select_best import SelectError
from select_best.experiment import experiment_settings, run_names

PROJECT, LOCATION = "demo-project", "us-central1"
STORE = f"projects/{PROJECT}/locations/{LOCATION}/metadataStores/default"
EXPERIMENT = f"{STORE}/contexts/fashion-sweeps"
URL = (
    "https://console.cloud.google.com/vertex-ai/experiments/locations/us-central1/experiments/fashion-sweeps/"
    "runs?project=demo-project"
)
#: the numbers of the trainer's metrics.json in tests/data (lists, objects and strings are not metrics)
NUMBERS = (
    "test_accuracy",
    "test_loss",
    "val_accuracy",
    "best_val_accuracy",
    "saved_epoch",
    "epochs",
    "train_time_s",
    "world_size",
)
MAX_ID = 121  # google.cloud.aiplatform.metadata.constants._EXPERIMENT_RUN_MAX_LENGTH (1.165)


def by_hand(fake: Any, out: Path, *extra: str, project: str = PROJECT) -> list[str]:
    """The overrides that record into experiment fashion-sweeps at ``fake``, run ``sweep-1``."""
    return [
        f"paths.output_dir={out}",
        "experiment.name=fashion-sweeps",
        f"experiment.project={project}",
        f"experiment.api_endpoint={fake.url}",
        "experiment.run=sweep-1",
        *extra,
    ]


def two_trials(tmp_path: Path, trial) -> str:
    t1 = trial(tmp_path / "t1", "lr0.002", metrics={"val_accuracy": 0.80})
    t2 = trial(tmp_path / "t2", "lr0.008", metrics={"val_accuracy": 0.85})
    return f"trials=[{t1},{t2}]"


def created_runs(fake: Any) -> dict[str, dict[str, Any]]:
    """contextId -> body of every CreateContext of an experiment run, in order."""
    return {
        r.query["contextId"][0]: r.body
        for r in fake.sent("POST", rf"/v1/{STORE}/contexts")
        if r.body["schemaTitle"] == "system.ExperimentRun"
    }


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("select-best: error: "), result.stderr
    return result.stderr.strip()


def test_by_hand_each_trial_becomes_a_run_of_a_new_experiment(
    tmp_path: Path, cli, trial, fake_google, gcloud_env
) -> None:
    out = tmp_path / "selected"
    result = cli(two_trials(tmp_path, trial), *by_hand(fake_google, out), env=gcloud_env(fake_google))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert (
        result.stdout.splitlines()[-1]
        == f"recorded 2 trials as runs of Vertex AI experiment fashion-sweeps: {URL}"
    )
    assert (out / "best_model" / "model.pt").is_file()

    # the experiment did not exist: it is created as aiplatform.Experiment.create makes it
    assert [r.method for r in fake_google.sent("GET|POST|PATCH", r"/v1/.*")][:2] == ["GET", "POST"]
    (experiment,) = [
        r
        for r in fake_google.sent("POST", rf"/v1/{STORE}/contexts")
        if r.query["contextId"] == ["fashion-sweeps"]
    ]
    assert experiment.body == {
        "displayName": "fashion-sweeps",
        "schemaTitle": "system.Experiment",
        "schemaVersion": "0.0.1",
        "metadata": {"experiment_deleted": False},
    }
    runs = created_runs(fake_google)
    assert list(runs) == ["fashion-sweeps-sweep-1-trial-1", "fashion-sweeps-sweep-1-trial-2"]
    first, second = runs.values()
    assert first["displayName"] == "sweep-1-trial-1"
    assert (first["schemaTitle"], first["schemaVersion"]) == ("system.ExperimentRun", "0.0.1")
    assert first["metadata"]["_params"] == {
        "model.optimizer.lr": 0.002,
        "model.scheduler.max_lr": 0.002,
        "trial": 1,
    }
    assert second["metadata"]["_params"]["trial"] == 2
    assert first["metadata"]["_state"] == second["metadata"]["_state"] == "COMPLETE"
    assert set(first["metadata"]["_metrics"]) == {*NUMBERS, "selected"}
    assert first["metadata"]["_metrics"]["val_accuracy"] == 0.80
    assert (first["metadata"]["_metrics"]["selected"], second["metadata"]["_metrics"]["selected"]) == (0, 1)
    assert fake_google.context_children == {
        EXPERIMENT: [
            f"{STORE}/contexts/fashion-sweeps-sweep-1-trial-1",
            f"{STORE}/contexts/fashion-sweeps-sweep-1-trial-2",
        ]
    }
    assert all(fake_google.authorized(r) for r in fake_google.sent(".*", r"/v1/.*"))


def test_an_existing_experiment_is_not_created_again(
    tmp_path: Path, cli, trial, fake_google, gcloud_env
) -> None:
    fake_google.contexts[EXPERIMENT] = {"name": EXPERIMENT, "schemaTitle": "system.Experiment"}
    result = cli(
        two_trials(tmp_path, trial), *by_hand(fake_google, tmp_path / "out"), env=gcloud_env(fake_google)
    )
    assert result.returncode == 0, result.stderr
    assert [r.query["contextId"][0] for r in fake_google.sent("POST", rf"/v1/{STORE}/contexts")] == [
        "fashion-sweeps-sweep-1-trial-1",
        "fashion-sweeps-sweep-1-trial-2",
    ]
    assert len(fake_google.context_children[EXPERIMENT]) == 2


def test_in_a_pipeline_the_executor_input_parameters_say_where(
    tmp_path: Path, run_component, trial, fake_google, gcloud_env
) -> None:
    trials = [trial(tmp_path / "t1", "lr0.002"), trial(tmp_path / "t2", "lr0.008")]
    swept = [
        {"learning_rate": 0.002, "augment": True, "layers": [64, 32], "optimizer": "adam"},
        {"learning_rate": 0.008, "augment": False, "layers": [128], "optimizer": "sgd"},
    ]
    job = "hydra-fashion-mnist-training-20261206103000"
    parameters = {
        "trial_parameters": json.dumps(swept),
        "experiment": "fashion-sweeps",
        "project": PROJECT,
        "location": "europe-west4",
        "api_endpoint": fake_google.url,
        "pipeline_job": job,
    }
    run = run_component(trials, parameters=parameters, env=gcloud_env(fake_google))
    assert run.result.returncode == 0, run.result.stderr
    store = f"projects/{PROJECT}/locations/europe-west4/metadataStores/default"
    runs = {r.query["contextId"][0]: r.body for r in fake_google.sent("POST", rf"/v1/{store}/contexts")}
    assert list(runs) == ["fashion-sweeps", f"fashion-sweeps-{job}-trial-1", f"fashion-sweeps-{job}-trial-2"]
    assert runs[f"fashion-sweeps-{job}-trial-1"]["displayName"] == f"{job}-trial-1"
    assert runs[f"fashion-sweeps-{job}-trial-1"]["metadata"]["_params"] == {
        "learning_rate": 0.002,
        "augment": "true",
        "layers": "[64, 32]",
        "optimizer": "adam",
        "trial": 1,
    }
    assert runs[f"fashion-sweeps-{job}-trial-2"]["metadata"]["_params"]["augment"] == "false"
    assert run.result.stdout.splitlines()[-1] == (
        "recorded 2 trials as runs of Vertex AI experiment fashion-sweeps: https://console.cloud.google.com/"
        "vertex-ai/experiments/locations/europe-west4/experiments/fashion-sweeps/runs?project=demo-project"
    )


def test_a_failed_trial_is_recorded_failed(tmp_path: Path, cli, trial, fake_google, gcloud_env) -> None:
    crashed = trial(tmp_path / "crashed", "lr0.008", files=("model.pt", "config.yaml"))  # no metrics.json
    fine = trial(tmp_path / "fine", "lr0.002")
    result = cli(
        f"trials=[{crashed},{fine}]", *by_hand(fake_google, tmp_path / "out"), env=gcloud_env(fake_google)
    )
    assert result.returncode == 0, result.stderr
    failed, succeeded = created_runs(fake_google).values()
    assert failed["metadata"] == {
        "_params": {"model.optimizer.lr": 0.008, "model.scheduler.max_lr": 0.008, "trial": 1},
        "_metrics": {"selected": 0},
        "_state": "FAILED",
    }
    assert succeeded["metadata"]["_state"] == "COMPLETE"
    assert succeeded["metadata"]["_metrics"]["selected"] == 1


def test_a_retried_step_updates_the_same_runs(tmp_path: Path, cli, trial, fake_google, gcloud_env) -> None:
    trials = two_trials(tmp_path, trial)
    first = cli(trials, *by_hand(fake_google, tmp_path / "out1"), env=gcloud_env(fake_google))
    assert first.returncode == 0, first.stderr
    recorded = {name: dict(context) for name, context in fake_google.contexts.items()}
    fake_google.requests.clear()

    again = cli(trials, *by_hand(fake_google, tmp_path / "out2"), env=gcloud_env(fake_google))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == first.stdout.splitlines()[-1]
    # the runs exist: each create is answered 409 ALREADY_EXISTS and the run is updated instead
    assert list(created_runs(fake_google)) == [
        "fashion-sweeps-sweep-1-trial-1",
        "fashion-sweeps-sweep-1-trial-2",
    ]
    patched = fake_google.sent("PATCH", rf"/v1/{STORE}/contexts/.*")
    assert [r.path for r in patched] == [
        f"/v1/{STORE}/contexts/fashion-sweeps-sweep-1-trial-1",
        f"/v1/{STORE}/contexts/fashion-sweeps-sweep-1-trial-2",
    ]
    assert (
        patched[0].body["metadata"]
        == recorded[f"{STORE}/contexts/fashion-sweeps-sweep-1-trial-1"]["metadata"]
    )
    assert fake_google.contexts == recorded
    assert len(fake_google.context_children[EXPERIMENT]) == 2


def test_a_long_pipeline_job_name_gives_short_stable_ids(
    tmp_path: Path, run_component, trial, fake_google, gcloud_env
) -> None:
    trials = [trial(tmp_path / "t1", "lr0.002"), trial(tmp_path / "t2", "lr0.008")]
    job = "Hydra_Fashion_MNIST-" + "x" * 150 + "-20261206103000"
    parameters = {"experiment": "fashion-sweeps", "project": PROJECT, "location": LOCATION}
    parameters.update(api_endpoint=fake_google.url, pipeline_job=job)
    ids = []
    for attempt in ("first", "retry"):
        fake_google.requests.clear()
        run = run_component(
            trials, tmp_path / attempt / "select-best", parameters=parameters, env=gcloud_env(fake_google)
        )
        assert run.result.returncode == 0, run.result.stderr
        ids.append(list(created_runs(fake_google)))
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == 2
    digest = hashlib.sha256(("hydra-fashion-mnist-" + "x" * 150 + "-20261206103000").encode()).hexdigest()[:8]
    from google.cloud.aiplatform.metadata.constants import _EXPERIMENT_RUN_MAX_LENGTH

    for n, context_id in enumerate(ids[0], start=1):
        assert len(context_id) <= min(_EXPERIMENT_RUN_MAX_LENGTH, 122)
        assert re.fullmatch(rf"fashion-sweeps-hydra-fashion-mnist-x+-{digest}-trial-{n}", context_id), (
            context_id
        )
    assert len(fake_google.sent("PATCH", r"/v1/.*")) == 2


def test_more_than_100_runs_are_added_in_batches(tmp_path: Path, cli, trial, fake_google, gcloud_env) -> None:
    dirs = [
        trial(tmp_path / f"t{n}", metrics={"val_accuracy": n / 1000}, files=("model.pt", "metrics.json"))
        for n in range(101)
    ]
    trials = "trials=[" + ",".join(map(str, dirs)) + "]"
    result = cli(trials, *by_hand(fake_google, tmp_path / "out"), env=gcloud_env(fake_google))
    assert result.returncode == 0, result.stderr
    batches = fake_google.sent("POST", rf"/v1/{EXPERIMENT}:addContextChildren")
    assert [len(b.body["childContexts"]) for b in batches] == [100, 1]
    assert len(fake_google.context_children[EXPERIMENT]) == 101
    assert "recorded 101 trials as runs of Vertex AI experiment fashion-sweeps" in result.stdout


def _run_noting_imports(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """select-best in a process that says on exit whether it imported aiplatform."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('aiplatform imported:', 'google.cloud.aiplatform' in sys.modules))\n"
        f"sys.argv = ['select-best', *{args!r}]\n"
        "from select_best.cli import main\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_a_project_a_note_is_printed_and_nothing_recorded(
    tmp_path: Path, trial, fake_google, gcloud_env
) -> None:
    args = [two_trials(tmp_path, trial), *by_hand(fake_google, tmp_path / "out", project="")]
    result = _run_noting_imports(args, gcloud_env(fake_google), tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-2:] == [
        "note: experiment fashion-sweeps is set but no project: the trials are not recorded in Vertex AI "
        "Experiments",
        "aiplatform imported: False",
    ]
    assert fake_google.requests == []
    assert (tmp_path / "out" / "best_model" / "model.pt").is_file()


def test_no_experiment_makes_no_request_and_imports_nothing(
    tmp_path: Path, trial, fake_google, gcloud_env
) -> None:
    args = [two_trials(tmp_path, trial), *by_hand(fake_google, tmp_path / "out"), "experiment.name="]
    result = _run_noting_imports(args, gcloud_env(fake_google), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "aiplatform imported: False"
    assert "best: trial 2" in result.stdout.splitlines()[-2]
    assert fake_google.requests == []


@pytest.mark.parametrize("name", ["Fashion-Sweeps", "fashion_sweeps", "-sweeps", "x" * 129])
def test_a_bad_experiment_name_is_one_error(
    tmp_path: Path, cli, trial, fake_google, gcloud_env, name
) -> None:
    out = tmp_path / "out"
    result = cli(two_trials(tmp_path, trial), *by_hand(fake_google, out), f"experiment.name={name}")
    line = one_error_line(result)
    assert line == (
        f"select-best: error: experiment.name={name!r} is not a Vertex AI experiment name (lowercase letters, "
        "digits and dashes, starting with a letter or digit, at most 128 characters)"
    )
    assert not out.exists()
    assert fake_google.requests == []


def test_permission_denied_is_one_line_and_nothing_is_published(
    tmp_path: Path, cli, trial, fake_google, gcloud_env
) -> None:
    fake_google.metadata_reply = fake_google.error(
        403, "PERMISSION_DENIED", f"Permission 'aiplatform.metadataStores.get' denied on resource '{STORE}'."
    )
    out = tmp_path / "out"
    result = cli(two_trials(tmp_path, trial), *by_hand(fake_google, out), env=gcloud_env(fake_google))
    line = one_error_line(result)
    assert line == (
        "select-best: error: recording trials in experiment fashion-sweeps: 403 Forbidden: Permission "
        f"'aiplatform.metadataStores.get' denied on resource '{STORE}'. (the pipeline's service account needs "
        "roles/aiplatform.user on project demo-project)"
    )
    assert not out.exists()
    assert "best:" not in result.stdout


def test_without_credentials_it_is_one_line(tmp_path: Path, cli, trial, fake_google, gcloud_env) -> None:
    out = tmp_path / "out"
    result = cli(two_trials(tmp_path, trial), *by_hand(fake_google, out), env=gcloud_env(None))
    line = one_error_line(result)
    assert line.startswith(
        "select-best: error: recording trials in experiment fashion-sweeps: no Google credentials found "
        "(Application Default Credentials)"
    )
    assert not out.exists()
    assert fake_google.requests == []


def test_an_unreachable_endpoint_is_one_line(tmp_path: Path, cli, trial, fake_google, gcloud_env) -> None:
    out = tmp_path / "out"
    args = by_hand(fake_google, out, "experiment.api_endpoint=http://127.0.0.1:1")
    result = cli(two_trials(tmp_path, trial), *args, env=gcloud_env(fake_google))
    line = one_error_line(result)
    assert line.startswith(
        "select-best: error: recording trials in experiment fashion-sweeps: cannot reach http://127.0.0.1:1: "
        "ConnectionError: "
    )
    assert not out.exists()


# -- the settings and the names, without a process


def test_the_executor_input_wins_over_the_config() -> None:
    cfg = {
        "name": "from-config",
        "project": "p1",
        "location": "us-central1",
        "api_endpoint": "",
        "run": "cfg",
    }
    given = {"experiment": "from-pipeline", "project": "p2", "pipeline_job": "Job_1"}
    settings = experiment_settings(cfg, given)
    assert (settings.name, settings.project, settings.location, settings.run) == (
        "from-pipeline",
        "p2",
        "us-central1",
        "job-1",
    )
    assert settings.endpoint == "us-central1-aiplatform.googleapis.com"
    assert settings.store == "projects/p2/locations/us-central1/metadataStores/default"


def test_without_a_run_name_the_runs_are_named_by_the_utc_time() -> None:
    now = datetime(2026, 12, 6, 10, 30, 5, tzinfo=timezone.utc)
    cfg = {"name": "e", "project": "p", "location": "us-central1", "run": ""}
    assert experiment_settings(cfg, {}, now).run == "20261206-103005"
    assert (
        experiment_settings({**cfg, "run": 20261206}, {}, now).run == "20261206"
    )  # Hydra reads it as an int


def test_no_experiment_is_no_settings() -> None:
    settings = experiment_settings({"name": "", "project": "p"}, {"location": "x/y"})
    assert not settings.records and settings.note is None


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"project": "a/b"}, r"^project='a/b' is not a Google Cloud project ID$"),
        ({"location": ""}, r"^location='' is not a Vertex AI location"),
        ({"experiment": ["a"]}, r"^experiment is \['a'\]: expected a string$"),
    ],
)
def test_bad_settings_are_one_error(given: dict[str, Any], message: str) -> None:
    cfg = {"name": "e", "project": "p", "location": "us-central1"}
    with pytest.raises(SelectError, match=message):
        experiment_settings(cfg, {"experiment": "e", **given})


def test_run_names_fit_and_stay_unique() -> None:
    assert run_names("exp", "job-1", 2, MAX_ID) == [
        ("job-1-trial-1", "exp-job-1-trial-1"),
        ("job-1-trial-2", "exp-job-1-trial-2"),
    ]
    run = "r" * 200
    names = run_names("exp", run, 12, MAX_ID)
    assert names == run_names("exp", run, 12, MAX_ID)
    assert max(len(context_id) for _, context_id in names) == MAX_ID
    assert len({context_id for _, context_id in names}) == 12
    prefixes = {name.rsplit("-trial-", 1)[0] for name, _ in names}
    assert prefixes == {
        "r" * (MAX_ID - len("exp--trial-12") - 9) + "-" + hashlib.sha256(run.encode()).hexdigest()[:8]
    }
    # two long runs that share their start stay apart
    assert run_names("exp", run + "a", 1, MAX_ID) != run_names("exp", run + "b", 1, MAX_ID)


def test_an_experiment_name_that_leaves_no_room_for_runs_is_refused() -> None:
    with pytest.raises(SelectError, match="too long to name its runs"):
        run_names("e" * 110, "a-long-pipeline-job", 1, MAX_ID)
