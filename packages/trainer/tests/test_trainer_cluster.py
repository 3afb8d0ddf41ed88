"""Scaling out: CLUSTER_SPEC parsing, the global batch over DDP processes, and two nodes joined by CLUSTER_SPEC."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest
import torch

from trainer import TrainerError, compose_config, train
from trainer.cluster import ClusterSpec, VertexEnvironment, cluster_from_env, parse_cluster_spec
from trainer.replicas import weights_digest


def spec(cluster: dict, task: dict, **extra: object) -> str:
    return json.dumps({"cluster": cluster, "environment": "cloud", "task": task, **extra})


# what Vertex AI sets on the second worker of a 4-machine job with a reduction server pool
VERTEX = spec(
    {
        "workerpool0": ["cmle-training-workerpool0-ab-0:2222"],
        "workerpool1": [f"cmle-training-workerpool1-ab-{i}:2222" for i in range(3)],
        "workerpool2": ["cmle-training-workerpool2-ab-0:2222"],
    },
    {"type": "workerpool1", "index": 1, "trial": ""},
    job={"workerPoolSpecs": []},
)


def test_a_vertex_cluster_spec_gives_nodes_rank_and_rendezvous() -> None:
    assert parse_cluster_spec(VERTEX) == ClusterSpec(
        num_nodes=4, node_rank=2, main_address="cmle-training-workerpool0-ab-0", main_port=2222
    )
    primary = spec({"workerpool0": ["127.0.0.1:29500"], "workerpool1": ["127.0.0.1:29501"]},
                   {"type": "workerpool0", "index": 0})  # fmt: skip
    assert parse_cluster_spec(primary) == ClusterSpec(2, 0, "127.0.0.1", 29500)
    ipv6 = spec(
        {"workerpool0": ["[::1]:2222"], "workerpool1": ["[::1]:2223"]}, {"type": "workerpool1", "index": 0}
    )
    assert parse_cluster_spec(ipv6) == ClusterSpec(2, 1, "::1", 2222)


def test_no_cluster_or_a_single_replica_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLUSTER_SPEC", raising=False)
    assert cluster_from_env() is None
    monkeypatch.setenv("CLUSTER_SPEC", spec({"workerpool0": ["h:2222"]}, {"type": "workerpool0", "index": 0}))
    assert cluster_from_env() is None
    monkeypatch.setenv("CLUSTER_SPEC", VERTEX)
    assert cluster_from_env() == parse_cluster_spec(VERTEX)


def test_the_environment_reports_the_spec_to_lightning(monkeypatch: pytest.MonkeyPatch) -> None:
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    # set_global_rank also sets Lightning's process-wide rank_zero_only.rank: a later test in this process
    # would otherwise run as rank 5 and skip every rank-0-only write
    monkeypatch.setattr(rank_zero_only, "rank", rank_zero_only.rank)
    env = VertexEnvironment(parse_cluster_spec(VERTEX))
    assert (env.main_address, env.main_port, env.node_rank()) == ("cmle-training-workerpool0-ab-0", 2222, 2)
    env.set_world_size(8)
    env.set_global_rank(5)
    assert (env.world_size(), env.global_rank()) == (8, 5)


TWO = {"workerpool0": ["h0:2222"], "workerpool1": ["h1:2222"]}
BAD_SPECS = [
    ("{not json", "CLUSTER_SPEC is not valid JSON"),
    ("[]", "CLUSTER_SPEC is not a JSON object"),
    (json.dumps({"task": {"type": "workerpool0", "index": 0}}), 'CLUSTER_SPEC has no "cluster" object'),
    (json.dumps({"cluster": TWO}), 'CLUSTER_SPEC has no "task" object'),
    (spec({"workerpool1": ["h1:2222"]}, {"type": "workerpool1", "index": 0}),
     "CLUSTER_SPEC cluster.workerpool0 lists 0 replicas; the primary pool has exactly one"),
    (spec({"workerpool0": "h0:2222"}, {"type": "workerpool0", "index": 0}),
     'CLUSTER_SPEC cluster.workerpool0 is not a list of "host:port" strings'),
    (spec(TWO, {"type": "workerpool1", "index": 1}),
     "CLUSTER_SPEC task.index 1 is out of range: cluster.workerpool1 lists 1 replicas"),
    (spec(TWO, {"type": "workerpool1", "index": -1}), "CLUSTER_SPEC task.index -1 is out of range"),
    (spec(TWO, {"type": "workerpool1", "index": "0"}), 'CLUSTER_SPEC task.index is "0", not an integer'),
    (spec(TWO, {"type": "workerpool2", "index": 0}),
     'CLUSTER_SPEC task.type is "workerpool2"; the trainer runs on workerpool0 or workerpool1'),
    (spec({"workerpool0": ["h0"], "workerpool1": ["h1:2222"]}, {"type": "workerpool0", "index": 0}),
     'CLUSTER_SPEC cluster.workerpool0[0] is "h0", not "host:port" with a port from 1 to 65535'),
    (spec({"workerpool0": ["h0:2222"], "workerpool1": ["h1:99999"]}, {"type": "workerpool0", "index": 0}),
     'CLUSTER_SPEC cluster.workerpool1[0] is "h1:99999", not "host:port"'),
    (spec({"workerpool0": [":2222"], "workerpool1": ["h1:1"]}, {"type": "workerpool0", "index": 0}),
     'CLUSTER_SPEC cluster.workerpool0[0] is ":2222"'),
    (spec({"workerpool0": [2222], "workerpool1": ["h1:1"]}, {"type": "workerpool0", "index": 0}),
     'CLUSTER_SPEC cluster.workerpool0[0] is 2222, not a "host:port" string'),
    # hostile corners (issue 23)
    ("[" * 100_000, "CLUSTER_SPEC is nested too deeply"),
    (" " * (1 << 20) + "{}", "CLUSTER_SPEC is longer than 1048576 characters"),
    (spec({"workerpool0": ["127.0.0.1:\u00b2"], "workerpool1": ["h1:1"]}, {"type": "workerpool0", "index": 0}),
     'CLUSTER_SPEC cluster.workerpool0[0] is "127.0.0.1:\\u00b2", not "host:port"'),
    (spec({"workerpool0": ["\ud800:2222"], "workerpool1": ["h1:1"]}, {"type": "workerpool0", "index": 0}),
     'CLUSTER_SPEC cluster.workerpool0[0] is "\\ud800:2222": "\\ud800" is not a host name or address'),
    (spec({"workerpool0": ["h 0;rm:2222"], "workerpool1": ["h1:1"]}, {"type": "workerpool0", "index": 0}),
     'CLUSTER_SPEC cluster.workerpool0[0] is "h 0;rm:2222": "h 0;rm" is not a host name or address'),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD_SPECS)
def test_a_malformed_cluster_spec_is_one_message(text: str, message: str) -> None:
    with pytest.raises(TrainerError) as info:
        parse_cluster_spec(text)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "CLUSTER_SPEC is not valid JSON"),
        (spec(TWO, {"type": "workerpool1", "index": 3}), "CLUSTER_SPEC task.index 3 is out of range"),
    ],
)
def test_the_command_refuses_a_malformed_cluster_spec_before_writing(
    tiny_data: Path, tmp_path: Path, trainer_command: str, value: str, message: str
) -> None:
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"} | {"CLUSTER_SPEC": value}
    result = subprocess.run(
        [trainer_command, f"data.data_dir={tiny_data}", f"paths.output_dir={out}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"trainer: error: {message}")
    assert not out.exists()


def test_a_cluster_spec_against_an_explicit_num_nodes_is_refused(
    fast_overrides: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTER_SPEC", spec(TWO, {"type": "workerpool0", "index": 0}))
    cfg = compose_config([*fast_overrides, "+trainer.num_nodes=3"])
    with pytest.raises(
        TrainerError, match=r"^trainer\.num_nodes=3 but CLUSTER_SPEC describes 2 training nodes$"
    ):
        train(cfg)
    assert not Path(cfg.paths.output_dir).exists()


def test_a_batch_that_does_not_split_over_the_processes_is_refused(
    run_cli, fast, tiny_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_cli(
        f"data.data_dir={tiny_data}", f"paths.output_dir={out}", *fast,
        "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "data.batch_size=33",
    )  # fmt: skip
    assert result.returncode == 1
    # the world size is known once Lightning has resolved the devices (it logs what it found first)
    lines = [line for line in result.stderr.splitlines() if line.startswith("trainer: error:")]
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    assert lines[0] == (
        "trainer: error: data.batch_size=33 does not split evenly over 2 processes (devices x nodes): "
        "use a multiple of 2"
    )
    assert not out.exists()


@pytest.mark.slow
def test_the_global_batch_is_split_over_ddp_processes(
    run_cli, fast, tiny_data: Path, probes: Path, tmp_path: Path
) -> None:
    """Two processes take half the batch each and make as many optimiser steps per epoch as one process."""
    common = [f"data.data_dir={tiny_data}", *fast, "trainer.max_epochs=1", "data.batch_size=50"]
    record = ["+callbacks.batches._target_=trainer_probes.BatchRecorder"]
    single, double = tmp_path / "single", tmp_path / "double"
    result = run_cli(*common, f"paths.output_dir={double}", "trainer=ddp", "trainer.accelerator=cpu",
                     "trainer.devices=2", *record, f"+callbacks.batches.out_dir={double}/batches", timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    train(
        compose_config(
            [*common, f"paths.output_dir={single}", *record, f"+callbacks.batches.out_dir={single}/b"]
        )
    )
    one = json.loads((single / "b" / "rank0.json").read_text())
    ranks = [json.loads((double / "batches" / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert one == {"batch_size": 50, "batches": 10, "world_size": 1}  # 500 training images
    assert ranks == [{"batch_size": 25, "batches": 10, "world_size": 2}] * 2

    def steps(out: Path) -> int:
        return torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]

    assert steps(single) == steps(double) == 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_nodes_join_through_cluster_spec_alone(
    fashion_subset: Path, tmp_path: Path, trainer_command: str
) -> None:
    """Two `trainer` processes, each told only its CLUSTER_SPEC, train one model on real Fashion-MNIST."""
    port = _free_port()
    cluster = {"workerpool0": [f"127.0.0.1:{port}"], "workerpool1": [f"127.0.0.1:{port + 1}"]}
    base = {k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "CLUSTER_SPEC")}
    base["OMP_NUM_THREADS"] = "1"  # two processes on a small machine
    # node 1 gets its own output directory here only so the test can see that it writes nothing
    outs = [tmp_path / "model", tmp_path / "node1"]
    procs = []
    for node, task in enumerate(({"type": "workerpool0", "index": 0}, {"type": "workerpool1", "index": 0})):
        args = [f"data.data_dir={fashion_subset}", f"paths.output_dir={outs[node]}", "trainer.max_epochs=1",
                "data.val_size=1000", "progress=plain"]  # fmt: skip
        procs.append(
            subprocess.Popen(
                [trainer_command, *args],
                cwd=tmp_path,
                env=base | {"CLUSTER_SPEC": spec(cluster, task)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    logs = []
    for proc in procs:
        try:
            logs.append(proc.communicate(timeout=300)[0])
        finally:
            proc.kill()
    assert [p.returncode for p in procs] == [0, 0], "\n".join(logs)
    metrics = json.loads((outs[0] / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["epochs"] == 1
    assert sum(map(sum, metrics["confusion_matrix"])) == 2000  # each test image counted once over both ranks
    assert metrics["test_accuracy"] > 0.7
    digests = [
        re.findall(rf"rank {rank} of 2: weights sha256 ([0-9a-f]{{64}})", log)
        for rank, log in enumerate(logs)
    ]
    assert digests[0] == digests[1] == [metrics["weights_sha256"]], logs
    assert weights_digest(torch.load(outs[0] / "model.pt", weights_only=True)) == metrics["weights_sha256"]
    assert {"model.pt", "metrics.json", "config.yaml", "checkpoints"} <= {p.name for p in outs[0].iterdir()}
    assert [p for p in outs[1].rglob("*") if p.is_file()] == []  # only global rank 0 writes
