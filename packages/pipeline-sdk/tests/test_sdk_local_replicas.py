"""`pipeline-sdk run` of a multi-replica step: one local process per replica, each with the CLUSTER_SPEC
Vertex AI would give it; a failing replica ends the others; Ctrl-C stops them all."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_sdk.local.cluster_handler import cluster_specs, free_ports
from pipeline_sdk.params import quote_for_hydra

PROBE = Path(__file__).with_name("replica_probe.py")
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")


@pytest.fixture
def replica_train(component: Callable[..., Path]) -> Path:
    """configs/components/train.yaml run by the replica probe instead of the trainer."""
    return component(
        "replica_train", "train", {"image": "localhost/probe:1", "command": [sys.executable, str(PROBE)]}
    )


def run_args(tiny_data_prepare: Path, replica_train: Path, runs: Path, replicas: int) -> list[str]:
    return [
        "run",
        f"steps.data-prepare.component={tiny_data_prepare}",
        f"steps.train.component={replica_train}",
        f"steps.train.resources.replica_count={replicas}",
        f"local.root={runs}",
        "--run-name",
        "r",
    ]


def replica_records(task_dir: Path) -> dict[str, dict]:
    return {
        p.stem.removeprefix("replica-"): json.loads(p.read_text())
        for p in sorted(task_dir.glob("replica-*.json"))
    }


def test_each_replica_gets_the_cluster_spec_vertex_builds(
    sdk: Callable, tiny_data_prepare: Path, replica_train: Path, runs: Path
) -> None:
    result = sdk(*run_args(tiny_data_prepare, replica_train, runs, 3))
    assert result.returncode == 0, result.stderr
    task_dir = runs / "r" / "train"
    records = replica_records(task_dir)
    assert set(records) == {"workerpool0-0", "workerpool1-0", "workerpool1-1"}
    specs = [r["cluster_spec"] for r in records.values()]
    cluster = specs[0]["cluster"]
    assert all(spec["cluster"] == cluster for spec in specs)  # one cluster, seen from each replica
    assert len(cluster["workerpool0"]) == 1 and len(cluster["workerpool1"]) == 2
    addresses = cluster["workerpool0"] + cluster["workerpool1"]
    assert all(re.fullmatch(r"127\.0\.0\.1:\d+", a) for a in addresses) and len(set(addresses)) == 3
    assert {(s["task"]["type"], s["task"]["index"]) for s in specs} == {
        ("workerpool0", 0),
        ("workerpool1", 0),
        ("workerpool1", 1),
    }
    assert {s["environment"] for s in specs} == {"cloud"}
    assert len({r["pid"] for r in records.values()}) == 3
    # replica 0 logs to log.txt, replica i to log-replica-i.txt
    assert "probe replica workerpool0:0" in (task_dir / "log.txt").read_text()
    assert "probe replica workerpool1:0" in (task_dir / "log-replica-1.txt").read_text()
    assert "probe replica workerpool1:1" in (task_dir / "log-replica-2.txt").read_text()
    record = result.run_json()
    assert record["tasks"]["train"]["replicas"] == 3
    assert record["tasks"]["data-prepare"]["replicas"] == 1
    assert record["tasks"]["train"]["state"] == "SUCCEEDED"
    # the command line is the worker pools' (the trainer's args), not GCPC's launcher
    assert record["tasks"]["train"]["command"][:2] == [sys.executable, str(PROBE)]
    assert (task_dir / "model" / "model.pt").is_file()


def test_a_failing_replica_ends_the_others_and_is_named(
    sdk: Callable, clean_error: Callable, tiny_data_prepare: Path, replica_train: Path, runs: Path
) -> None:
    env = {"PROBE_FAIL_REPLICA": "workerpool1:1", "PROBE_SLEEP": "600"}
    result = sdk(*run_args(tiny_data_prepare, replica_train, runs, 3), env=env, timeout=300)
    task_dir = runs / "r" / "train"
    clean_error(
        result,
        "step 'train' replica 2 (workerpool1[1]) failed with exit code 4",
        f"last lines of {task_dir / 'log-replica-2.txt'}",
        "probe replica workerpool1:1: failing on purpose",
    )
    for record in replica_records(task_dir).values():
        assert not _alive(record["pid"])
    run = json.loads((runs / "r" / "run.json").read_text())
    assert run["state"] == "FAILED" and run["tasks"]["train"]["state"] == "FAILED"
    assert "replica 2 (workerpool1[1])" in run["tasks"]["train"]["error"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_stops_every_replica(
    repo: Path, tiny_data_prepare: Path, replica_train: Path, runs: Path
) -> None:
    env = {**os.environ, "PROBE_SLEEP": "600"}
    cmd = [
        str(Path(sys.executable).with_name("pipeline-sdk")),
        *run_args(tiny_data_prepare, replica_train, runs, 2),
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal sends it: a test runner started in the background may ignore SIGINT
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    task_dir = runs / "r" / "train"
    deadline = time.monotonic() + 300
    while len(replica_records(task_dir)) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the replicas did not start"
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    for record in replica_records(task_dir).values():
        pid = record["pid"]
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid)
    assert json.loads((runs / "r" / "run.json").read_text())["tasks"]["train"]["state"] == "CANCELLED"


def test_cluster_specs_follow_vertex_pools() -> None:
    specs = [json.loads(s) for s in cluster_specs("train", (1, 1), free_ports(2))]
    assert [s["task"] for s in specs] == [
        {"type": "workerpool0", "index": 0},
        {"type": "workerpool1", "index": 0},
    ]
    assert specs[0]["cluster"] == specs[1]["cluster"]


@pytest.mark.slow
def test_two_replicas_train_real_fashion_mnist(sdk: Callable, runs: Path) -> None:
    """The real trainer on two local replicas (CPU, gloo): world size 2, identical weights on both ranks."""
    pytest.importorskip("lightning", reason="the real trainer needs torch and lightning")
    if not FASHION_MNIST.exists():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    result = sdk(
        "run",
        "steps.train.resources.replica_count=2",
        "params.epochs=1",
        f"local.root={runs}",
        "--run-name",
        "real",
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr
    task_dir = runs / "real" / "train"
    record = result.run_json()
    assert record["tasks"]["train"]["replicas"] == 2
    metrics = json.loads((task_dir / "model" / "metrics.json").read_text())
    assert metrics["world_size"] == 2
    assert metrics["test_accuracy"] >= 0.85, metrics["test_accuracy"]
    # each rank logs the digest of its final weights: DDP kept them identical
    digests = {}
    for log in (task_dir / "log.txt", task_dir / "log-replica-1.txt"):
        found = re.findall(r"rank (\d) of 2: weights sha256 ([0-9a-f]{64})", log.read_text())
        assert len(found) == 1, log
        digests[int(found[0][0])] = found[0][1]
    assert set(digests) == {0, 1}
    assert digests[0] == digests[1] == metrics["weights_sha256"]
    # one artifact: rank 0 wrote the model; rank 1 wrote nothing beside it
    assert list((runs / "real").rglob("model.pt")) == [task_dir / "model" / "model.pt"]
    assert record["tasks"]["train"]["outputs"]["model"]["uri"] == str(task_dir / "model")


@pytest.mark.parametrize("value", ['o\'neil "q" back\\slash\nline ${oc.env:HOME} {x}', "trailing\\"])
def test_every_replica_receives_a_hostile_string_value_exactly(
    sdk: Callable, tiny_data_prepare: Path, probe_train: Path, runs: Path, value: str
) -> None:
    """The value goes through the CustomJob payload as Vertex AI handles it: pasted into the JSON as it is,
    then parsed (docs/vertex-behaviour.md); each replica's Hydra app gets exactly the value."""
    result = sdk(
        "run",
        f"steps.data-prepare.component={tiny_data_prepare}",
        f"steps.train.component={probe_train}",
        "steps.train.resources.replica_count=3",
        f"params.experiment='{quote_for_hydra(value)}'",
        f"local.root={runs}",
        "--run-name",
        "r",
    )
    assert result.returncode == 0, result.stderr
    task_dir = runs / "r" / "train"
    received = [json.loads((task_dir / "model" / "received.json").read_text())]
    received += [json.loads((task_dir / f"received-workerpool1-{i}.json").read_text()) for i in (0, 1)]
    assert [r["experiment"] for r in received] == [value] * 3


def test_a_single_replica_step_does_not_inherit_the_callers_cluster_spec(
    sdk: Callable, tiny_data_prepare: Path, probe_train: Path, runs: Path
) -> None:
    """A CLUSTER_SPEC left in the shell (from a CustomJob, or a test) would make the step believe it is some
    other replica; a local step's cluster is only what pipeline-sdk gives it."""
    stray = json.dumps({"cluster": {"workerpool0": ["h0:1"], "workerpool1": ["h1:1"]},
                        "task": {"type": "workerpool1", "index": 0}})  # fmt: skip
    result = sdk(
        "run",
        f"steps.data-prepare.component={tiny_data_prepare}",
        f"steps.train.component={probe_train}",
        f"local.root={runs}",
        env={"CLUSTER_SPEC": stray},
    )
    assert result.returncode == 0, result.stderr
    assert (result.run_dir / "train" / "model" / "received.json").is_file()  # it ran as the only replica
