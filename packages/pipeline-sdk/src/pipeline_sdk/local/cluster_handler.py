"""Run a multi-replica CustomJob step on this machine: one process per replica, one training cluster.

Vertex AI starts every replica of a CustomJob with ``CLUSTER_SPEC`` describing the cluster
(https://cloud.google.com/vertex-ai/docs/training/distributed-training#cluster-variables): pool i is
``workerpool<i>`` (the primary replica is ``workerpool0[0]``), each replica ``host:port``, and ``task`` says
which one a process is. Here every replica is a process on 127.0.0.1 with its own free port, started with
the same command line and a ``CLUSTER_SPEC`` built the same way, so the trainer joins a real (CPU, gloo)
cluster.

Replica 0 logs to the task's ``log.txt``, replica i to ``log-replica-i.txt`` beside it. The first replica
to fail ends the others (SIGTERM, then SIGKILL after :data:`FAILURE_GRACE_S`) and the error names its log;
Ctrl-C stops them all as it stops a single step.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline_sdk.errors import StepFailed
from pipeline_sdk.local import processes
from pipeline_sdk.local.logs import Echo, copy_output, open_log, replica_log, tail
from pipeline_sdk.local.prepare import PreparedTask

#: seconds the other replicas get after SIGTERM, once one has failed, before SIGKILL
FAILURE_GRACE_S = 10.0
_POLL_S = 0.1


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def pool_and_index(pools: tuple[int, ...], replica: int) -> tuple[str, int]:
    """The pool name (``workerpool<i>``) and the index in it of replica number ``replica`` (from 0)."""
    for number, size in enumerate(pools):
        if replica < size:
            return f"workerpool{number}", replica
        replica -= size
    raise IndexError(f"replica {replica} beyond pools {pools}")


def cluster_specs(task_name: str, pools: tuple[int, ...], ports: list[int]) -> list[str]:
    """The ``CLUSTER_SPEC`` of each replica, as Vertex AI builds it for a CustomJob with these pools."""
    addresses = iter(f"127.0.0.1:{port}" for port in ports)
    cluster = {f"workerpool{n}": [next(addresses) for _ in range(size)] for n, size in enumerate(pools)}
    job = {"display_name": task_name, "worker_pool_specs": [{"replica_count": size} for size in pools]}
    specs = []
    for replica in range(sum(pools)):
        pool, index = pool_and_index(pools, replica)
        body = {
            "cluster": cluster,
            "environment": "cloud",
            "task": {"type": pool, "index": index},
            "job": job,
        }
        specs.append(json.dumps(body))
    return specs


@dataclass
class _Replica:
    name: str  # "replica N (workerpoolP[I])"
    log_path: Path
    process: subprocess.Popen[str]
    copier: threading.Thread


def _start(task: PreparedTask, number: int, spec: str, log_path: Path, echo: Echo | None) -> _Replica:
    log = open_log(log_path, task.command, env_shown=f"CLUSTER_SPEC='{spec}' ")
    process = processes.start(
        task.name, task.command, task.task_root, {**task.env, "CLUSTER_SPEC": spec}, log
    )
    assert process.stdout is not None
    prefixed = (
        None if echo is None else (echo if number == 0 else lambda line: echo(f"[replica {number}] {line}"))
    )
    copier = threading.Thread(target=copy_output, args=(process.stdout, log, prefixed), daemon=True)
    copier.start()
    pool, index = pool_and_index(task.pools, number)
    return _Replica(f"replica {number} ({pool}[{index}])", log_path, process, copier)


def _first_failure(replicas: list[_Replica]) -> _Replica | None:
    """Wait until every replica exited 0 (``None``) or one exited otherwise (that one)."""
    while True:
        codes = [r.process.poll() for r in replicas]
        failed = [r for r, code in zip(replicas, codes, strict=True) if code not in (None, 0)]
        if failed:
            return failed[0]
        if all(code == 0 for code in codes):
            return None
        time.sleep(_POLL_S)


def run_cluster(task: PreparedTask, log_path: Path, echo: Echo | None = None) -> int:
    """Run the replicas of ``task`` as one cluster; 0 when all succeed, else :class:`StepFailed` naming the
    first replica that failed and quoting the tail of its log."""
    specs = cluster_specs(task.name, task.pools, free_ports(task.replicas))
    replicas: list[_Replica] = []
    try:
        for number, spec in enumerate(specs):
            replicas.append(_start(task, number, spec, replica_log(log_path, number), echo))
        failed = _first_failure(replicas)
        if failed is not None:
            processes.stop(
                [r.process for r in replicas], ((signal.SIGTERM, FAILURE_GRACE_S), (signal.SIGKILL, None))
            )
    except BaseException:
        processes.stop([r.process for r in replicas])
        raise
    finally:
        for replica in replicas:
            replica.copier.join(timeout=5)
    if failed is None:
        return 0
    code = failed.process.returncode
    raise StepFailed(
        task.name,
        f"{failed.name} failed with exit code {code}; the other replicas were stopped",
        failed.log_path,
        tail(failed.log_path),
    )


__all__ = ["FAILURE_GRACE_S", "cluster_specs", "free_ports", "pool_and_index", "run_cluster"]
