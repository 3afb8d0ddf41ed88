"""Bad input through the real `pipeline-sdk` console script: exit code, one message, no traceback, and what
is left on disk. Each row is one case a hostile or careless user tried (issue 11)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SDK = shutil.which("pipeline-sdk", path=str(Path(sys.executable).parent)) or "pipeline-sdk"
INJECTED = "'a\nsecurityInjected: {evil: true}\n---\nreplaced: true\n#'"


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str | bytes, ...]
    code: int
    message: str  # what the one stderr line must contain
    edit_config: tuple[str, str] | None = None  # (old, new) text in a copy of configs/pipeline.yaml


CASES = [
    Case("yaml-syntax", ("compile",), 1, "pipeline.yaml:20:9: YAML syntax error: expected ',' or ']'",
         ("params:\n", "params: [1,\n")),
    Case("unknown-key-in-file", ("compile",), 1, "pipeline.yaml:1:1: unknown config key 'paramz'",
         ("# pipeline-sdk", "paramz: 1\n# pipeline-sdk")),
    Case("wrong-type-in-file", ("compile",), 1, "pipeline.yaml:20:3: params.epochs: 'abc' is not an Integer",
         ("  epochs: 6\n", "  epochs: abc\n")),
    Case("nul-in-a-value", ("compile",), 1, "params.experiment: 'a\\x00b' contains a NUL character",
         ("  experiment: fashion_mnist_cnn\n", '  experiment: "a\\0b"\n')),
    Case("undecodable-description", ("compile", b"pipeline.description='x\x85y'"), 1,
         "override \"pipeline.description='x\\udc85y'\": pipeline.description: 'x\\udc85y' is not valid text"),
    Case("newline-in-an-unquoted-use", ("run", "params.dataset='fashion\nmnist'"), 1,
         "params.dataset: the value 'fashion\\nmnist' cannot reach task 'data-prepare' verbatim"),
    Case("nul-in-a-value-run", ("run",), 1, "params.experiment: 'a\\x00b' contains a NUL character",
         ("  experiment: fashion_mnist_cnn\n", '  experiment: "a\\0b"\n')),
    Case("local-images-dry-run", ("submit", "--dry-run", "gcp.project=p", "gcp.pipeline_root=gs://demo-bucket/runs"), 1,
         "Vertex AI cannot pull hydra-vertex-data-prepare (localhost/hydra-components/hydra-vertex-data-prepare:"),
    Case("local-images-kfp", ("submit", "backend=kfp", "kfp.host=http://127.0.0.1:9", "--dry-run"), 1,
         "Kubeflow Pipelines cannot pull hydra-vertex-data-prepare (localhost/"),
    # scaling out (issue 14)
    Case("zero-replicas", ("compile", "steps.train.resources.replica_count=0"), 1,
         "steps.train.resources.replica_count: 0 is not a number of machines (1 or more)"),
    Case("negative-replicas-run", ("run", "steps.train.resources.replica_count=-1"), 1,
         "steps.train.resources.replica_count: -1 is not a number of machines (1 or more)"),
    Case("machine-without-the-gpu", ("compile", "steps.train.resources.machine_type=n1-standard-8"), 1,
         "steps.train.resources.machine_type: 'n1-standard-8' cannot hold 1 x NVIDIA_L4"),
    Case("gpu-count-the-machine-lacks", ("compile", "steps.train.resources.machine_type=g2-standard-8",
                                         "steps.train.resources.accelerator_count=2"), 1,
         "steps.train.resources.machine_type: 'g2-standard-8' cannot hold 2 x NVIDIA_L4 (it comes with 1 x NVIDIA_L4)"),
    Case("gpu-count-no-machine-has", ("submit", "--dry-run", "gcp.project=p", "gcp.pipeline_root=gs://demo-bucket/runs",
                                      "steps.train.resources.replica_count=2",
                                      "steps.train.resources.accelerator_count=3"), 1,
         "steps.train.resources.accelerator_count: no Vertex AI machine holds 3 x NVIDIA_L4 (counts offered: 1, 2, 4, 8)"),
    Case("gpu-count-no-machine-has-plain-step", ("compile", "steps.train.resources.accelerator_count=3"), 1,
         "override 'steps.train.resources.accelerator_count=3': steps.train.resources.accelerator_count: "
         "no Vertex AI machine holds 3 x NVIDIA_L4 (counts offered: 1, 2, 4, 8)"),
    Case("spot-on-kfp", ("submit", "backend=kfp", "kfp.host=http://127.0.0.1:9", "steps.train.scheduling.strategy=SPOT"),
         1, "steps.train (strategy=SPOT) runs as a Vertex AI CustomJob, which backend=kfp cannot start"),
    # sweeps (issue 15)
    Case("sweep-of-a-step-setting", ("run", "-m", "steps.train.retries=1,2"), 1,
         "'steps.train.retries=1,2': only pipeline parameters (params.NAME) can be swept"),
    Case("sweep-too-large", ("submit", "--dry-run", "gcp.project=p", "gcp.pipeline_root=gs://demo-bucket/runs",
                             "-m", "params.seed=range(70)"), 1,
         "sweep.max_trials: the sweep has 70 trials, more than sweep.max_trials=64"),
    Case("sweep-without-m", ("run", "params.learning_rate=0.1,0.2"), 2,
         "'params.learning_rate=0.1,0.2' is a sweep over several values: add -m"),
    Case("spot-selection-step", ("compile", "-m", "params.seed=1,2", "+sweep.steps.select-best.scheduling.strategy=SPOT"),
         1, "sweep.steps.select-best: a sweep step that runs after failed trials cannot be a Vertex AI CustomJob"),
    Case("parallel-zero", ("run", "--parallel", "0", "-m", "params.epochs=1,2"), 2, "--parallel must be positive"),
    # what the services would substitute or break on (issue 22, docs/vertex-behaviour.md)
    Case("placeholder-in-a-value", ("run", "params.experiment='{{$.inputs.parameters[\\'seed\\']}}'"), 1,
         "params.experiment: \"{{$.inputs.parameters['seed']}}\" holds '{{$', which Vertex AI and the KFP backend"),
    Case("placeholder-in-a-swept-value", ("compile", "-m", "params.experiment=a,'x{{$}}'"), 1,
         "holds '{{$', which Vertex AI and the KFP backend may substitute again"),
    # names, files, limits (issue 23)
    Case("step-named-like-the-loop", ("compile", "-m", "params.seed=1,2",
                                      "+steps.for-loop-2={component: configs/components/data_prepare.yaml}"), 1,
         "steps.for-loop-2: 'for-loop-2' has the form of a generated task name"),
    Case("step-named-like-a-trial", ("run", "+sweep.steps.train-trial-1={component: configs/components/data_prepare.yaml}"),
         1, "sweep.steps.train-trial-1: 'train-trial-1' has the form of a generated task name"),
    Case("compile-into-a-directory", ("compile", "-o", "."), 1, "cannot write .: not a regular file (a directory)"),
    Case("replicas-past-the-machine", ("run", "steps.train.resources.replica_count=100000"), 1,
         "steps.train.resources.replica_count=100000 starts 100000 processes at once, more than this machine"),
    Case("parallel-trials-past-the-limit", ("run", "-m", "params.seed=range(0,64)", "--parallel", "64",
                                            "local.max_processes=4"), 1,
         "--parallel 64 starts 64 processes at once, more than local.max_processes allows (4)"),
    Case("max-processes-zero", ("run", "local.max_processes=0"), 1, "local.max_processes: must be at least 1"),
    Case("token-over-plain-http", ("submit", "--dry-run", "gcp.project=p", "gcp.pipeline_root=gs://demo-bucket/runs",
                                   "images.registry=example.com/ml", "--no-check-images",
                                   "gcp.api_endpoint=http://10.1.2.3:8080"), 1,
         "gcp.api_endpoint http://10.1.2.3:8080 is plain HTTP: the access token would cross the network unencrypted"),
    Case("publish-over-plain-http", ("publish", "--host", "http://templates.example.com/p/r"), 1,
         "--host http://templates.example.com/p/r is plain HTTP"),
    Case("run-name-outside-the-root", ("run", "--run-name", "../escaped"), 1,
         "--run-name '../escaped' is not a directory name under local.root"),
    Case("component-is-a-directory", ("compile", "steps.train.component=/etc"), 1,
         "steps.train.component: /etc is a directory, not a component YAML"),
    Case("component-is-not-a-component", ("compile", "steps.train.component=/etc/passwd"), 1,
         "steps.train.component: /etc/passwd is not a KFP component YAML"),
    Case("sweep-value-hydra-cannot-parse", ("compile", "-m", "params.experiment=é,日本語"), 1,
         "'params.experiment=é,日本語': token recognition error at: 'é'"),
    Case("sweep-of-nothing", ("compile", "-m", "params.experiment=choice()"), 1, "empty choice is not legal"),
    Case("sweep-value-error-names-the-trial", ("compile", "-m", "params.dataset=a,'[1,2]'"), 1,
         "error: sweep trial 2 (dataset='[1,2]'): params.dataset: the value '[1,2]' cannot reach"),
    Case("argument-too-long", ("run",), 1, "would be longer than one command-line argument can be (131072 bytes", ("  experiment: fashion_mnist_cnn\n",
                                                                    "  experiment: " + "x" * 200_000 + "\n")),
    Case("sweep-counted-before-made", ("compile", "-m", "params.seed=shuffle(range(0,100000000))"), 1,
         "sweep: 100000000 trials; Vertex AI collects at most 100"),
    Case("float-sweep-counted-before-made", ("compile", "-m", "params.learning_rate=range(0,1,0.00000001)"), 1,
         "sweep: 100000000 trials; Vertex AI collects at most 100"),
    # the steps after training (issue 26)
    Case("deploy-without-register", ("compile", "deploy.enabled=true"), 1,
         "deploy.enabled: deploys the version the register step makes: set register.enabled"),
    Case("promote-by-a-test-metric", ("run", "register.enabled=true", "register.promote.metric=test_accuracy"), 1,
         "register.promote.metric: 'test_accuracy': choosing by a test metric leaks the test set"),
    Case("negative-margin", ("compile", "register.promote.margin=-0.1"), 1,
         "register.promote.margin: must be 0 or more, got -0.1"),
    Case("traffic-past-all", ("compile", "deploy.traffic_percentage=101"), 1,
         "deploy.traffic_percentage: must be 0 to 100, got 101"),
    Case("replicas-upside-down", ("compile", "deploy.min_replicas=3", "deploy.max_replicas=2"), 1,
         "deploy.max_replicas: 2 is below deploy.min_replicas (3)"),
    Case("serving-accelerator-unknown", ("compile", "register.enabled=true", "deploy.enabled=true",
                                         "deploy.accelerator_type=NVIDIA_L5", "deploy.accelerator_count=1"), 1,
         "deploy.accelerator_type: 'NVIDIA_L5'"),
    Case("register-a-missing-step", ("compile", "register.enabled=true", "register.model=trian.outputs.model"), 1,
         "register.inputs.model: no step 'trian'"),
    Case("register-a-trial-in-a-sweep", ("compile", "-m", "params.seed=1,2", "register.enabled=true",
                                         "register.sweep_model=train.outputs.model"), 1,
         "register.inputs.model: the trials' outputs arrive as a list"),
    Case("serve-nothing", ("serve", "no/such/dir"), 2, "no/such/dir does not exist"),
    Case("serve-a-plain-directory", ("serve", "."), 2, "is neither a model directory (model.pt, config.yaml, "
         "metrics.json) nor a run directory (run.json)"),
    Case("serve-a-bad-port", ("serve", ".", "--port", "70000"), 2, "--port must be 0 to 65535, got 70000"),
    # environments and `runs` (issue "Operate it")
    Case("env-misspelt", ("submit", "--dry-run", "env=prd"), 2,
         "env=prd: no such environment; choose from example-prod, local"),
    Case("env-misspelt-runs", ("runs", "list", "env=prd"), 2,
         "env=prd: no such environment; choose from example-prod, local"),
    Case("env-unknown-key", ("compile", "env=example-prod"), 1,
         "env/example-prod.yaml:20:3: unknown config key 'gcp.projcet'", ("  project: my-prod", "  projcet: x\n  project: my-prod")),
    Case("runs-bad-state", ("runs", "list", "--state", "DONE"), 2,
         "--state DONE: not a state of Vertex AI pipeline jobs; choose from QUEUED, PENDING, RUNNING"),
    Case("runs-bad-state-kfp", ("runs", "list", "backend=kfp", "--state", "STOPPED"), 2,
         "--state STOPPED: not a state of Kubeflow Pipelines runs"),
    Case("runs-zero-limit", ("runs", "list", "--limit", "0"), 2, "--limit must be at least 1, got 0"),
    Case("runs-word-limit", ("runs", "list", "--limit", "many"), 2, "argument --limit: invalid int value: 'many'"),
    Case("runs-bad-run", ("runs", "show", "../etc/passwd"), 2, "RUN '../etc/passwd' is not a pipeline job"),
    Case("runs-bad-kfp-run", ("runs", "cancel", "a b", "backend=kfp"), 2, "RUN 'a b' is not a KFP run"),
    Case("runs-no-run", ("runs", "cancel"), 2, "runs cancel takes one RUN, got no RUN"),
    Case("runs-two-runs", ("runs", "show", "a", "b"), 2, "runs show takes one RUN, got 2 runs (a, b)"),
    Case("runs-unknown-action", ("runs", "stop", "a"), 2, "unknown action 'stop'; choose from list, show, cancel"),
    Case("runs-without-credentials", ("runs", "list"), 1, "no usable Google Cloud credentials"),
    Case("runs-kfp-without-host", ("runs", "show", "r1", "backend=kfp"), 1, "kfp.host=None is not a URL"),
    # Vertex AI TensorBoard (pipeline_sdk.tensorboard)
    Case("tensorboard-not-an-instance", ("compile", "gcp.tensorboard=my-tensorboard"), 1,
         "gcp.tensorboard: 'my-tensorboard' is not a TensorBoard instance (projects/P/locations/L/tensorboards/ID)"),
    Case("tensorboard-other-region", ("compile", "gcp.tensorboard=projects/p/locations/europe-west4/tensorboards/1",
                                      "gcp.service_account=sa@p.iam.gserviceaccount.com", "gcp.pipeline_root=gs://bkt/r"), 1,
         "gcp.tensorboard: the TensorBoard instance is in europe-west4 but the pipeline runs in us-central1"),
    # schedules (checked before any network call; docs/vertex-behaviour.md, schedules)
    Case("schedule-cron-four-fields", ("schedule", "create", "nightly", "--cron", "0 3 * *"), 2,
         "--cron '0 3 * *' has 4 fields; a cron has 5: minute hour day-of-month month day-of-week"),
    Case("schedule-cron-bad-minute", ("schedule", "create", "nightly", "--cron", "61 3 * * *"), 2,
         "--cron '61 3 * * *': minute 61 is out of range 0-59"),
    Case("schedule-unknown-time-zone", ("schedule", "create", "nightly", "--cron", "0 3 * * *", "--time-zone",
                                        "Europe/Berlln"), 2, "--time-zone 'Europe/Berlln' is not a time zone; did you mean Europe/Berlin"),
    Case("schedule-end-before-start", ("schedule", "create", "nightly", "--cron", "0 3 * * *", "--start-time",
                                       "2031-01-02", "--end-time", "2031-01-01"), 2,
         "--end-time 2031-01-01 is not after --start-time 2031-01-02"),
    Case("schedule-zero-concurrency", ("schedule", "create", "nightly", "--cron", "0 3 * * *",
                                       "--max-concurrent-runs", "0"), 2, "--max-concurrent-runs must be at least 1, got 0"),
    Case("schedule-kfp-time-zone", ("schedule", "create", "nightly", "--cron", "0 3 * * *", "--time-zone", "UTC",
                                    "backend=kfp", "kfp.host=http://127.0.0.1:9"), 2,
         "--time-zone: Kubeflow Pipelines reads every cron in its scheduler's time zone"),
    Case("schedule-bad-name", ("schedule", "delete", "../x"), 2, "schedule name '../x': use letters, digits"),
    Case("schedule-unknown-action", ("schedule", "stop", "x"), 2,
         "unknown action 'stop'; choose from create, list, pause, resume, delete"),
    Case("schedule-without-credentials", ("schedule", "pause", "nightly"), 1, "no usable Google Cloud credentials"),
    # notifications when a run ends
    Case("notify-bad-email", ("compile", "notify.emails=[ops@example.com,not-an-address]"), 1,
         "notify.emails[1]: 'not-an-address' is not an email address"),
    Case("notify-bad-on", ("compile", "notify.emails=[ops@example.com]", "notify.on=sometimes"), 1,
         "notify.on: 'sometimes' is not one of failure, always"),
    Case("notify-bad-secret-name", ("compile", "backend=kfp", "notify.webhook.secret=Hook_URL"), 1,
         "notify.webhook.secret: 'Hook_URL' is not a Kubernetes secret name"),
    Case("notify-bad-env-name", ("compile", "backend=kfp", "notify.webhook.secret=hook", "notify.webhook.env=1URL"), 1,
         "notify.webhook.env: '1URL' is not an environment variable name"),
    Case("notify-email-on-kfp", ("compile", "backend=kfp", "notify.emails=[ops@example.com]"), 1,
         "notify.emails: Kubeflow Pipelines sends no email"),
    Case("notify-webhook-on-vertex", ("run", "notify.webhook.secret=hook"), 1,
         "notify.webhook.secret: Vertex AI has no Kubernetes secrets"),
]  # fmt: skip


def run_sdk(
    args: tuple[str | bytes, ...], tmp_path: Path, config_dir: Path
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "HYDRA_", "PIPELINE_SDK_"))}
    env.update(PIPELINE_SDK_CONFIG_DIR=str(config_dir), HOME=str(tmp_path / "home"), NO_GCE_CHECK="True")
    command, *rest = args
    extra = [f"local.root={tmp_path / 'runs'}"] if command == "run" else []
    output = ["-o", str(tmp_path / "out" / "p.yaml")] if command == "compile" else []
    return subprocess.run(
        [SDK, command, *output, *extra, *rest], cwd=tmp_path, env=env, capture_output=True, timeout=300,
        text=True, errors="backslashreplace",
    )  # fmt: skip


def config_copy(tmp_path: Path, edit: tuple[str, str] | None) -> Path:
    directory = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", directory)
    text = (ROOT / "configs" / "pipeline.yaml").read_text()
    env = directory / "env" / "example-prod.yaml"
    if edit and edit[0] in env.read_text():  # an edit of an environment's file
        env.write_text(env.read_text().replace(*edit, 1))
    elif edit:
        assert edit[0] in text
        (directory / "pipeline.yaml").write_text(text.replace(*edit, 1))
    return directory


def leftovers(tmp_path: Path) -> list[str]:
    """Files a failed command left in its output places (the compile output dir, local.root)."""
    found = []
    for place in ("out", "runs"):
        if (tmp_path / place).exists():
            found += [str(p.relative_to(tmp_path)) for p in (tmp_path / place).rglob("*")]
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_message_and_leaves_nothing(tmp_path: Path, case: Case) -> None:
    config_dir = config_copy(tmp_path, case.edit_config)
    result = run_sdk(case.args, tmp_path, config_dir)
    command = case.args[0]
    assert result.returncode == case.code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"pipeline-sdk {command}: error: "), errors[0]
    assert case.message in errors[0], errors[0]
    assert result.stdout == ""
    assert leftovers(tmp_path) == []


def test_an_injected_value_travels_as_data_through_compile_and_submit(tmp_path: Path) -> None:
    config_dir = config_copy(tmp_path, None)
    result = run_sdk(("compile", f"params.experiment={INJECTED}"), tmp_path, config_dir)
    assert result.returncode == 0, result.stderr
    documents = list(yaml.safe_load_all((tmp_path / "out" / "p.yaml").read_text()))
    assert len(documents) == 1 and "securityInjected" not in documents[0] and "replaced" not in documents[0]
    default = documents[0]["root"]["inputDefinitions"]["parameters"]["experiment"]["defaultValue"]
    assert default == "a\nsecurityInjected: {evil: true}\n---\nreplaced: true\n#"

    dry = run_sdk(
        ("submit", "--dry-run", "gcp.project=p", "gcp.pipeline_root=gs://demo-bucket/runs", "images.registry=example.com/r",
         f"params.experiment={INJECTED}"), tmp_path, config_dir,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    body = json.loads(dry.stdout)["body"]
    assert "securityInjected" not in body["pipelineSpec"]
    assert body["runtimeConfig"]["parameterValues"]["experiment"] == default


@pytest.mark.parametrize(
    "args",
    [
        ("compile", "params.dataset=${oc.env:PIPELINE_TEST_SECRET}"),
        ("compile", "-m", "params.dataset=${oc.env:PIPELINE_TEST_SECRET},b"),
        (
            "submit",
            "--dry-run",
            "gcp.project=p",
            "gcp.pipeline_root=gs://b/r",
            "params.dataset=${oc.env:PIPELINE_TEST_SECRET}",
        ),
        ("compile",),  # from configs/pipeline.yaml
    ],
)
def test_an_error_never_shows_what_an_interpolation_resolves_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.setenv("PIPELINE_TEST_SECRET", "s3cr3t-value")
    edit = (
        ("  dataset: fashion_mnist\n", "  dataset: ${oc.env:PIPELINE_TEST_SECRET}\n")
        if len(args) == 1
        else None
    )
    result = run_sdk(args, tmp_path, config_copy(tmp_path, edit))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "${oc.env:PIPELINE_TEST_SECRET}" in result.stderr  # what the user typed
    assert "s3cr3t" not in result.stderr + result.stdout
